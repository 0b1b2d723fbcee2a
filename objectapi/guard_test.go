package objectapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A fetch whose origin name resolves to loopback is refused at dial time
// unless private origins are allowed: the guard judges the address dialled.
func TestDialGuardJudgesTheDialledAddress(t *testing.T) {
	o := newOrigin(t, content("internal secret"))
	port := o.URL[strings.LastIndexByte(o.URL, ':')+1:]
	rule := fetchRule("http://origin.example.com:" + port)                  // a public name...
	resolve := map[string]string{"origin.example.com:" + port: "127.0.0.1"} // ...that resolves to loopback

	g := newGateway(t, func(f *pull.Fetcher) { f.AllowPrivateOrigins, f.Resolve = false, resolve })
	g.setRules("bkt", rule)
	resp := g.do("GET", "/bkt/k")
	assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
	msg := g.detail(t, resp)
	assert.Contains(t, msg, "dial guard")
	assert.Contains(t, msg, "127.0.0.0/8")
	assert.Zero(t, o.hits.Load(), "no connection reached the origin")

	// Environment proxies are never used: the guard judges the origin.
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("http_proxy", "http://127.0.0.1:1")
	allowed := newGateway(t, func(f *pull.Fetcher) { f.Resolve = resolve })
	allowed.setRules("bkt", rule)
	b, err := body(allowed.do("GET", "/bkt/k"))
	require.NoError(t, err)
	assert.Equal(t, "internal secret", b, "allowed when private origins are")
}

// TestGuardControl is in pull/origin_test.go, beside the guard.
