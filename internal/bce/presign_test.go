package bce

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	"github.com/baidubce/bce-sdk-go/services/bos"
	"github.com/baidubce/bce-sdk-go/util"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "bce-ak", "bce-sk", sigtest.At, sigtest.Secrets("bce-ak", "bce-sk")

// verdictCase is sigtest.Case, local so that its rows may be positional.
type verdictCase sigtest.Case

// hardKeys are keys whose paths every encoder has an opinion on.
var hardKeys = []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "(paren)*star!", "emoji😀/ü", "a//b"}

// presignedURL is bos.Client's GeneratePresignedUrl (virtual-host style)
// or GeneratePresignedUrlPathStyle, signed at at.
func presignedURL(t *testing.T, pathStyle bool, sk, key string, expire int, params map[string]string) string {
	t.Helper()
	c, err := bos.NewClient(testAK, sk, "http://gw.test:8080")
	require.NoError(t, err)
	c.Config.SignOption.Timestamp = at.Unix()
	var u string
	if pathStyle {
		u = c.GeneratePresignedUrlPathStyle("bucket", key, expire, "GET", nil, params)
	} else {
		u = c.GeneratePresignedUrl("bucket", key, expire, "GET", nil, params)
	}
	require.NotEmpty(t, u)
	return u
}

// received is a request for target (an absolute URL), as the server reads
// it off the wire.
func received(t *testing.T, method, target string) *http.Request {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	r := httptest.NewRequest(method, u.RequestURI(), nil)
	r.Host = u.Host
	return r
}

// headerSigned is a request signed by bce-sdk-go's signer in the
// Authorization header, as the SDK sends it.
func headerSigned(t *testing.T, method, host, path string, params map[string]string) *http.Request {
	t.Helper()
	req := &bcehttp.Request{}
	req.SetMethod(method)
	req.SetUri(path)
	req.SetParams(params)
	req.SetHeaders(map[string]string{"Host": host, "x-bce-date": at.Format(TimeFormat)})
	cred, _ := bceauth.NewBceCredentials(testAK, testSK)
	(&bceauth.BceV1Signer{}).Sign(req, cred, &bceauth.SignOptions{
		HeadersToSign: map[string]struct{}{"host": {}}, Timestamp: at.Unix(), ExpireSeconds: 1800,
	})
	target := "http://" + host + util.UriEncode(path, false)
	if q := req.QueryString(); q != "" {
		target += "?" + q
	}
	r := received(t, method, target)
	for k, v := range req.Headers() {
		if !strings.EqualFold(k, "host") {
			r.Header.Set(k, v)
		}
	}
	return r
}

// Presigned URLs from bos.Client, both styles, with and without query
// parameters of their own, verify; so do header-signed requests, through
// VerifyRequest as through Verify.
func TestVerifyRequestAgreesWithTheSDK(t *testing.T) {
	for _, key := range hardKeys {
		for _, pathStyle := range []bool{true, false} {
			for _, params := range []map[string]string{nil, {"responseContentType": "text/plain; a=b", "x y": ""}} {
				u := presignedURL(t, pathStyle, testSK, key, 3600, maps.Clone(params))
				ak, e := VerifyRequest(received(t, "GET", u), secrets, at.Add(time.Minute))
				assert.Nil(t, e, "%s: %v", u, e)
				assert.Equal(t, testAK, ak)
			}
		}
		for _, host := range []string{"gw.test:8080", "bucket.gw.test"} {
			path := "/bucket/" + key
			if strings.HasPrefix(host, "bucket.") {
				path = "/" + key
			}
			r := headerSigned(t, "GET", host, path, map[string]string{"responseContentType": "a/b"})
			ak, e := VerifyRequest(r, secrets, at)
			assert.Nil(t, e, "%s%s: %v", host, path, e)
			assert.Equal(t, testAK, ak)
			_, e2 := Verify(r, secrets, at)
			assert.Equal(t, e, e2)
		}
	}
}

// bce-sdk-go's default presigned URL (BasicGeneratePresignedUrl, signed
// now for 1800 s) verifies now.
func TestBasicPresignedURL(t *testing.T) {
	c, err := bos.NewClient(testAK, testSK, "http://gw.test")
	require.NoError(t, err)
	u := c.BasicGeneratePresignedUrl("bucket", "日本/a b+c.txt", 0)
	assert.Contains(t, u, "%2F1800%2Fhost%2F")
	ak, e := VerifyRequest(received(t, "GET", u), secrets, time.Now())
	assert.Nil(t, e)
	assert.Equal(t, testAK, ak)
}

func TestVerifyRequestRefusals(t *testing.T) {
	good := func(t *testing.T) *http.Request {
		return received(t, "GET", presignedURL(t, true, testSK, "a b.txt", 3600, map[string]string{"x": "1"}))
	}
	setQuery := func(name, value string) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			q.Set(name, value)
			r.URL.RawQuery = q.Encode()
		}
	}
	editAuth := func(old, new string) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			q.Set("authorization", strings.Replace(q.Get("authorization"), old, new, 1))
			r.URL.RawQuery = q.Encode()
		}
	}
	for _, c := range []verdictCase{
		{"ok", good, func(*http.Request) {}, at, -1},
		{"not signed", good, func(r *http.Request) { r.URL.RawQuery = "" }, at, httpapi.AccessDenied},
		{"wrong secret", func(t *testing.T) *http.Request {
			return received(t, "GET", presignedURL(t, true, "other-secret", "a b.txt", 3600, map[string]string{"x": "1"}))
		}, func(*http.Request) {}, at, httpapi.SignatureDoesNotMatch},
		{"unknown key", good, editAuth("/"+testAK+"/", "/nobody/"), at, httpapi.InvalidAccessKeyID},
		{"expired", good, func(*http.Request) {}, at.Add(time.Hour + time.Second), httpapi.RequestExpired},
		{"too early", good, func(*http.Request) {}, at.Add(-16 * time.Minute), httpapi.RequestExpired},
		{"tampered path", good, func(r *http.Request) { r.URL.Path = "/bucket/other" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered host", good, func(r *http.Request) { r.Host = "other.gw.test:8080" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered query", good, setQuery("x", "2"), at, httpapi.SignatureDoesNotMatch},
		{"added query", good, setQuery("responseContentType", "text/html"), at, httpapi.SignatureDoesNotMatch},
		{"longer expiry", good, editAuth("/3600/", "/7200/"), at, httpapi.SignatureDoesNotMatch},
		{"a week", func(t *testing.T) *http.Request {
			return received(t, "GET", presignedURL(t, true, testSK, "k", 604800, nil))
		}, func(*http.Request) {}, at.Add(604800 * time.Second), -1},
		{"over a week", func(t *testing.T) *http.Request {
			return received(t, "GET", presignedURL(t, true, testSK, "k", 604801, nil))
		}, func(*http.Request) {}, at, httpapi.MalformedAuthorization},
		{"host not signed", good, editAuth("/host/", "/x-bce-date/"), at, httpapi.MalformedAuthorization},
		{"malformed", good, setQuery("authorization", "bce-auth-v1/x"), at, httpapi.MalformedAuthorization},
		{"two authorizations", good, func(r *http.Request) { r.URL.RawQuery += "&authorization=x" }, at, httpapi.MalformedAuthorization},
		{"Authorization in the query", good, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "authorization=", "Authorization=", 1)
		}, at, httpapi.MalformedAuthorization},
		{"a parameter twice", good, func(r *http.Request) { r.URL.RawQuery += "&x=2" }, at, httpapi.MalformedAuthorization},
		{"query that does not parse", good, func(r *http.Request) { r.URL.RawQuery += "&y=%zz" }, at, httpapi.MalformedAuthorization},
		{"header and query", good, func(r *http.Request) { r.Header.Set("Authorization", "bce-auth-v1/x") }, at, httpapi.MalformedAuthorization},
	} {
		t.Run(c.Name, func(t *testing.T) {
			r := c.Req(t)
			c.Edit(r)
			sigtest.Expect(t, func() (string, *httpapi.Error) { return VerifyRequest(r, secrets, c.Now) }, c.Want, testAK)
		})
	}
}

// The header keeps its 3600 s limit, through VerifyRequest as through
// Verify.
func TestHeaderKeepsItsLimit(t *testing.T) {
	req := &bcehttp.Request{}
	req.SetMethod("GET")
	req.SetUri("/bucket/k")
	req.SetHeaders(map[string]string{"Host": "gw.test"})
	cred, _ := bceauth.NewBceCredentials(testAK, testSK)
	(&bceauth.BceV1Signer{}).Sign(req, cred, &bceauth.SignOptions{
		HeadersToSign: map[string]struct{}{"host": {}}, Timestamp: at.Unix(), ExpireSeconds: 3601,
	})
	r := received(t, "GET", "http://gw.test/bucket/k")
	r.Header.Set("Authorization", req.Header("Authorization"))
	_, e := VerifyRequest(r, secrets, at)
	require.NotNil(t, e)
	assert.Equal(t, httpapi.MalformedAuthorization, e.Failure)
	assert.Equal(t, "the Authorization header is invalid: the expiration is not 1 to 3600 seconds", e.Message)
}
