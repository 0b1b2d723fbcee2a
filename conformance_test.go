package mirror

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vectorSet is one scenario of testdata/vectors/public.json (a copy of
// ../shared/vectors/public.json): a document and either the compile
// errors it must give or requests with their expected decisions.
type vectorSet struct {
	Name                string          `json:"name"`
	Format              Format          `json:"format"`
	Document            json.RawMessage `json:"document"`
	AllowPrivateOrigins bool            `json:"allowPrivateOrigins"`
	CompileErrors       []string        `json:"compileErrors"`
	Cases               []struct {
		Request struct {
			Key     string              `json:"key"`
			Query   string              `json:"query"`
			Headers map[string][]string `json:"headers"`
		} `json:"request"`
		Expect map[string]any `json:"expect"`
	} `json:"cases"`
}

func TestConformanceVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/vectors/public.json")
	require.NoError(t, err)
	var sets []vectorSet
	require.NoError(t, json.Unmarshal(data, &sets))
	require.NotEmpty(t, sets)
	for _, s := range sets {
		t.Run(s.Name, func(t *testing.T) {
			eng, err := Compiler{AllowPrivateOrigins: s.AllowPrivateOrigins}.Load(s.Document, s.Format)
			if s.CompileErrors != nil {
				require.Error(t, err)
				var ce *CompileError
				require.True(t, errors.As(err, &ce), "want a *CompileError, got %T", err)
				for _, want := range s.CompileErrors {
					assert.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			for _, c := range s.Cases {
				req := &Request{Key: c.Request.Key, RawQuery: c.Request.Query, Header: http.Header(c.Request.Headers)}
				d, err := eng.Resolve(req)
				assert.Equal(t, normalise(c.Expect), decisionJSON(d, err), "key %q", c.Request.Key)
				checkExplain(t, eng, req, d, err)
			}
		})
	}
}

// decisionJSON renders a decision the way the eval command does (docs/SEMANTICS.md §8),
// as parsed JSON, without the free-text message.
func decisionJSON(d *Decision, err error) map[string]any {
	var out map[string]any
	switch {
	case errors.Is(err, ErrNoRule):
		out = map[string]any{"matched": false}
	case errors.Is(err, ErrInvalidKey):
		out = map[string]any{"error": "InvalidKey"}
	case errors.Is(err, ErrUnsafeKey):
		out = map[string]any{"error": "UnsafeKey"}
	case errors.Is(err, ErrInvalidQuery):
		out = map[string]any{"error": "InvalidQuery"}
	case err != nil:
		out = map[string]any{"error": err.Error()}
	default:
		out = map[string]any{"matched": true, "rule": d.Rule, "mode": string(d.Mode), "urls": d.URLs}
		if len(d.Header) > 0 {
			out["headers"] = d.Header
		}
		if d.StorageClass != "" {
			out["storageClass"] = d.StorageClass
		}
		if d.Mode == ModeRedirect {
			out["redirectCode"] = d.RedirectCode
		}
	}
	return normalise(out)
}

// normalise round-trips through JSON so both sides have the same types,
// and drops the free-text message.
func normalise(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	delete(out, "message")
	if h, ok := out["headers"].(map[string]any); ok && len(h) == 0 {
		delete(out, "headers")
	}
	return out
}
