package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -fsync takes commit or none; anything else, or none for an S3 store,
// exits 2 saying why.
func TestServeFsyncFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "-data", t.TempDir(), "-fsync", "always"}, `invalid value "always" for flag -fsync: "always" is not commit or none`},
		{[]string{"serve", "-data", t.TempDir(), "-fsync", ""}, `is not commit or none`},
		{[]string{"serve", "-data", "s3://bucket/prefix", "-fsync", "none"}, "-fsync none is for a directory -data"},
	} {
		code, _, errOut := runCmd(t, "", c.args...)
		assert.Equal(t, 2, code, c.args)
		assert.True(t, strings.HasPrefix(errOut, "mirror: "), "%v: %q", c.args, errOut)
		assert.Contains(t, errOut, c.says, c.args)
	}
	code, out, _ := runCmd(t, "", "serve", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "-fsync mode")
}

// With -fsync none a gateway stores and serves as with commit, and a
// clean stop keeps every object for the next start.
func TestServeFsyncNone(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "origin says "+r.URL.Path)
	}))
	defer origin.Close()
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"`+origin.URL+`/site"}`), 0o600))
	data := t.TempDir()
	get := func(p *gatewayProcess, path string) string {
		resp, err := http.Get(p.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode, string(b))
		return string(b)
	}
	p := startServe(t, "-data", data, "-bucket", "my-bucket="+rules, "-allow-private-origins", "-fsync", "none")
	assert.Equal(t, "origin says /site/a.txt", get(p, "/my-bucket/a.txt"))
	require.NoError(t, p.stop(t), "stderr:\n%s", p.stderr.String())

	origin.Close()
	p = startServe(t, "-data", data, "-bucket", "my-bucket="+rules, "-allow-private-origins", "-fsync", "none")
	assert.Equal(t, "origin says /site/a.txt", get(p, "/my-bucket/a.txt"), "a hit, with the origin gone")
	require.NoError(t, p.stop(t))
}
