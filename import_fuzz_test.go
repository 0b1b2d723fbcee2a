package mirror

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Fuzz targets of the provider importers: no panic, bounded time, and an
// accepted document gives valid JSON with a "rules" list.

func fuzzImporter(f *testing.F, provider string, imp func([]byte) ([]byte, error), exts ...string) {
	for _, ext := range exts {
		files, _ := filepath.Glob(filepath.Join("testdata", "providers", provider, "*"+ext))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil && !isGoldenName(file) {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("<WebsiteConfiguration><RoutingRules><RoutingRule/></RoutingRules></WebsiteConfiguration>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		out, err := imp(data)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v on %d bytes", d, len(data))
		}
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		var doc struct {
			Rules []map[string]any `json:"rules"`
		}
		if json.Unmarshal(out, &doc) != nil || doc.Rules == nil {
			t.Fatalf("accepted document gave %q", out)
		}
		for _, r := range doc.Rules {
			if r["mode"] == "" || (r["resource"] == nil && r["match"] == nil) {
				t.Fatalf("rule without mode or coverage: %v", r)
			}
		}
	})
}

func isGoldenName(f string) bool {
	return filepath.Ext(filepath.Base(f[:len(f)-len(filepath.Ext(f))])) == ".native" ||
		filepath.Ext(filepath.Base(f[:len(f)-len(filepath.Ext(f))])) == ".errors" ||
		filepath.Base(f) == "ceph-routing-rules.json"
}

func FuzzImportOSS(f *testing.F) { fuzzImporter(f, "oss", importOSS, ".xml") }

func FuzzImportS3(f *testing.F) {
	fuzzImporter(f, "s3", func(b []byte) ([]byte, error) {
		if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
			return importS3JSON(b)
		}
		return importS3(b)
	}, ".xml", ".json")
}

func FuzzImportCOS(f *testing.F) { fuzzImporter(f, "cos", importCOS, ".xml") }
