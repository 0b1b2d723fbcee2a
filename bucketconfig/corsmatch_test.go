package bucketconfig_test

import (
	"net/http"
	"testing"

	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The first rule that allows the origin, the method and (for a preflight)
// every header decides, as S3's do; "*" is answered "*" without
// credentials, any other origin is echoed with them.
func TestCORSMatching(t *testing.T) {
	rules, err := bucketconfig.ParseBOSCORS([]byte(`{"corsConfiguration":[
		{"allowedOrigins":["https://app.example.com","https://*.example.org"],"allowedMethods":["GET","HEAD"],
		 "allowedHeaders":["Range","x-amz-*"],"allowedExposeHeaders":["ETag","Content-Length"],"maxAgeSeconds":600},
		{"allowedOrigins":["http://legacy*"],"allowedMethods":["PUT"]},
		{"allowedOrigins":["*"],"allowedMethods":["GET"],"allowedHeaders":["*"]}]}`))
	require.NoError(t, err)
	for _, c := range []struct {
		name, origin, method string
		headers              []string
		want                 map[string]string // nil: refused
	}{
		{"exact origin", "https://app.example.com", "GET", nil, map[string]string{
			"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": "600",
			"Access-Control-Expose-Headers": "ETag, Content-Length"}},
		{"wildcard origin, headers allowed", "https://cdn.example.org", "HEAD", []string{"range", "x-amz-date"}, map[string]string{
			"Access-Control-Allow-Origin": "https://cdn.example.org", "Access-Control-Allow-Headers": "range, x-amz-date",
			"Access-Control-Allow-Methods": "GET, HEAD"}},
		{"the wildcard needs its suffix", "https://example.org", "GET", nil, map[string]string{"Access-Control-Allow-Origin": "*"}},
		{"origins are case-sensitive", "https://APP.example.com", "HEAD", nil, nil},
		{"a header the first rule refuses falls to the next", "https://app.example.com", "GET", []string{"authorization"}, map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "authorization", "Access-Control-Allow-Credentials": ""}},
		{"a method only a later rule allows", "http://legacy.test", "PUT", nil, map[string]string{
			"Access-Control-Allow-Origin": "http://legacy.test", "Access-Control-Allow-Methods": "PUT"}},
		{"no rule allows the method", "https://app.example.com", "DELETE", nil, nil},
		{"no method", "https://app.example.com", "", nil, nil},
		{"an origin that is not plain text", "https://a b", "GET", nil, nil},
		{"no origin", "", "GET", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			ok := rules.Preflight(h, c.origin, c.method, c.headers)
			assert.Equal(t, c.want != nil, ok)
			if c.want == nil {
				assert.Empty(t, h, "a refusal sets nothing")
			}
			for name, v := range c.want {
				assert.Equal(t, v, h.Get(name), name)
			}
		})
	}

	// A GET's answer: the origin and the exposed headers, never the
	// preflight's.
	h := http.Header{}
	require.True(t, rules.Allow(h, "https://app.example.com", "GET"))
	assert.Equal(t, http.Header{"Access-Control-Allow-Origin": {"https://app.example.com"},
		"Access-Control-Allow-Credentials": {"true"}, "Access-Control-Expose-Headers": {"ETag, Content-Length"}}, h)
	h = http.Header{}
	require.True(t, rules.Allow(h, "null", "GET"), "the * rule")
	assert.Equal(t, http.Header{"Access-Control-Allow-Origin": {"*"}}, h)
	assert.False(t, rules.Allow(http.Header{}, "https://app.example.com", "POST"))
	assert.False(t, rules.Allow(http.Header{}, "https://other.test", "HEAD"))

	var none *bucketconfig.CORS
	assert.False(t, none.Allow(http.Header{}, "https://app.example.com", "GET"), "no rules allow nothing")
	assert.False(t, none.Preflight(http.Header{}, "https://app.example.com", "GET", nil))
}
