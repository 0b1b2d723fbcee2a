package sigv4

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
)

// goodHeader is a GET of /bucket/a b.txt?x=1 signed in the header at at.
func goodHeader(t *testing.T) *http.Request {
	r := clientRequest(t, "GET", "gw.test", "/bucket/a b.txt")
	r.URL.RawQuery = "x=1"
	signHeader(t, r, unsignedPayload, at, testSK)
	return serverSide(t, r)
}

// goodPresigned is the same presigned for an hour at at.
func goodPresigned(t *testing.T) *http.Request {
	r := clientRequest(t, "GET", "gw.test", "/bucket/a b.txt")
	r.URL.RawQuery = "x=1"
	return received(t, "GET", presign(t, r, "3600", at), nil)
}

// setAuth rewrites the Authorization header with edit.
func setAuth(edit func(string) string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", edit(r.Header.Get("Authorization"))) }
}

// setQuery sets (or, with "", deletes) a query parameter, keeping the rest.
func setQuery(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		if value == "" {
			q.Del(name)
		} else {
			q.Set(name, value)
		}
		r.URL.RawQuery = q.Encode()
	}
}

func TestRefusals(t *testing.T) {
	replace := func(old, new string) func(*http.Request) {
		return setAuth(func(a string) string { return strings.Replace(a, old, new, 1) })
	}
	for _, c := range []struct {
		name      string
		presigned bool
		edit      func(*http.Request)
		now       time.Time
		want      httpapi.Failure
	}{
		{"header ok", false, func(*http.Request) {}, at, -1},
		{"presigned ok", true, func(*http.Request) {}, at, -1},
		{"not signed", false, func(r *http.Request) { r.Header.Del("Authorization") }, at, httpapi.AccessDenied},

		{"wrong secret", false, func(r *http.Request) {
			w := clientRequest(t, "GET", "gw.test", "/bucket/a b.txt")
			w.URL.RawQuery = "x=1"
			signHeader(t, w, unsignedPayload, at, "not-the-secret")
			r.Header.Set("Authorization", w.Header.Get("Authorization"))
		}, at, httpapi.SignatureDoesNotMatch},
		{"unknown key", false, replace("Credential="+testAK, "Credential=NOBODY"), at, httpapi.InvalidAccessKeyID},
		{"unknown key presigned", true, setQuery("X-Amz-Credential", "NOBODY/20261123/us-east-1/s3/aws4_request"), at, httpapi.InvalidAccessKeyID},
		{"expired", false, func(*http.Request) {}, at.Add(16 * time.Minute), httpapi.RequestExpired},
		{"too early", false, func(*http.Request) {}, at.Add(-16 * time.Minute), httpapi.RequestExpired},
		{"presigned expired", true, func(*http.Request) {}, at.Add(time.Hour + time.Second), httpapi.RequestExpired},
		{"presigned too early", true, func(*http.Request) {}, at.Add(-16 * time.Minute), httpapi.RequestExpired},

		{"tampered path", false, func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/bucket/a c.txt", "" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered path presigned", true, func(r *http.Request) { r.URL.Path = "/bucket/other" }, at, httpapi.SignatureDoesNotMatch},
		{"other bucket by host", false, func(r *http.Request) { r.Host = "other.gw.test" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered query", false, setQuery("x", "2"), at, httpapi.SignatureDoesNotMatch},
		{"added query", false, setQuery("response-content-type", "text/html"), at, httpapi.SignatureDoesNotMatch},
		{"added query presigned", true, setQuery("response-content-type", "text/html"), at, httpapi.SignatureDoesNotMatch},
		{"longer expiry", true, setQuery("X-Amz-Expires", "7200"), at, httpapi.SignatureDoesNotMatch},
		{"other method", false, func(r *http.Request) { r.Method = "HEAD" }, at, httpapi.SignatureDoesNotMatch},
		{"replayed with a new time", false, func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261123T100500Z") }, at, httpapi.SignatureDoesNotMatch},
		{"other signed header", false, func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) }, at, httpapi.SignatureDoesNotMatch},
		{"other region", false, replace("/eu-west-3/", "/us-east-1/"), at, httpapi.SignatureDoesNotMatch},

		{"v2 header", false, setAuth(func(string) string { return "AWS " + testAK + ":c2lnbmF0dXJl" }), at, httpapi.MalformedAuthorization},
		{"no fields", false, setAuth(func(string) string { return Algorithm + " " }), at, httpapi.MalformedAuthorization},
		{"unknown field", false, replace("Signature=", "Sig="), at, httpapi.MalformedAuthorization},
		{"field twice", false, setAuth(func(a string) string { return a + ", Signature=" + strings.Repeat("a", 64) }), at, httpapi.MalformedAuthorization},
		{"short credential", false, replace("/eu-west-3/s3/", "/s3/"), at, httpapi.MalformedAuthorization},
		{"other service", false, replace("/s3/aws4_request", "/iam/aws4_request"), at, httpapi.MalformedAuthorization},
		{"other terminator", false, replace("/aws4_request", "/aws5_request"), at, httpapi.MalformedAuthorization},
		{"other day", false, replace("/20261123/", "/20261122/"), at, httpapi.MalformedAuthorization},
		{"host not signed", false, replace("SignedHeaders=host;", "SignedHeaders="), at, httpapi.MalformedAuthorization},
		{"time not signed", false, replace(";x-amz-date", ""), at, httpapi.MalformedAuthorization},
		{"unsorted headers", false, replace("host;x-amz-content-sha256", "x-amz-content-sha256;host"), at, httpapi.MalformedAuthorization},
		{"upper-case header", false, replace("host;", "Host;"), at, httpapi.MalformedAuthorization},
		{"short signature", false, setAuth(func(a string) string { return a[:len(a)-1] }), at, httpapi.MalformedAuthorization},
		{"no payload hash", false, func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, at, httpapi.MalformedAuthorization},
		{"streaming payload", false, func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER") }, at, httpapi.MalformedAuthorization},
		{"no time", false, func(r *http.Request) { r.Header.Del("X-Amz-Date") }, at, httpapi.MalformedAuthorization},
		{"loose time", false, func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-23T10:00:00Z") }, at, httpapi.MalformedAuthorization},
		{"two times", false, func(r *http.Request) { r.Header.Add("X-Amz-Date", "20261123T100000Z") }, at, httpapi.MalformedAuthorization},
		{"two headers", false, func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, at, httpapi.MalformedAuthorization},
		{"header and query", false, setQuery("X-Amz-Signature", strings.Repeat("a", 64)), at, httpapi.MalformedAuthorization},
		{"query that does not parse", false, func(r *http.Request) { r.URL.RawQuery = "x=1;y=2" }, at, httpapi.MalformedAuthorization},

		{"presigned and header", true, func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 x") }, at, httpapi.MalformedAuthorization},
		{"presigned expires too long", true, setQuery("X-Amz-Expires", "604801"), at, httpapi.MalformedAuthorization},
		{"presigned expires zero", true, setQuery("X-Amz-Expires", "0"), at, httpapi.MalformedAuthorization},
		{"presigned expires signed", true, setQuery("X-Amz-Expires", "+3600"), at, httpapi.MalformedAuthorization},
		{"presigned no expires", true, setQuery("X-Amz-Expires", ""), at, httpapi.MalformedAuthorization},
		{"presigned no signature", true, setQuery("X-Amz-Signature", ""), at, httpapi.MalformedAuthorization},
		{"presigned no date", true, setQuery("X-Amz-Date", ""), at, httpapi.MalformedAuthorization},
		{"presigned two signatures", true, func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=" + strings.Repeat("b", 64) }, at, httpapi.MalformedAuthorization},
		{"presigned host not signed", true, setQuery("X-Amz-SignedHeaders", "range"), at, httpapi.MalformedAuthorization},
		{"presigned other service", true, setQuery("X-Amz-Credential", testAK+"/20261123/us-east-1/sts/aws4_request"), at, httpapi.MalformedAuthorization},
		{"presigned misspelt", true, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Signature", "x-amz-signature", 1)
		}, at, httpapi.MalformedAuthorization},
		{"presigned SigV4a", true, setQuery("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256"), at, httpapi.AccessDenied},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r *http.Request
			if c.presigned {
				r = goodPresigned(t)
			} else {
				r = goodHeader(t)
			}
			c.edit(r)
			ak, e := Verify(r, secrets, c.now)
			assert.Equal(t, c.want, failure(e), "%v", e)
			if c.want == -1 {
				assert.Equal(t, testAK, ak)
			} else {
				assert.Empty(t, ak)
			}
		})
	}
}

// The Date header stands in for X-Amz-Date, signed as its time in
// X-Amz-Date's form, when the client signed it. (aws-sdk-go-v2 always
// sends X-Amz-Date, so this signs with the package's own functions, which
// the SDK tests hold to the SDK.)
func TestDateHeader(t *testing.T) {
	r := received(t, "GET", "http://gw.test/bucket/k", http.Header{
		"Date":                 {at.Format(http.TimeFormat)},
		"X-Amz-Content-Sha256": {unsignedPayload},
	})
	c := claim{
		scope: scope{testAK, "20261123", "us-east-1"}, stamp: at,
		signedHeaders: []string{"date", "host"}, signedText: "date;host", payloadHash: unsignedPayload,
	}
	sig := signature(testSK, c.scope, at.Format(timeFormat), canonicalRequest(r, url.Values{}, c))
	r.Header.Set("Authorization", Algorithm+" Credential="+testAK+"/20261123/us-east-1/s3/aws4_request,SignedHeaders=date;host,Signature="+sig)
	ak, e := Verify(r, secrets, at.Add(time.Minute))
	assert.Nil(t, e)
	assert.Equal(t, testAK, ak)

	r.Header.Set("Date", at.Add(time.Second).Format(http.TimeFormat))
	_, e = Verify(r, secrets, at)
	assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e))

	// X-Amz-Date wins over Date, and must then be the one signed.
	r.Header.Set("X-Amz-Date", at.Format(timeFormat))
	_, e = Verify(r, secrets, at)
	assert.Equal(t, httpapi.MalformedAuthorization, failure(e))
}

// The canonical URI is the S3 one, from the decoded path.
func TestCanonicalURI(t *testing.T) {
	for target, want := range map[string]string{
		"/b/a%20b.txt":        "/b/a%20b.txt",
		"/b/a+b":              "/b/a%2Bb",
		"/b/a%2Bb":            "/b/a%2Bb",
		"/b/a%2Fb":            "/b/a/b",
		"/b/a%252Fb":          "/b/a%252Fb",
		"/b/~u/x!":            "/b/~u/x%21",
		"/b/%e6%97%a5":        "/b/%E6%97%A5",
		"/b/%E6%97%A5/x%3Fy":  "/b/%E6%97%A5/x%3Fy",
		"/b/a;b=c,d(e)*f'g$h": "/b/a%3Bb%3Dc%2Cd%28e%29%2Af%27g%24h",
	} {
		assert.Equal(t, want, canonicalURI(received(t, "GET", "http://h"+target, nil)), target)
	}
}
