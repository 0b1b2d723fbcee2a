package objectapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	o := newOrigin(t, content("hello world", "Content-Type: text/plain", "Set-Cookie: a=1"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/a/b.txt")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, "hello world", b)
	assert.Empty(t, resp.Header.Get("Set-Cookie"))
	got, info, ok := g.stored("bkt", "a/b.txt")
	require.True(t, ok)
	assert.Equal(t, "hello world", got)
	assert.Equal(t, "text/plain", info.Header.Get("Content-Type"))
	resp = g.do("GET", "/bkt/a/b.txt")
	b, _ = body(resp)
	assert.Equal(t, "hello world", b)
	assert.Equal(t, int64(1), o.hits.Load())
	assert.NotEmpty(t, resp.Header.Get("ETag"))
}
