package tossig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos/enum"
)

// hardKeys are object keys whose paths every encoder has an opinion on.
var hardKeys = []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "(paren)*star!", "emoji😀/ü", "a//b/./c"}

// Requests the SDK's signer signed, in the header or presigned, verify:
// every hard key, with sub-resources and parameters that need encoding,
// on a path-style and a virtual-host Host, with Content-Type, user
// metadata (runs of spaces in it) and a body hash among the signed
// headers.
func TestAgreesWithTheSDKsSigner(t *testing.T) {
	queries := []url.Values{
		nil,
		{"mirror": {""}},
		{"response-content-type": {"text/plain; charset=utf-8"}, "x": {"b", "a"}, "a b": {"+/="}, "日本": {"語"}},
	}
	sum := sha256.Sum256([]byte("body"))
	headers := []http.Header{
		nil,
		{"Content-Type": {"application/json"}, "X-Tos-Meta-Note": {"  two   spaces "}, "Content-Md5": {"x"}},
		{ContentSHA256: {hex.EncodeToString(sum[:])}},
		{ContentSHA256: {unsignedPayload}, "X-Tos-Meta-Two": {"1", "2"}},
	}
	n := 0
	for _, key := range hardKeys {
		for _, host := range []string{"gw.test:8080", "bucket.gw.test", "127.0.0.1:9000"} {
			for _, q := range queries {
				for _, h := range headers {
					path := "/bucket/" + key
					if strings.HasPrefix(host, "bucket.") {
						path = "/" + key
					}
					r := signHeader(t, sdkRequest("GET", host, path, clone(q), h.Clone()), testAK, testSK, at)
					ak, e := Verify(r, secrets, at)
					require.Nil(t, e, "header %s %s %v %v: %v", host, path, q, h, e)
					assert.Equal(t, testAK, ak)

					hp := h.Clone()
					if hp != nil {
						hp.Del("Content-Type") // a presigned URL signs none
					}
					r = presign(t, sdkRequest("GET", host, path, clone(q), hp), testAK, testSK, at, time.Hour)
					ak, e = Verify(r, secrets, at.Add(59*time.Minute))
					require.Nil(t, e, "presigned %s: %v", r.URL, e)
					assert.Equal(t, testAK, ak)
					n++
				}
			}
		}
	}
	assert.Equal(t, len(hardKeys)*3*len(queries)*len(headers), n)
}

func clone(q url.Values) url.Values {
	if q == nil {
		return nil
	}
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// The SDK's client itself, signing at the wall clock: its
// PutBucketMirrorBack, GetBucketMirrorBack, DeleteBucketMirrorBack and a
// presigned GET ?mirror, path-style (an IP endpoint) and virtual-host
// style (a domain endpoint), verify as the server receives them.
func TestTheSDKClientsRequestsVerify(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"Rules":[]}`)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	for _, endpoint := range []string{srv.URL, "http://gw.test:" + port} {
		got = nil
		c, err := tos.NewClientV2(endpoint, tos.WithRegion(region), tos.WithCredentials(tos.NewStaticCredentials(testAK, testSK)),
			tos.WithMaxRetryCount(0), tos.WithHTTPTransport(&http.Transport{
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				}}))
		require.NoError(t, err)
		ctx := context.Background()
		_, err = c.PutBucketMirrorBack(ctx, &tos.PutBucketMirrorBackInput{Bucket: "my-bucket", Rules: []tos.MirrorBackRule{{
			ID: "1", Condition: tos.Condition{HttpCode: 404, KeyPrefix: "a b/"},
			Redirect: tos.Redirect{RedirectType: enum.RedirectTypeMirror,
				PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{Primary: []string{"http://origin.test/"}}}},
		}}})
		require.NoError(t, err)
		_, err = c.GetBucketMirrorBack(ctx, &tos.GetBucketMirrorBackInput{Bucket: "my-bucket"})
		require.NoError(t, err)
		_, err = c.DeleteBucketMirrorBack(ctx, &tos.DeleteBucketMirrorBackInput{Bucket: "my-bucket"})
		require.NoError(t, err)
		out, err := c.PreSignedURL(&tos.PreSignedURLInput{HTTPMethod: enum.HttpMethodGet, Bucket: "my-bucket",
			Key: "日本/a b+c", Query: map[string]string{"mirror": "", "x-y": "z w"}, Expires: 600})
		require.NoError(t, err)
		resp, err := (&http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}).Get(out.SignedUrl)
		require.NoError(t, err)
		resp.Body.Close()

		require.Len(t, got, 4, endpoint)
		for i, r := range got {
			assert.True(t, Claims(r), "%s request %d", endpoint, i)
			ak, e := Verify(r, secrets, time.Now())
			assert.Nil(t, e, "%s %s %s: %v", endpoint, r.Method, r.URL, e)
			assert.Equal(t, testAK, ak)
		}
		put := got[0]
		assert.Empty(t, put.Header.Get(ContentSHA256), "the SDK sends no body hash")
		assert.NotEmpty(t, put.Header.Get("Content-Md5"))
		assert.False(t, CoversBody(put), "so its PUT's body is not covered")
		if strings.Contains(endpoint, "gw.test") {
			assert.Equal(t, "my-bucket.gw.test:"+port, put.Host, "virtual-host style")
			assert.Equal(t, "/", put.URL.Path)
		} else {
			assert.Equal(t, "/my-bucket", put.URL.Path, "path style")
		}
	}
}

func TestRefusals(t *testing.T) {
	setAuth := func(old, new string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		}
	}
	setQuery := func(name, value string) func(*http.Request) {
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
	wrongSecret := func(t *testing.T) *http.Request {
		return signHeader(t, sdkRequest("PUT", "gw.test:8080", "/bucket", url.Values{"mirror": {""}}, nil), testAK, "wrong", at)
	}
	hdr := func(t *testing.T) *http.Request { return goodHeader(t) }
	pre := func(t *testing.T) *http.Request { return goodPresigned(t) }
	sum := sha256.Sum256([]byte("x"))
	hashed := func(t *testing.T) *http.Request {
		return signHeader(t, sdkRequest("PUT", "gw.test:8080", "/bucket", url.Values{"mirror": {""}},
			http.Header{ContentSHA256: {hex.EncodeToString(sum[:])}}), testAK, testSK, at)
	}
	none := func(*http.Request) {}
	for _, c := range []sigtest.Case{
		{Name: "header ok", Req: hdr, Edit: none, Now: at, Want: -1},
		{Name: "presigned ok", Req: pre, Edit: none, Now: at, Want: -1},
		{Name: "15 minutes behind", Req: hdr, Edit: none, Now: at.Add(15 * time.Minute), Want: -1},
		{Name: "15 minutes ahead", Req: hdr, Edit: none, Now: at.Add(-15 * time.Minute), Want: -1},
		{Name: "not signed", Req: hdr, Edit: func(r *http.Request) { r.Header.Del("Authorization") }, Now: at, Want: httpapi.AccessDenied},
		{Name: "wrong secret", Req: wrongSecret, Edit: none, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "unknown key", Req: hdr, Edit: setAuth("Credential="+testAK, "Credential=NOBODY"), Now: at, Want: httpapi.InvalidAccessKeyID},
		{Name: "unknown key presigned", Req: pre, Edit: setQuery(qCredential, "NOBODY/20261123/cn-beijing/tos/request"), Now: at, Want: httpapi.InvalidAccessKeyID},
		{Name: "stale", Req: hdr, Edit: none, Now: at.Add(16 * time.Minute), Want: httpapi.RequestExpired},
		{Name: "ahead", Req: hdr, Edit: none, Now: at.Add(-16 * time.Minute), Want: httpapi.RequestExpired},
		{Name: "presigned expired", Req: pre, Edit: none, Now: at.Add(time.Hour + time.Second), Want: httpapi.RequestExpired},
		{Name: "presigned too early", Req: pre, Edit: none, Now: at.Add(-16 * time.Minute), Want: httpapi.RequestExpired},

		{Name: "method", Req: hdr, Edit: func(r *http.Request) { r.Method = "DELETE" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "method presigned", Req: pre, Edit: func(r *http.Request) { r.Method = "DELETE" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "path", Req: hdr, Edit: func(r *http.Request) { r.URL.Path = "/other" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "path presigned", Req: pre, Edit: func(r *http.Request) { r.URL.Path = "/other" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "host", Req: hdr, Edit: func(r *http.Request) { r.Host = "other.gw.test:8080" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "host presigned", Req: pre, Edit: func(r *http.Request) { r.Host = "other.gw.test:8080" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "query added", Req: hdr, Edit: setQuery("acl", "x"), Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "query removed", Req: hdr, Edit: setQuery("mirror", ""), Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "query added presigned", Req: pre, Edit: setQuery("acl", "x"), Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "a signed header", Req: hdr, Edit: func(r *http.Request) { r.Header.Set("X-Tos-Meta-A", "z") }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "a signed header's spaces", Req: hdr, Edit: func(r *http.Request) { r.Header.Set("X-Tos-Meta-A", "b c") }, Now: at, Want: -1},
		{Name: "an unsigned header", Req: hdr, Edit: func(r *http.Request) { r.Header.Set("User-Agent", "x"); r.Header.Set("Content-Md5", "y") }, Now: at, Want: -1},
		{Name: "date", Req: hdr, Edit: func(r *http.Request) {
			r.Header.Set("X-Tos-Date", at.Add(time.Second).Format(timeFormat))
			r.Header.Set("Date", at.Add(time.Second).Format(timeFormat))
		}, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "date presigned", Req: pre, Edit: setQuery(qDate, at.Add(time.Second).Format(timeFormat)), Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "longer expiry", Req: pre, Edit: setQuery(qExpires, "7200"), Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "region", Req: hdr, Edit: setAuth("/cn-beijing/", "/cn-shanghai/"), Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "body hash", Req: hashed, Edit: func(r *http.Request) { r.Header.Set(ContentSHA256, strings.Repeat("0", 64)) }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "body hash dropped", Req: hashed, Edit: func(r *http.Request) { r.Header.Del(ContentSHA256) }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "body hash added", Req: hdr, Edit: func(r *http.Request) { r.Header.Set(ContentSHA256, unsignedPayload) }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		{Name: "signed header dropped from the list", Req: hdr, Edit: setAuth(";x-tos-meta-a", ""), Now: at, Want: httpapi.SignatureDoesNotMatch},

		{Name: "not TOS4-HMAC-SHA256", Req: hdr, Edit: setAuth(Algorithm, "TOS4-HMAC-SHA1"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "presigned algorithm", Req: pre, Edit: setQuery(qAlgorithm, "HMAC-SHA256"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "two Authorization headers", Req: hdr, Edit: func(r *http.Request) { r.Header.Add("Authorization", "x") }, Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "header and query", Req: hdr, Edit: setQuery(qSignature, strings.Repeat("0", 64)), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "misspelt query parameter", Req: pre, Edit: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, qSignature, "x-tos-signature", 1)
		}, Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "query that does not parse", Req: pre, Edit: func(r *http.Request) { r.URL.RawQuery += "&a=%zz" }, Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "no X-Tos-Date nor Date", Req: hdr, Edit: func(r *http.Request) { r.Header.Del("X-Tos-Date"); r.Header.Del("Date") }, Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "X-Tos-Date not canonical", Req: hdr, Edit: func(r *http.Request) { r.Header.Set("X-Tos-Date", "2026-11-23T10:00:00Z") }, Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "time header not signed", Req: hdr, Edit: setAuth("date;host;x-tos-date;", "host;"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "host not signed", Req: hdr, Edit: setAuth("host;", ""), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "signed headers unsorted", Req: hdr, Edit: setAuth("date;host", "host;date"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "scope service", Req: hdr, Edit: setAuth("/tos/request", "/s3/request"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "scope terminator", Req: hdr, Edit: setAuth("/tos/request", "/tos/aws4_request"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "scope day", Req: hdr, Edit: setAuth("/20261123/", "/20261122/"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "field twice", Req: hdr, Edit: setAuth(",Signature=", ",Credential=x,Signature="), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "unknown field", Req: hdr, Edit: setAuth("Signature=", "Sig="), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "short signature", Req: hdr, Edit: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1])
		}, Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "expires too long", Req: pre, Edit: setQuery(qExpires, "604801"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "expires zero", Req: pre, Edit: setQuery(qExpires, "0"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "expires signed", Req: pre, Edit: setQuery(qExpires, "+3600"), Now: at, Want: httpapi.MalformedAuthorization},
		{Name: "body hash not hex", Req: hdr, Edit: func(r *http.Request) { r.Header.Set(ContentSHA256, "xyz") }, Now: at, Want: httpapi.MalformedAuthorization},
	} {
		t.Run(c.Name, func(t *testing.T) {
			r := c.Req(t)
			c.Edit(r)
			sigtest.Expect(t, func() (string, *httpapi.Error) { return Verify(r, secrets, c.Now) }, c.Want, testAK)
		})
	}
}

// Without X-Tos-Date the time is read from Date (ISO 8601 as the SDK
// writes it, or HTTP's format), which must be signed; the signature
// still covers x-tos-date, so dropping it does not pass.
func TestDateHeader(t *testing.T) {
	r := signHeader(t, sdkRequest("GET", "gw.test", "/bucket", url.Values{"mirror": {""}}, nil), testAK, testSK, at)
	r.Header.Del("X-Tos-Date")
	_, e := Verify(r, secrets, at)
	assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), "the time from Date; x-tos-date signed, now empty")
	r.Header.Set("Date", at.Format(http.TimeFormat))
	_, e = Verify(r, secrets, at)
	assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), "HTTP's format read; the value signed was ISO")
	_, e = Verify(r, secrets, at.Add(time.Hour))
	assert.Equal(t, httpapi.RequestExpired, failure(e), "and judged by the clock")
	r.Header.Set("Date", "yesterday")
	_, e = Verify(r, secrets, at)
	assert.Equal(t, httpapi.MalformedAuthorization, failure(e))
}

func TestClaims(t *testing.T) {
	for _, c := range []struct {
		auth, query string
		want        bool
	}{
		{"TOS4-HMAC-SHA256 Credential=x", "", true},
		{"TOS4-anything", "", true},
		{"", "X-Tos-Algorithm=TOS4-HMAC-SHA256", true},
		{"", "mirror&x-tos-credential=a", true},
		{"", "X-Tos-Signature=0", true},
		{"", "a=%zz;X%2DTos%2DSignature=0", true},
		{"", "X-Tos-Date=20261123T100000Z&X-Tos-Expires=1", false},
		{"", "mirror", false},
		{"QS AK:x", "mirror", false},
		{"AWS4-HMAC-SHA256 Credential=x", "", false},
		{"tos4-hmac-sha256 x", "", false},
	} {
		r := httptest.NewRequest("GET", "/b?"+c.query, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		assert.Equal(t, c.want, Claims(r), "%q %q", c.auth, c.query)
	}
}

func TestCoversBody(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	for _, c := range []struct {
		name   string
		header http.Header
		want   bool
	}{
		{"nothing", nil, false},
		{"an unsigned Content-MD5 (the SDK's)", http.Header{"Content-Md5": {"x"}}, false},
		{"a body hash", http.Header{ContentSHA256: {hex.EncodeToString(sum[:])}}, true},
		{"UNSIGNED-PAYLOAD", http.Header{ContentSHA256: {unsignedPayload}}, false},
	} {
		r := signHeader(t, sdkRequest("PUT", "gw.test", "/b", url.Values{"mirror": {""}}, c.header), testAK, testSK, at)
		assert.Equal(t, c.want, CoversBody(r), c.name)
	}
	r := goodHeader(t)
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=content-md5;", 1))
	assert.True(t, CoversBody(r), "a signed Content-MD5")
}

// Hostile requests are refused without a panic or a hang, their messages
// short.
func TestHostileInput(t *testing.T) {
	names := make([]string, 0, 100_002)
	for i := range 100_000 {
		names = append(names, "a"+strings.Repeat("0", 7-len(itoa(i)))+itoa(i))
	}
	names = append(names, "host", "x-tos-date")
	var many strings.Builder
	for i := range 20_000 {
		many.WriteString("X-Tos-Signature=" + itoa(i) + "&")
	}
	for _, c := range []struct {
		name, auth, query string
		want              httpapi.Failure
	}{
		{"100000 signed headers", Algorithm + " Credential=" + testAK + "/20261123/cn-beijing/tos/request,SignedHeaders=" +
			strings.Join(names, ";") + ",Signature=" + strings.Repeat("0", 64), "", httpapi.SignatureDoesNotMatch},
		{"a megabyte of commas", Algorithm + " " + strings.Repeat(",", 1<<20), "", httpapi.MalformedAuthorization},
		{"a megabyte of slashes", Algorithm + " Credential=" + strings.Repeat("/", 1<<20) + ",SignedHeaders=host,Signature=x", "", httpapi.MalformedAuthorization},
		{"20000 parameters", "", many.String(), httpapi.MalformedAuthorization},
	} {
		r := httptest.NewRequest("GET", "/bucket", nil)
		r.Header.Set("X-Tos-Date", "20261123T100000Z")
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		r.URL.RawQuery = c.query
		start := time.Now()
		_, e := Verify(r, secrets, at)
		assert.Less(t, time.Since(start), 30*time.Second, c.name)
		assert.Equal(t, c.want, failure(e), "%s: %v", c.name, e)
		if e != nil {
			assert.Less(t, len(e.Message), 200, c.name)
		}
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// BenchmarkVerify is what one good request's verification costs.
func BenchmarkVerify(b *testing.B) {
	for _, c := range []struct {
		name string
		r    *http.Request
	}{{"header", goodHeader(b)}, {"presigned", goodPresigned(b)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, e := Verify(c.r, secrets, at); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}
