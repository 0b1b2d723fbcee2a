package mirror

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The provider importers against testdata/providers/{oss,s3,cos}: each
// NAME.xml or NAME.json is imported and compared with NAME.native.json
// (semantically, as decoded JSON), or, for a refused document, its error
// paths with NAME.errors.json. MIRROR_UPDATE_GOLDEN=1 rewrites the files
// from the importers (review the diff).

var providerImporters = map[string]map[string]func([]byte) ([]byte, error){
	"oss": {".xml": importOSS},
	"s3":  {".xml": importS3, ".json": importS3JSON},
	"cos": {".xml": importCOS},
}

func TestProviderGolden(t *testing.T) {
	update := os.Getenv("MIRROR_UPDATE_GOLDEN") == "1"
	for provider, byExt := range providerImporters {
		files, err := filepath.Glob(filepath.Join("testdata", "providers", provider, "*"))
		require.NoError(t, err)
		n := 0
		for _, f := range files {
			ext := filepath.Ext(f)
			imp := byExt[ext]
			if imp == nil || strings.HasSuffix(f, ".native.json") || strings.HasSuffix(f, ".errors.json") ||
				strings.HasSuffix(f, "ceph-routing-rules.json") {
				continue
			}
			n++
			base := strings.TrimSuffix(f, ext)
			t.Run(provider+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				require.NoError(t, err)
				out, err := imp(data)
				if update {
					writeGolden(t, base, out, err)
					return
				}
				if want, rerr := os.ReadFile(base + ".errors.json"); rerr == nil {
					require.Error(t, err, "document should be refused")
					var paths []string
					require.NoError(t, json.Unmarshal(want, &paths))
					assert.Equal(t, paths, errorPaths(err))
					return
				}
				require.NoError(t, err)
				want, err := os.ReadFile(base + ".native.json")
				require.NoError(t, err)
				assertSameJSON(t, want, out)
			})
		}
		assert.NotZero(t, n, provider)
	}
}

func writeGolden(t *testing.T, base string, out []byte, err error) {
	_ = os.Remove(base + ".native.json")
	_ = os.Remove(base + ".errors.json")
	if err != nil {
		paths, _ := json.MarshalIndent(errorPaths(err), "", " ")
		require.NoError(t, os.WriteFile(base+".errors.json", append(paths, '\n'), 0o644))
		t.Logf("%s refused:\n%v", base, err)
		return
	}
	require.NoError(t, os.WriteFile(base+".native.json", append(out, '\n'), 0o644))
}

func errorPaths(err error) []string {
	var ce *CompileError
	if !errors.As(err, &ce) {
		return []string{"not a CompileError: " + err.Error()}
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.Path)
	}
	return out
}

func assertSameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w))
	require.NoError(t, json.Unmarshal(got, &g), string(got))
	assert.Equal(t, w, g, "got:\n%s", got)
}
