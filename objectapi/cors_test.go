package objectapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setCORS puts a bucket's CORS rules, in BOS's JSON.
func (g *gateway) setCORS(bucket, doc string) {
	g.t.Helper()
	c, err := bucketconfig.ParseBOSCORS([]byte(doc))
	require.NoError(g.t, err)
	require.NoError(g.t, g.configs.PutCORS(context.Background(), bucket, c))
}

const webCORS = `{"corsConfiguration":[{"allowedOrigins":["https://app.example.com"],"allowedMethods":["GET","HEAD"],
	"allowedHeaders":["range","x-amz-*"],"allowedExposeHeaders":["ETag"],"maxAgeSeconds":600}]}`

// A private bucket's rules send the origin a token.
func privateRule(origin string) string {
	return fetchRule(origin, `"customHeaders":[{"headerName":"Authorization","headerValue":"Bearer t"}]`)
}

// A preflight is answered unsigned, of a private bucket too, by the
// bucket's rules alone: no store, no origin, and the same answer whether
// the object exists or not.
func TestPreflightOfAPrivateBucket(t *testing.T) {
	o := newOrigin(t, content("secret"))
	g := newGateway(t)
	g.setRules("priv", privateRule(o.URL))
	g.setCORS("priv", webCORS)
	lookups := 0
	g.handler.ObserveLookup = func(bool) { lookups++ }
	resp := g.do("GET", "/priv/k", "Origin: https://app.example.com")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the bucket is private")
	assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"), "and a page may read why")
	resp.Body.Close()

	for _, path := range []string{"/priv/k", "/priv/missing/key", "/priv", "/priv/"} {
		resp := g.do("OPTIONS", path, "Origin: https://app.example.com", "Access-Control-Request-Method: GET",
			"Access-Control-Request-Headers: Range, X-Amz-Date")
		b, _ := body(resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Empty(t, b)
		h := resp.Header
		assert.Equal(t, "https://app.example.com", h.Get("Access-Control-Allow-Origin"), path)
		assert.Equal(t, "GET, HEAD", h.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "range, x-amz-date", h.Get("Access-Control-Allow-Headers"))
		assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))
		assert.Equal(t, "ETag", h.Get("Access-Control-Expose-Headers"))
		assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", h.Get("Vary"))
	}
	assert.Zero(t, o.hits.Load(), "no origin request")
	assert.Zero(t, lookups, "no store lookup")
}

// A preflight no rule allows is 403 AccessForbidden in the client's
// dialect, the same for a bucket without rules, one without anything and
// a disallowed origin, method or header: it tells nothing.
func TestPreflightRefusals(t *testing.T) {
	g := newGateway(t)
	g.setRules("priv", privateRule("http://127.0.0.1:9"))
	g.setCORS("priv", webCORS)
	g.setRules("bare", privateRule("http://127.0.0.1:9"))
	for _, c := range []struct {
		name, path string
		headers    []string
	}{
		{"another origin", "/priv/k", []string{"Origin: https://evil.example.com", "Access-Control-Request-Method: GET"}},
		{"another method", "/priv/k", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: PUT"}},
		{"a header not allowed", "/priv/k", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: GET",
			"Access-Control-Request-Headers: authorization"}},
		{"a header list that is not names", "/priv/k", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: GET",
			"Access-Control-Request-Headers: range x"}},
		{"a bucket without rules", "/bare/k", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: GET"}},
		{"a bucket that has nothing", "/nothing-here/k", []string{"Origin: https://app.example.com", "Access-Control-Request-Method: GET"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := g.do("OPTIONS", c.path, c.headers...)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
			e := errorCode(t, resp)
			assert.Equal(t, "AccessForbidden", e.Code)
			assert.NotContains(t, e.Message, "exist")
		})
	}
	resp := g.do("OPTIONS", "/priv/k", "Origin: https://app.example.com")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "no Access-Control-Request-Method")
	assert.Equal(t, "InvalidArgument", errorCode(t, resp).Code)
	resp = g.do("OPTIONS", "/Bad_Bucket/k", "Origin: https://app.example.com", "Access-Control-Request-Method: GET")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp.Body.Close()

	// In S3's dialect for an S3 client.
	g.handler.Errors = "s3"
	resp = g.do("OPTIONS", "/priv/k", "Origin: https://evil.example.com", "Access-Control-Request-Method: GET")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "AccessForbidden", s3Error(t, resp).Code)
}

// Every GET or HEAD answer of a bucket with rules carries Vary: Origin,
// and, when a rule allows the Origin, Access-Control-Allow-Origin: a hit,
// a miss fetched from the origin and an error alike.
func TestObjectAnswersCarryCORSHeaders(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "missing") {
			http.NotFound(w, r)
			return
		}
		content("hello", "Content-Type: text/plain")(w, r)
	})
	g := newGateway(t)
	g.setRules("web", fetchRule(o.URL))
	g.public("web")
	g.setCORS("web", `{"corsConfiguration":[{"allowedOrigins":["https://app.example.com"],"allowedMethods":["GET"],
		"allowedExposeHeaders":["ETag"]},{"allowedOrigins":["*"],"allowedMethods":["HEAD"]}]}`)
	g.setRules("plain", fetchRule(o.URL))

	for _, c := range []struct {
		name, method, path, origin string
		status                     int
		acao, expose               string
	}{
		{"a miss", "GET", "/web/a.txt", "https://app.example.com", 200, "https://app.example.com", "ETag"},
		{"a hit", "GET", "/web/a.txt", "https://app.example.com", 200, "https://app.example.com", "ETag"},
		{"the * rule", "HEAD", "/web/a.txt", "https://other.example", 200, "*", ""},
		{"an origin no rule allows", "GET", "/web/a.txt", "https://other.example", 200, "", ""},
		{"no origin", "GET", "/web/a.txt", "", 200, "", ""},
		{"an error", "GET", "/web/missing", "https://app.example.com", http.StatusNotFound, "https://app.example.com", "ETag"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var headers []string
			if c.origin != "" {
				headers = append(headers, "Origin: "+c.origin)
			}
			resp := g.do(c.method, c.path, headers...)
			_, _ = body(resp)
			assert.Equal(t, c.status, resp.StatusCode)
			assert.Equal(t, []string{"Origin"}, resp.Header.Values("Vary"))
			assert.Equal(t, c.acao, resp.Header.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, c.expose, resp.Header.Get("Access-Control-Expose-Headers"))
		})
	}
	resp := g.do("GET", "/plain/a.txt", "Origin: https://app.example.com")
	_, _ = body(resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("Vary"), "a bucket without rules says nothing of CORS")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}
