package objectapi

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cache-Control: only-if-cached is answered from the store, or 504
// NotCached without the origin hearing of it (docs/SERVING.md §1): what
// `mirror warm -url` asks before it pulls.
func TestOnlyIfCached(t *testing.T) {
	o := newOrigin(t, content("from the origin"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))

	for _, cc := range []string{"only-if-cached", "max-age=0, Only-If-Cached", "no-transform,ONLY-IF-CACHED"} {
		for _, method := range []string{"GET", "HEAD"} {
			resp := g.do(method, "/bkt/cold", "Cache-Control: "+cc)
			assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, "%s %s", method, cc)
			if method == "GET" {
				assert.Equal(t, "NotCached", errorCode(t, resp).Code)
			} else {
				resp.Body.Close()
			}
		}
	}
	assert.Zero(t, o.hits.Load(), "the origin never heard of it")
	assert.Zero(t, g.fetcher.Running(), "no fetch was started")
	_, _, ok := g.stored("bkt", "cold")
	assert.False(t, ok)

	// Each dialect has the code: S3's XML, QingStor's own.
	resp := g.do("GET", "/bkt/cold", "Cache-Control: only-if-cached", "X-Amz-Date: 20260101T000000Z")
	b, _ := body(resp)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Contains(t, b, "<Code>NotCached</Code>")
	resp = g.do("GET", "/bkt/cold", "Cache-Control: only-if-cached", "X-QS-Date: x")
	b, _ = body(resp)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Contains(t, b, `"code":"object_not_cached"`)

	// Stored: a hit, GET and HEAD, as without the directive.
	b, err := body(g.do("GET", "/bkt/warm"))
	require.NoError(t, err)
	require.Equal(t, "from the origin", b)
	require.EqualValues(t, 1, o.hits.Load())
	resp = g.do("GET", "/bkt/warm", "Cache-Control: only-if-cached")
	b, err = body(resp)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "from the origin", b)
	assert.NotEmpty(t, resp.Header.Get("ETag"))
	resp = g.do("HEAD", "/bkt/warm", "Cache-Control: only-if-cached")
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "15", resp.Header.Get("Content-Length"))
	assert.EqualValues(t, 1, o.hits.Load(), "hits never reach the origin")

	// Without the directive the miss is fetched as ever, and a look-alike
	// directive is not it.
	resp = g.do("GET", "/bkt/cold", "Cache-Control: only-if-cached-not")
	b, err = body(resp)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "from the origin", b)
	assert.EqualValues(t, 2, o.hits.Load())

	// A bucket with no configuration and no objects: still 504, not a
	// bucket answer, since only the store was asked.
	resp = g.do("GET", "/nobucket/k", "Cache-Control: only-if-cached")
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Equal(t, "NotCached", errorCode(t, resp).Code)
}
