package pull

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"

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

	g := newGateway(t, func(f *Fetcher) { f.AllowPrivateOrigins, f.Resolve = false, resolve })
	g.setRules("bkt", rule)
	resp := g.do("GET", "/bkt/k")
	assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
	msg := errorCode(t, resp).Message
	assert.Contains(t, msg, "dial guard")
	assert.Contains(t, msg, "127.0.0.0/8")
	assert.Zero(t, o.hits.Load(), "no connection reached the origin")

	// Environment proxies are never used: the guard judges the origin.
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("http_proxy", "http://127.0.0.1:1")
	allowed := newGateway(t, func(f *Fetcher) { f.Resolve = resolve })
	allowed.setRules("bkt", rule)
	b, err := body(allowed.do("GET", "/bkt/k"))
	require.NoError(t, err)
	assert.Equal(t, "internal secret", b, "allowed when private origins are")
}

func TestGuardControl(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:443": true, "169.254.169.254:80": true, "[::ffff:169.254.169.254]:80": true,
		"10.1.2.3:8080": true, "[fd00::1]:80": true, "[2002:7f00:1::1]:80": true, "100.100.100.200:80": true,
		"8.8.8.8:53": false, "[2606:4700::1111]:443": false,
	} {
		err := guardControl(context.Background(), "tcp", addr, nil)
		var ge *GuardError
		assert.Equal(t, refused, errors.As(err, &ge), addr)
		if refused {
			assert.Equal(t, netip.MustParseAddrPort(addr).Addr().Unmap(), ge.Addr)
		}
	}
}
