package mirror

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// jimpFuzz checks one importer on one input: no panic (the fuzzer sees
// one), bounded time, and an accepted document gives a native JSON
// document with a "rules" list of objects that detectJSONFormat calls
// native.
func jimpFuzz(t *testing.T, importer func([]byte) ([]byte, error), data []byte) {
	start := time.Now()
	out, err := importer(data)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v on %d bytes", d, len(data))
	}
	detectJSONFormat(data)
	if err != nil {
		if out != nil {
			t.Fatalf("output beside an error: %v", err)
		}
		if _, ok := err.(*CompileError); !ok {
			t.Fatalf("error %T is not a *CompileError: %v", err, err)
		}
		return
	}
	var doc struct {
		Rules []map[string]json.RawMessage `json:"rules"`
	}
	if e := json.Unmarshal(out, &doc); e != nil || doc.Rules == nil {
		t.Fatalf("accepted document gives no rules list: %v\n%s", e, out)
	}
	for i, r := range doc.Rules {
		if r["mode"] == nil || r["sourceUrls"] == nil {
			t.Fatalf("rules[%d] lacks mode or sourceUrls:\n%s", i, out)
		}
	}
	if f, ok := detectJSONFormat(out); !ok || f != string(FormatNative) {
		t.Fatalf("output detected as %q, %v", f, ok)
	}
}

func jimpSeeds(f *testing.F, provider string, extra ...string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "providers", provider, "*.json"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func FuzzImportOBS(f *testing.F) {
	jimpSeeds(f, "obs", obsDoc("", ""), obsDoc("a/", `"replaceKeyWith":"$${key}$",`), `{"rules":[[[[[]]]]]}`, `{"rules":null}`)
	f.Fuzz(func(t *testing.T, data []byte) { jimpFuzz(t, importOBS, data) })
}

func FuzzImportTOS(f *testing.F) {
	jimpSeeds(f, "tos", tosDoc(""), tosDoc(`"RedirectType":"Async",`), `{"Rules":[{"Redirect":{"PrivateSource":1}}]}`)
	f.Fuzz(func(t *testing.T, data []byte) { jimpFuzz(t, importTOS, data) })
}
