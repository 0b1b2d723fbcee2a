package cossig

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "COSAK", "cos-secret", sigtest.At, sigtest.Secrets("COSAK", "cos-secret")

// bucketHost is a COS bucket's virtual host, under a domain of the tests.
const bucketHost = "examplebucket-1250000000.cos.test"

// hardKeys are keys whose paths every encoder has an opinion on.
var hardKeys = []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "(paren)*star!", "emoji😀/ü", "semi;colon"}

// verdictCase is sigtest.Case, local so that its rows may be positional.
type verdictCase sigtest.Case

// verdicts is a server that runs Verify on every request it gets, at the
// time it gets it, and keeps what Verify said of each.
type verdicts struct {
	*httptest.Server
	mu   sync.Mutex
	errs []string
	n    int
}

func newVerdicts(t *testing.T) *verdicts {
	v := &verdicts{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ak, e := Verify(r, secrets, time.Now())
		v.mu.Lock()
		v.n++
		if e != nil || ak != testAK {
			v.errs = append(v.errs, r.Method+" "+r.URL.String()+": "+e.Error())
		}
		v.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		if r.URL.Query().Has("origin") && r.Method == http.MethodGet {
			_, _ = w.Write([]byte("<OriginConfiguration></OriginConfiguration>"))
		}
	}))
	t.Cleanup(v.Close)
	return v
}

// client is cos-go-sdk-v5 addressing bucketHost, its dialer sending
// every request to the server.
func (v *verdicts) client(t *testing.T) *cos.Client {
	u, err := url.Parse("http://" + bucketHost + ":" + v.port())
	require.NoError(t, err)
	addr := v.Listener.Addr().String()
	c := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{Transport: &cos.AuthorizationTransport{
		SecretID: testAK, SecretKey: testSK,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}},
	}})
	c.Conf.EnableCRC = false // the server sends no x-cos-hash-crc64ecma
	c.Conf.RetryOpt.Count = 1
	return c
}

func (v *verdicts) port() string {
	_, port, _ := net.SplitHostPort(v.Listener.Addr().String())
	return port
}

// Every request cos-go-sdk-v5 sends, header-signed by its
// AuthorizationTransport, verifies as it arrives: the three origin calls,
// object reads and writes of hard keys with sub-resources, metadata and
// ranges, and listings.
func TestVerifyAgreesWithTheSDK(t *testing.T) {
	v := newVerdicts(t)
	c := v.client(t)
	ctx := context.Background()
	follow := true
	_, err := c.Bucket.PutOrigin(ctx, &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{{
		RulePriority: 1, OriginType: "Mirror",
		OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: "img/"},
		OriginParameter: &cos.BucketOriginParameter{Protocol: "HTTPS", FollowRedirection: &follow},
		OriginInfo:      &cos.BucketOriginInfo{HostInfo: &cos.BucketOriginHostInfo{HostName: "origin.example.com"}},
	}}})
	require.NoError(t, err)
	_, _, err = c.Bucket.GetOrigin(ctx)
	require.NoError(t, err)
	_, err = c.Bucket.DeleteOrigin(ctx)
	require.NoError(t, err)
	for _, key := range hardKeys {
		_, err = c.Object.Put(ctx, key, strings.NewReader("body of "+key), &cos.ObjectPutOptions{
			ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{ContentType: "text/plain", XCosMetaXXX: &http.Header{"X-Cos-Meta-A": {"b c"}}},
		})
		require.NoError(t, err, key)
		_, err = c.Object.Get(ctx, key, &cos.ObjectGetOptions{ResponseContentType: "text/html", Range: "bytes=0-1"})
		require.NoError(t, err, key)
		_, err = c.Object.Head(ctx, key, nil)
		require.NoError(t, err, key)
		_, err = c.Object.Delete(ctx, key)
		require.NoError(t, err, key)
	}
	_, _, err = c.Bucket.Get(ctx, &cos.BucketGetOptions{Prefix: "日本/", Delimiter: "/", MaxKeys: 10})
	require.NoError(t, err)
	assert.Empty(t, v.errs)
	assert.Equal(t, 4+4*len(hardKeys), v.n)
}

// Presigned URLs from the SDK's GetPresignedURL verify, in both forms
// (the members in the query, or all of them in "sign"), with query
// parameters of their own; one that leaves the Host unsigned does not.
func TestPresignedURLsFromTheSDK(t *testing.T) {
	v := newVerdicts(t)
	c := v.client(t)
	ctx := context.Background()
	for _, key := range hardKeys {
		for _, merged := range []bool{false, true} {
			opt := &cos.PresignedURLOptions{Query: &url.Values{"response-content-type": {"text/plain"}}, SignMerged: merged}
			u, err := c.Object.GetPresignedURL(ctx, http.MethodGet, key, testAK, testSK, time.Hour, opt)
			require.NoError(t, err)
			r := sigtest.Received(t, http.MethodGet, u.String(), nil)
			require.True(t, Claims(r), u.String())
			ak, e := Verify(r, secrets, time.Now())
			assert.Nil(t, e, "%s: %v", u, e)
			assert.Equal(t, testAK, ak)
		}
	}
	u, err := c.Object.GetPresignedURL(ctx, http.MethodGet, "k", testAK, testSK, time.Hour, nil, false)
	require.NoError(t, err)
	sigtest.Expect(t, func() (string, *httpapi.Error) {
		return Verify(sigtest.Received(t, "GET", u.String(), nil), secrets, time.Now())
	}, httpapi.MalformedAuthorization, "")
}

// signed is a request the SDK's signer signed at start for life, as the
// server reads it: the origin PUT cos-go-sdk-v5 sends, by default.
func signed(t testing.TB, method, target string, header http.Header, sk string, start time.Time, life time.Duration) *http.Request {
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	cos.AddAuthorizationHeader(testAK, sk, "", req, &cos.AuthTime{SignStartTime: start, SignEndTime: start.Add(life),
		KeyStartTime: start, KeyEndTime: start.Add(life)})
	req.Header.Del("Host") // a server reads it into r.Host
	return sigtest.Received(t, method, target, req.Header)
}

var putHeader = http.Header{"Content-Type": {"application/xml"}, "Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}, "Content-Length": {"0"},
	"User-Agent": {"cos-go-sdk-v5/0.7.70"}}

const putTarget = "http://" + bucketHost + "/?origin"

func goodPut(t *testing.T) *http.Request { return putRequest(t) }

func wrongSecret(t *testing.T) *http.Request {
	return signed(t, "PUT", putTarget, putHeader, "other", at, time.Hour)
}

func putRequest(t testing.TB) *http.Request {
	return signed(t, "PUT", putTarget, putHeader, testSK, at, time.Hour)
}

// presigned is a presigned GET of /k?response-content-type=text/plain,
// good from at for life, as the SDK makes it.
func presigned(t testing.TB, life time.Duration, merged ...bool) *http.Request {
	u, err := url.Parse("http://" + bucketHost)
	require.NoError(t, err)
	c := cos.NewClient(&cos.BaseURL{BucketURL: u}, nil)
	p, err := c.Object.GetPresignedURL(context.Background(), http.MethodGet, "k", testAK, testSK, life, &cos.PresignedURLOptions{
		Query: &url.Values{"response-content-type": {"text/plain"}}, SignMerged: len(merged) > 0 && merged[0],
		AuthTime: &cos.AuthTime{SignStartTime: at, SignEndTime: at.Add(life), KeyStartTime: at, KeyEndTime: at.Add(life)}})
	require.NoError(t, err)
	return sigtest.Received(t, "GET", p.String(), nil)
}

func setAuth(member, value string) func(*http.Request) {
	return func(r *http.Request) {
		parts := strings.Split(r.Header.Get("Authorization"), "&")
		for i, p := range parts {
			if strings.HasPrefix(p, member+"=") {
				parts[i] = member + "=" + value
			}
		}
		r.Header.Set("Authorization", strings.Join(parts, "&"))
	}
}

func setQuery(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set(name, value)
		r.URL.RawQuery = q.Encode()
	}
}

func span(from time.Time, life time.Duration) string {
	return strconv.FormatInt(from.Unix(), 10) + ";" + strconv.FormatInt(from.Add(life).Unix(), 10)
}

func TestVerifyRefusals(t *testing.T) {
	nothing := func(*http.Request) {}
	for _, c := range []verdictCase{
		{"ok", goodPut, nothing, at, -1},
		{"skew ahead", goodPut, nothing, at.Add(-httpapi.MaxClockSkew), -1},
		{"until its end", goodPut, nothing, at.Add(time.Hour), -1},
		{"not signed", goodPut, func(r *http.Request) { r.Header.Del("Authorization") }, at, httpapi.AccessDenied},
		{"wrong secret", wrongSecret, nothing, at, httpapi.SignatureDoesNotMatch},
		{"unknown key", goodPut, setAuth(pAK, "NOBODY"), at, httpapi.InvalidAccessKeyID},
		{"stale", goodPut, nothing, at.Add(time.Hour + time.Second), httpapi.RequestExpired},
		{"starts too far ahead", goodPut, nothing, at.Add(-httpapi.MaxClockSkew - time.Second), httpapi.RequestExpired},
		{"a long signature, within its first hour", func(t *testing.T) *http.Request {
			return signed(t, "PUT", putTarget, putHeader, testSK, at, 10000*time.Second)
		}, nothing, at.Add(time.Hour), -1},
		{"a long signature, past its first hour", func(t *testing.T) *http.Request {
			return signed(t, "PUT", putTarget, putHeader, testSK, at, 10000*time.Second)
		}, nothing, at.Add(time.Hour + time.Second), httpapi.RequestExpired},
		{"tampered method", goodPut, func(r *http.Request) { r.Method = "DELETE" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered path", goodPut, func(r *http.Request) { r.URL.Path = "/k" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered host", goodPut, func(r *http.Request) { r.Host = "other-1250000000.cos.test" }, at, httpapi.SignatureDoesNotMatch},
		{"tampered Content-MD5", goodPut, func(r *http.Request) { r.Header.Set("Content-Md5", "AAAAAAAAAAAAAAAAAAAAAA==") }, at, httpapi.SignatureDoesNotMatch},
		{"signed header removed", goodPut, func(r *http.Request) { r.Header.Del("Content-Md5") }, at, httpapi.SignatureDoesNotMatch},
		{"unsigned header changed", goodPut, func(r *http.Request) { r.Header.Set("User-Agent", "x") }, at, -1},
		{"a signed parameter removed", goodPut, func(r *http.Request) { r.URL.RawQuery = "" }, at, httpapi.SignatureDoesNotMatch},
		{"a parameter changed", goodPut, func(r *http.Request) { r.URL.RawQuery = "origin=x" }, at, httpapi.SignatureDoesNotMatch},
		{"an unsigned parameter added", goodPut, func(r *http.Request) { r.URL.RawQuery = "origin&acl" }, at, httpapi.MalformedAuthorization},
		{"the time changed", goodPut, func(r *http.Request) {
			setAuth(pSignTime, span(at, 2*time.Hour))(r)
			setAuth(pKeyTime, span(at, 2*time.Hour))(r)
		}, at, httpapi.SignatureDoesNotMatch},
		{"q-sign-time is not q-key-time", goodPut, setAuth(pSignTime, span(at, 2*time.Hour)), at, httpapi.MalformedAuthorization},
		{"a time with a sign", goodPut, func(r *http.Request) {
			setAuth(pSignTime, "+"+span(at, time.Hour))(r)
			setAuth(pKeyTime, "+"+span(at, time.Hour))(r)
		}, at, httpapi.MalformedAuthorization},
		{"end before start", goodPut, func(r *http.Request) {
			setAuth(pSignTime, span(at.Add(time.Hour), -time.Hour))(r)
			setAuth(pKeyTime, span(at.Add(time.Hour), -time.Hour))(r)
		}, at, httpapi.MalformedAuthorization},
		{"sha256", goodPut, setAuth(pAlgorithm, "sha256"), at, httpapi.MalformedAuthorization},
		{"upper-case signature", goodPut, func(r *http.Request) {
			r.Header.Set("Authorization", strings.ToUpper(r.Header.Get("Authorization")))
		}, at, httpapi.MalformedAuthorization},
		{"a member twice", goodPut, func(r *http.Request) { r.Header.Set("Authorization", r.Header.Get("Authorization")+"&q-ak=COSAK") },
			at, httpapi.MalformedAuthorization},
		{"a member missing", goodPut, func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, "&q-signature=")])
		}, at, httpapi.MalformedAuthorization},
		{"host not signed", goodPut, setAuth(pHeaderList, "content-length;content-md5;content-type"), at, httpapi.MalformedAuthorization},
		{"a signed header the request lacks", goodPut, setAuth(pHeaderList, "content-length;content-md5;content-type;host;x-cos-meta-a"),
			at, httpapi.SignatureDoesNotMatch},
		{"a header the SDK does not sign", goodPut, func(r *http.Request) {
			setAuth(pHeaderList, "content-length;content-md5;content-type;host;user-agent")(r)
		}, at, httpapi.SignatureDoesNotMatch},
		{"two Authorization headers", goodPut, func(r *http.Request) { r.Header.Add("Authorization", "x") }, at, httpapi.MalformedAuthorization},
		{"header and query", goodPut, func(r *http.Request) { r.URL.RawQuery = "origin&q-ak=COSAK" }, at, httpapi.MalformedAuthorization},
		{"another scheme", goodPut, func(r *http.Request) { r.Header.Set("Authorization", "OSS AK:sig") }, at, httpapi.MalformedAuthorization},

		{"presigned", func(t *testing.T) *http.Request { return presigned(t, time.Hour) }, nothing, at, -1},
		{"presigned, expired", func(t *testing.T) *http.Request { return presigned(t, time.Hour) }, nothing,
			at.Add(time.Hour + time.Second), httpapi.AccessDenied},
		{"presigned for a week", func(t *testing.T) *http.Request { return presigned(t, 7*24*time.Hour) }, nothing, at, -1},
		{"presigned for more than a week", func(t *testing.T) *http.Request {
			return presigned(t, 7*24*time.Hour+httpapi.MaxClockSkew+time.Second)
		}, nothing, at, httpapi.RequestExpired},
		{"presigned, tampered parameter", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			setQuery("response-content-type", "text/html"), at, httpapi.SignatureDoesNotMatch},
		{"presigned, added parameter", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			setQuery("response-content-disposition", "attachment"), at, httpapi.MalformedAuthorization},
		{"presigned, tampered path", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			func(r *http.Request) { r.URL.Path = "/other" }, at, httpapi.SignatureDoesNotMatch},
		{"presigned, a member twice", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			func(r *http.Request) { r.URL.RawQuery += "&q-ak=COSAK" }, at, httpapi.MalformedAuthorization},
		{"presigned, misspelt", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "q-ak=", "Q-AK=", 1) }, at, httpapi.MalformedAuthorization},
		{"presigned, unknown key", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			setQuery(pAK, "NOBODY"), at, httpapi.InvalidAccessKeyID},
		{"presigned, a query that does not parse", func(t *testing.T) *http.Request { return presigned(t, time.Hour) },
			func(r *http.Request) { r.URL.RawQuery += "&a;b" }, at, httpapi.MalformedAuthorization},
	} {
		t.Run(c.Name, func(t *testing.T) {
			r := c.Req(t)
			c.Edit(r)
			sigtest.Expect(t, func() (string, *httpapi.Error) { return Verify(r, secrets, c.Now) }, c.Want, testAK)
		})
	}
}

func TestClaims(t *testing.T) {
	for target, want := range map[string]bool{
		"/b/k":               false,
		"/b/k?sign=abc":      false,
		"/b/k?q-signature=x": true,
		"/b/k?Q-AK=x":        true,
		"/b/k?x=1;q-ak=y":    true,
		"/b/k?q%2Dak=y":      true,
		"/b/k?sign=q-sign-algorithm%3Dsha1%26q-ak%3Dx": true,
	} {
		r := httptest.NewRequest("GET", target, nil)
		assert.Equal(t, want, Claims(r), target)
	}
	r := httptest.NewRequest("GET", "/b", nil)
	r.Header.Set("Authorization", "q-sign-algorithm=sha1&q-ak=x")
	assert.True(t, Claims(r))
	r.Header.Set("Authorization", "QS AK:x")
	assert.False(t, Claims(r))
}

func TestSignedHeaders(t *testing.T) {
	assert.Equal(t, []string{"content-length", "content-md5", "content-type", "host"}, SignedHeaders(goodPut(t)))
	assert.Equal(t, []string{"host"}, SignedHeaders(presigned(t, time.Hour)))
	assert.Nil(t, SignedHeaders(httptest.NewRequest("GET", "/b/k", nil)))
}

// BenchmarkVerify is one verification of the origin PUT cos-go-sdk-v5
// sends.
func BenchmarkVerify(b *testing.B) {
	r := putRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, e := Verify(r, secrets, at); e != nil {
			b.Fatal(e)
		}
	}
}
