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

// Every provider document of testdata/providers with a native golden
// loads through Load with its format, and decides as its golden does:
// the importer's output is a native document the engine compiles. Those
// with an error file are refused by Load, with the importer's paths.
func TestProviderDocumentsLoad(t *testing.T) {
	// TOS's API sample names the origin http://abc.123/, a host that
	// ends in a number: the engine refuses it as any origin (SEMANTICS §4).
	refusedByTheEngine := map[string]bool{"tos/api-sample": true}
	for _, f := range []Format{FormatOSS, FormatCOS, FormatS3, FormatOBS, FormatTOS} {
		files, err := filepath.Glob(filepath.Join("testdata", "providers", string(f), "*"))
		require.NoError(t, err)
		loaded := 0
		for _, file := range files {
			base := filepath.Base(file)
			if strings.Contains(base, ".native.") || strings.Contains(base, ".error") || strings.HasPrefix(base, "ceph-routing") {
				continue
			}
			name := strings.TrimSuffix(strings.TrimSuffix(base, ".xml"), ".json")
			stem := filepath.Join(filepath.Dir(file), name)
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			eng, err := Load(data, f)
			_, golden := os.Stat(stem + ".native.json")
			switch {
			case refusedByTheEngine[string(f)+"/"+name]:
				assert.Error(t, err, file)
			case golden == nil:
				if assert.NoError(t, err, file) {
					assert.Equal(t, f, eng.Format(), file)
					native, err := os.ReadFile(stem + ".native.json")
					require.NoError(t, err)
					want, err := Load(native, FormatNative)
					require.NoError(t, err, "%s.native.json compiles", stem)
					assert.Equal(t, want.Len(), eng.Len(), file)
					for i := range eng.Len() {
						assert.Equal(t, want.Rule(i), eng.Rule(i), "%s rule %d", file, i)
					}
					loaded++
				}
			default:
				var ce *CompileError
				if assert.Error(t, err, file) && assert.True(t, errors.As(err, &ce), file) {
					assert.NotEmpty(t, ce.Problems[0].Path, file)
				}
			}
		}
		assert.NotZero(t, loaded, "some %s documents load", f)
	}
}

// FormatAuto takes a provider's document only where it says whose it is.
func TestAutoDetectsProviders(t *testing.T) {
	for _, c := range []struct {
		file string
		want Format // "" : refused, asking for the format
	}{
		{"cos/api-case1-mirror.xml", FormatCOS},
		{"obs/get-sample-prefix.json", FormatOBS},
		{"tos/sdk-minimal.json", FormatTOS},
		{"s3/cli-website-configuration.json", FormatS3},
		{"s3/ug-example1.xml", ""},
		{"oss/api-sample.xml", ""},
	} {
		path := filepath.Join("testdata", "providers", c.file)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			t.Logf("%s: no such case", c.file)
			continue
		}
		require.NoError(t, err)
		eng, err := Load(data, FormatAuto)
		if c.want == "" {
			require.Error(t, err, c.file)
			assert.Contains(t, err.Error(), "format", c.file)
			continue
		}
		if assert.NoError(t, err, c.file) {
			assert.Equal(t, c.want, eng.Format(), c.file)
		}
	}
	// A native document stays native, and so does BOS's.
	eng, err := Load([]byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`), FormatAuto)
	require.NoError(t, err)
	assert.Equal(t, FormatNative, eng.Format())
}

// ceph s3-tests' website routing cases (validated against AWS S3): each
// document, imported as S3's, redirects as AWS does, to the Location
// and with the code the test expects, and the refused ones are refused.
func TestCephRoutingRules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "providers", "s3", "ceph-routing-rules.json"))
	require.NoError(t, err)
	var suite struct {
		Cases []struct {
			Document string `json:"document"`
			URL      string `json:"url"`
			Location *struct {
				Proto, Bucket, Hostname, Path string
			} `json:"location"`
			Code     int    `json:"code"`
			Importer string `json:"importer"`
			Error    string `json:"error"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &suite))
	require.NotEmpty(t, suite.Cases)
	const host = "bucket.s3-website.example.com"
	for _, c := range suite.Cases {
		doc, err := os.ReadFile(filepath.Join("testdata", "providers", "s3", c.Document))
		require.NoError(t, err)
		eng, err := Load(doc, FormatS3)
		if c.Importer != "" || c.Error != "" {
			assert.Error(t, err, "%s is refused", c.Document)
			continue
		}
		require.NoError(t, err, c.Document)
		key := strings.TrimPrefix(c.URL, "/")
		if key == "" {
			assert.Nil(t, c.Location, "the bucket's index is never redirected here")
			continue // the bucket itself: the gateway answers it, not a rule
		}
		d, err := eng.Resolve(&Request{Key: key, Host: host, Scheme: "http", Status: 404})
		if c.Location == nil {
			assert.ErrorIs(t, err, ErrNoRule, "%s %s", c.Document, c.URL)
			continue
		}
		if !assert.NoError(t, err, "%s %s", c.Document, c.URL) {
			continue
		}
		target := c.Location.Hostname
		if c.Location.Bucket != "" {
			target = host
		}
		assert.Equal(t, ModeRedirect, d.Mode, "%s %s", c.Document, c.URL)
		assert.Equal(t, c.Code, d.RedirectCode, "%s %s", c.Document, c.URL)
		assert.Equal(t, c.Location.Proto+"://"+target+c.Location.Path, d.URLs[0], "%s %s", c.Document, c.URL)
	}
}
