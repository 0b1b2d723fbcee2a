package qs

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qsconfig "github.com/yunify/qingstor-sdk-go/v3/config"
	"github.com/yunify/qingstor-sdk-go/v3/request/signer"
	qsservice "github.com/yunify/qingstor-sdk-go/v3/service"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "QSAK", "qs-secret", sigtest.At, sigtest.Secrets("QSAK", "qs-secret")

// verdictCase is sigtest.Case, local so that its rows may be positional.
type verdictCase sigtest.Case

// hardKeys are keys whose paths every encoder has an opinion on.
var hardKeys = []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "(paren)*star!", "emoji😀/ü"}

// clientRequest is a GET of /bucket/KEY as the SDK builds it, with an
// optional query.
func clientRequest(t *testing.T, key, query string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", "http://pek3b.gw.test:8080/", nil)
	require.NoError(t, err)
	r.URL.Path = "/bucket/" + key
	r.URL.RawQuery = query
	return r
}

// received is r as the server reads it off the wire.
func received(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	s := httptest.NewRequest(r.Method, r.URL.RequestURI(), nil)
	s.Host = r.URL.Host
	for k, v := range r.Header {
		s.Header[k] = v
	}
	return s
}

// presigned is the SDK signer's WriteQuerySignature of r, expiring at
// expires, under sk.
func presigned(t *testing.T, r *http.Request, sk string, expires time.Time) *http.Request {
	t.Helper()
	require.NoError(t, (&signer.QingStorSigner{AccessKeyID: testAK, SecretAccessKey: sk}).WriteQuerySignature(r, int(expires.Unix())))
	return received(t, r)
}

// Presigned URLs and header-signed requests from the SDK's signer verify,
// with a sub-resource in the query and without.
func TestVerifyRequestAgreesWithTheSDK(t *testing.T) {
	for _, key := range hardKeys {
		for _, query := range []string{"", "response-content-type=text%2Fplain&other=x"} {
			r := presigned(t, clientRequest(t, key, query), testSK, at.Add(time.Hour))
			ak, e := VerifyRequest(r, secrets, at)
			assert.Nil(t, e, "%s: %v", r.URL, e)
			assert.Equal(t, testAK, ak)

			h := clientRequest(t, key, query)
			h.Header.Set("Date", at.Format(http.TimeFormat))
			h.Header.Set("X-QS-Meta-A", " b ")
			require.NoError(t, (&signer.QingStorSigner{AccessKeyID: testAK, SecretAccessKey: testSK}).WriteSignature(h))
			ak, e = VerifyRequest(received(t, h), secrets, at)
			assert.Nil(t, e, "%s header: %v", key, e)
			assert.Equal(t, testAK, ak)
		}
	}
}

// The SDK's own GetObject request, presigned with Request.SignQuery (for
// 600 s from now), verifies now.
func TestTheSDKsSignQuery(t *testing.T) {
	conf, err := qsconfig.New(testAK, testSK)
	require.NoError(t, err)
	conf.Host, conf.Port, conf.Protocol = "gw.test", 8080, "http"
	svc, err := qsservice.Init(conf)
	require.NoError(t, err)
	b, err := svc.Bucket("bucket", "pek3b")
	require.NoError(t, err)
	for _, key := range hardKeys {
		req, _, err := b.GetObjectRequest(key, &qsservice.GetObjectInput{ResponseContentType: qsservice.String("text/plain")})
		require.NoError(t, err)
		require.NoError(t, req.Build())
		require.NoError(t, req.SignQuery(600))
		u, err := url.Parse(req.HTTPRequest.URL.String())
		require.NoError(t, err)
		r := httptest.NewRequest("GET", u.RequestURI(), nil)
		r.Host = u.Host
		ak, e := VerifyRequest(r, secrets, time.Now())
		assert.Nil(t, e, "%s: %v", u, e)
		assert.Equal(t, testAK, ak)
	}
}

func TestVerifyRequestRefusals(t *testing.T) {
	good := func(t *testing.T) *http.Request {
		return presigned(t, clientRequest(t, "a b.txt", "response-content-type=text%2Fplain"), testSK, at.Add(time.Hour))
	}
	setQuery := func(name, value string) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			q.Set(name, value)
			r.URL.RawQuery = q.Encode()
		}
	}
	for _, c := range []verdictCase{
		{"ok", good, func(*http.Request) {}, at, -1},
		{"until expires", good, func(*http.Request) {}, at.Add(time.Hour), -1},
		{"not signed", good, func(r *http.Request) { r.URL.RawQuery = "" }, at, httpapi.AccessDenied},
		{"wrong secret", func(t *testing.T) *http.Request {
			return presigned(t, clientRequest(t, "a b.txt", ""), "other", at.Add(time.Hour))
		}, func(*http.Request) {}, at, httpapi.SignatureDoesNotMatch},
		{"unknown key", good, setQuery("access_key_id", "NOBODY"), at, httpapi.InvalidAccessKeyID},
		{"expired", good, func(*http.Request) {}, at.Add(time.Hour + time.Second), httpapi.RequestExpired},
		{"a week ahead", func(t *testing.T) *http.Request {
			return presigned(t, clientRequest(t, "k", ""), testSK, at.Add(7*24*time.Hour))
		}, func(*http.Request) {}, at, -1},
		{"more than a week ahead", func(t *testing.T) *http.Request {
			return presigned(t, clientRequest(t, "k", ""), testSK, at.Add(7*24*time.Hour+httpapi.MaxClockSkew+time.Second))
		}, func(*http.Request) {}, at, httpapi.RequestExpired},
		{"tampered path", good, func(r *http.Request) { r.URL.Path = "/bucket/other" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered sub-resource", good, setQuery("response-content-type", "text/html"), at, httpapi.SignatureDoesNotMatch},
		{"added sub-resource", good, setQuery("response-content-disposition", "attachment"), at, httpapi.SignatureDoesNotMatch},
		{"longer expiry", good, func(r *http.Request) {
			setQuery("expires", strconv.FormatInt(at.Add(2*time.Hour).Unix(), 10))(r)
		}, at, httpapi.SignatureDoesNotMatch},
		{"expires not a number", good, setQuery("expires", "soon"), at, httpapi.MalformedAuthorization},
		{"expires with a sign", good, func(r *http.Request) {
			setQuery("expires", "+"+strconv.FormatInt(at.Add(time.Hour).Unix(), 10))(r)
		}, at, httpapi.MalformedAuthorization},
		{"no signature", good, func(r *http.Request) {
			q := r.URL.Query()
			q.Del("signature")
			r.URL.RawQuery = q.Encode()
		}, at, httpapi.MalformedAuthorization},
		{"two signatures", good, func(r *http.Request) { r.URL.RawQuery += "&signature=x" }, at, httpapi.MalformedAuthorization},
		{"misspelt", good, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "access_key_id", "Access_Key_Id", 1)
		}, at, httpapi.MalformedAuthorization},
		{"query that does not parse", good, func(r *http.Request) { r.URL.RawQuery += "&a;b" }, at, httpapi.MalformedAuthorization},
		{"header and query", good, func(r *http.Request) { r.Header.Set("Authorization", "QS "+testAK+":x") }, at, httpapi.MalformedAuthorization},
	} {
		t.Run(c.Name, func(t *testing.T) {
			r := c.Req(t)
			c.Edit(r)
			sigtest.Expect(t, func() (string, *httpapi.Error) { return VerifyRequest(r, secrets, c.Now) }, c.Want, testAK)
		})
	}
}

// The header form answers through VerifyRequest exactly as through
// Verify, refusals included.
func TestHeaderFormUnchanged(t *testing.T) {
	for _, edit := range []func(*http.Request){
		func(*http.Request) {},
		func(r *http.Request) { r.Header.Set("Date", at.Add(time.Hour).Format(http.TimeFormat)) },
		func(r *http.Request) { r.Header.Set("Authorization", "QS nobody:x") },
		func(r *http.Request) { r.Header.Set("Authorization", "QS x") },
		func(r *http.Request) { r.Header.Del("Authorization") },
		func(r *http.Request) { r.URL.Path = "/bucket/other" },
	} {
		h := clientRequest(t, "k", "mirror")
		h.Header.Set("Date", at.Format(http.TimeFormat))
		require.NoError(t, (&signer.QingStorSigner{AccessKeyID: testAK, SecretAccessKey: testSK}).WriteSignature(h))
		r := received(t, h)
		edit(r)
		ak1, e1 := Verify(r, secrets, at)
		ak2, e2 := VerifyRequest(r, secrets, at)
		assert.Equal(t, ak1, ak2)
		assert.Equal(t, e1, e2)
	}
}
