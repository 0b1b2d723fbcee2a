package objectapi

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each row of the object path's table (docs/SERVING.md §1).

func TestStoredObjectIsServedWithoutTheOrigin(t *testing.T) {
	o := newOrigin(t, content("0123456789", "Content-Type: text/plain; charset=utf-8", "Cache-Control: max-age=60",
		"Content-Disposition: attachment", "X-Secret: no", "Set-Cookie: s=1"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL, `"storageClass":"cold"`))
	_, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err)
	require.Equal(t, int64(1), o.hits.Load())

	for _, method := range []string{"GET", "HEAD"} {
		resp := g.do(method, "/bkt/k")
		b, err := body(resp)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, method)
		if method == "GET" {
			assert.Equal(t, "0123456789", b)
		} else {
			assert.Empty(t, b)
		}
		assert.Equal(t, "10", resp.Header.Get("Content-Length"), method)
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, `"781e5e245d69b566979b86e28d23f2c7"`, resp.Header.Get("ETag"), "hex MD5 of the body")
		assert.NotEmpty(t, resp.Header.Get("Last-Modified"))
		assert.Equal(t, "max-age=60", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "attachment", resp.Header.Get("Content-Disposition"))
		assert.Equal(t, "COLD", resp.Header.Get("X-Bce-Storage-Class"))
		assert.Empty(t, resp.Header.Get("X-Secret"))
		assert.Empty(t, resp.Header.Get("Set-Cookie"))
		assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	}
	resp := g.do("GET", "/bkt/k", "Range: bytes=2-4")
	b, _ := body(resp)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "234", b)
	resp = g.do("GET", "/bkt/k", `If-None-Match: "781e5e245d69b566979b86e28d23f2c7"`)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	resp = g.do("GET", "/bkt/k", "If-Modified-Since: "+time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	resp.Body.Close()
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Equal(t, int64(1), o.hits.Load(), "no origin contact for hits")

	// A stored object without a Content-Type is application/octet-stream,
	// never sniffed.
	o2 := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		_, _ = w.Write([]byte("<html>hi</html>"))
	})
	g.setRules("b2b", fetchRule(o2.URL))
	miss := g.do("GET", "/b2b/page")
	_, _ = body(miss)
	hit := g.do("GET", "/b2b/page")
	_, _ = body(hit)
	assert.Equal(t, "application/octet-stream", miss.Header.Get("Content-Type"))
	assert.Equal(t, "application/octet-stream", hit.Header.Get("Content-Type"))
}

func TestMissWithoutConfiguration(t *testing.T) {
	g := newGateway(t)
	resp := g.do("GET", "/nobucket/k")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "NoSuchBucket", errorCode(t, resp).Code)

	// Stored objects stay served after the configuration is deleted, and
	// a miss there is NoSuchKey.
	o := newOrigin(t, content("x"))
	g.setRules("bkt", fetchRule(o.URL))
	_, err := body(g.do("GET", "/bkt/kept"))
	require.NoError(t, err)
	g.deleteRules("bkt")
	resp = g.do("GET", "/bkt/kept")
	b, _ := body(resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "x", b)
	resp = g.do("GET", "/bkt/other")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "NoSuchKey", errorCode(t, resp).Code)
}

func TestEngineAnswersOnAMiss(t *testing.T) {
	o := newOrigin(t, content("x"))
	g := newGateway(t)
	g.setRules("bkt", `{"rules":[
		{"mode":"fetch","sourceUrl":"`+o.URL+`","resource":"img/*","passQuerystring":true},
		{"mode":"redirect","sourceUrl":"https://cdn.example.com/v","resource":"video/*","passQuerystring":true,"redirectCode":307}]}`)
	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/bkt/other/k", 404, "NoSuchKey"},
		{"/bkt/img/a/../../x", 400, "InvalidObjectName"},
		{"/bkt/img/%2e%2e", 400, "InvalidObjectName"},
		{"/bkt/img/%EF%BC%8E%EF%BC%8E/x", 400, "InvalidObjectName"},
		{"/bkt/img/%FF", 400, "InvalidObjectName"},
		{"/bkt/img/a%00b", 400, "InvalidObjectName"},
		{"/bkt/img/" + strings.Repeat("k", 1100), 400, "InvalidObjectName"},
		{"/bkt/img/x?a=1;b=2", 400, "InvalidArgument"},
		{"/bkt/?policy", 501, "NotImplemented"}, // a bucket request, not an empty key (issue 17)
		{"/Bad_Bucket/k", 400, "InvalidBucketName"},
	} {
		resp := g.do("GET", tt.path)
		assert.Equal(t, tt.status, resp.StatusCode, tt.path)
		assert.Equal(t, tt.code, errorCode(t, resp).Code, tt.path)
	}
	assert.Zero(t, o.hits.Load())

	// A redirect rule answers with its code and Location, and never
	// contacts an origin.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(g.srv.URL + "/bkt/video/intro%201.mp4?t=10&x-oss-signature=x")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 307, resp.StatusCode)
	assert.Equal(t, "https://cdn.example.com/v/video/intro%201.mp4?t=10", resp.Header.Get("Location"))

	// An S3 v2 presigned URL is a signature scheme the gateway does not
	// take (issue 16): refused, never passed on.
	resp, err = client.Get(g.srv.URL + "/bkt/video/intro%201.mp4?t=10&Signature=x")
	require.NoError(t, err)
	assert.Equal(t, 403, resp.StatusCode)
	assert.Equal(t, "AccessDenied", errorCode(t, resp).Code)
}

func TestHeadOfAMissingKeyNeverFetches(t *testing.T) {
	o := newOrigin(t, content("x"))
	g := newGateway(t)
	g.handler.NoHeadFetch = true // the old row, kept by a flag (issue 17)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("HEAD", "/bkt/k")
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Zero(t, o.hits.Load())
}

// Issue 17: a HEAD of a missing key pulls, as a GET would: it answers
// once the origin's headers are in, with what a GET would say of the
// object (the origin's Last-Modified, its Content-MD5 as the ETag), and
// the fetch runs on and stores the object, so the tool's GET hits.
func TestHeadOfAMissingKeyPulls(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==") // md5("hello")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "hello")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("HEAD", "/bkt/k")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "answered before the body arrived")
	assert.Equal(t, "5", resp.Header.Get("Content-Length"))
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	assert.Equal(t, "Mon, 02 Jan 2006 15:04:05 GMT", resp.Header.Get("Last-Modified"))
	assert.Equal(t, `"5d41402abc4b2a76b9719d911017c592"`, resp.Header.Get("ETag"))
	assert.Equal(t, "bytes", resp.Header.Get("Accept-Ranges"))
	close(release)
	require.Eventually(t, func() bool { _, _, ok := g.stored("bkt", "k"); return ok }, 5*time.Second, 10*time.Millisecond,
		"the fetch ran on and stored the object")
	resp = g.do("GET", "/bkt/k")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, "hello", b)
	assert.Equal(t, "Mon, 02 Jan 2006 15:04:05 GMT", resp.Header.Get("Last-Modified"), "the hit says what the miss said")
	assert.Equal(t, int64(1), o.hits.Load())

	// The origin's 404 is the HEAD's 404, without a body.
	gone := newOrigin(t, http.NotFound)
	g.setRules("gone", fetchRule(gone.URL))
	resp = g.do("HEAD", "/gone/k")
	b, _ = body(resp)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Empty(t, b)
}

// Issue 17: a HEAD of a miss whose ETag can not be known before its body
// (no Content-MD5, larger than SmallObject) waits for the commit, up to
// HeadWait, and answers as a hit with the ETag: s3cmd's get fails on a
// HEAD without one. A fetch still running then is answered without it.
func TestHeadWaitsForTheETag(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.(http.Flusher).Flush()
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "hello")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("HEAD", "/bkt/k")
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, `"5d41402abc4b2a76b9719d911017c592"`, resp.Header.Get("ETag"))
	assert.Equal(t, "5", resp.Header.Get("Content-Length"))

	g.handler.HeadWait = 50 * time.Millisecond
	resp = g.do("HEAD", "/bkt/slow")
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("ETag"), "still fetching after HeadWait")
	assert.Equal(t, "5", resp.Header.Get("Content-Length"))
	close(release)
	require.Eventually(t, func() bool { _, _, ok := g.stored("bkt", "slow"); return ok }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(2), o.hits.Load())
}

// Review of issue 17: a conditional or multi-range HEAD of a miss waited
// for the whole fetch, past HeadWait.
func TestEveryHeadIsHeldToHeadWait(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "hello")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	g.handler.HeadWait = 100 * time.Millisecond
	g.handler.SmallObject = 1024
	for i, hdr := range []string{"If-None-Match: \"x\"", "If-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT", "Range: bytes=0-0,2-3", "X-Small: 1"} {
		done := make(chan *http.Response, 1)
		go func() { done <- g.do("HEAD", "/bkt/k"+strconv.Itoa(i), hdr) }()
		select {
		case resp := <-done:
			resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode, hdr)
			assert.Equal(t, "5", resp.Header.Get("Content-Length"), hdr)
			assert.Empty(t, resp.Header.Get("ETag"), hdr)
		case <-time.After(5 * time.Second):
			t.Fatalf("a HEAD with %q still waits, long after HeadWait", hdr)
		}
	}
}

// Issue 17: HEADs and GETs racing on one missing key make one origin
// request.
func TestHeadsAndGetsShareOneFetch(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "hello")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := g.do([]string{"HEAD", "GET"}[i%2], "/bkt/k")
			_, _ = body(resp)
			assert.Equal(t, 200, resp.StatusCode)
		}()
	}
	require.Eventually(t, func() bool { return o.hits.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), o.hits.Load())
}

func TestLoopMarkerNeverFetches(t *testing.T) {
	o := newOrigin(t, content("x"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	for _, via := range []string{"1.1 mirrorkit", "1.0 proxy, 1.1 MirrorKit", "HTTP/1.1 mirrorkit-edge"} {
		resp := g.do("GET", "/bkt/k", "Via: "+via)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, via)
		assert.Equal(t, "NoSuchKey", errorCode(t, resp).Code)
	}
	assert.Zero(t, o.hits.Load())

	// A gateway whose rule names itself stops after one hop: its own
	// origin request carries the marker.
	g.setRules("self", fetchRule(g.srv.URL+"/self"))
	resp := g.do("GET", "/self/k")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "NoSuchKey", errorCode(t, resp).Code)
}

func TestOtherMethods(t *testing.T) {
	g := newGateway(t)
	// OPTIONS is a preflight: cors_test.go; DELETE a purge: purge_test.go.
	for _, m := range []string{"PUT", "POST", "PATCH"} {
		resp := g.do(m, "/bkt/k")
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD, DELETE", resp.Header.Get("Allow"))
		assert.Equal(t, "MethodNotAllowed", errorCode(t, resp).Code)
	}
}

// The key is the path after the bucket, decoded exactly once; with a
// domain, BUCKET.DOMAIN addresses the bucket virtual-host style.
func TestKeysAndVirtualHosts(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(r.URL.EscapedPath())) })
	g := newGateway(t)
	g.handler.Domain = "mirror.test"
	g.setRules("bkt", fetchRule(o.URL))
	for path, want := range map[string]string{
		"/bkt/a%2Fb":      "/a/b",
		"/bkt/a%252Fb":    "/a%252Fb",
		"/bkt/a%20b+c":    "/a%20b%2Bc",
		"/bkt//lead":      "//lead",
		"/bkt/%E6%97%A5a": "/%E6%97%A5a",
	} {
		b, err := body(g.do("GET", path))
		require.NoError(t, err)
		assert.Equal(t, want, b, path)
	}
	req := httptest.NewRequest("GET", "/v/x", nil)
	req.Host = "bkt.mirror.test:8080"
	rec := httptest.NewRecorder()
	g.handler.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "/v/x", rec.Body.String())
	_, _, ok := g.stored("bkt", "v/x")
	assert.True(t, ok)
}

// A Handler with only a Store and a Registry works as its doc says: it
// fetches with a Fetcher of its own, with every default, so the dial
// guard refuses the loopback origin (a Handler of before issue 15
// panicked here, on a nil Fetcher). A Handler with only a Store serves
// stored objects and answers misses NoSuchBucket.
func TestZeroHandlerWithAStore(t *testing.T) {
	g := newGateway(t)
	o := newOrigin(t, content("x"))
	g.setRules("bkt", fetchRule(o.URL))
	zero := httptest.NewServer(&Handler{Store: g.store, Registry: g.configs})
	defer zero.Close()
	resp, err := http.Get(zero.URL + "/bkt/k")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "S3's dialect by default (issue 17): a 5xx S3 SDKs retry")
	assert.Equal(t, "MirrorFailed", s3Error(t, resp).Code)
	assert.Zero(t, o.hits.Load(), "the default Fetcher guards its dials")

	_, err = body(g.do("GET", "/bkt/stored"))
	require.NoError(t, err)
	bare := httptest.NewServer(&Handler{Store: g.store})
	defer bare.Close()
	resp, err = http.Get(bare.URL + "/bkt/stored")
	require.NoError(t, err)
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, "x", b)
	resp, err = http.Get(bare.URL + "/other-bkt/k")
	require.NoError(t, err)
	assert.Equal(t, "NoSuchBucket", s3Error(t, resp).Code)
}

// s3Error reads an S3 XML error answer.
func s3Error(t *testing.T, resp *http.Response) httpapi.S3Error {
	t.Helper()
	defer resp.Body.Close()
	require.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	var e httpapi.S3Error
	require.NoError(t, xml.NewDecoder(resp.Body).Decode(&e))
	require.Equal(t, resp.Header.Get("X-Amz-Request-Id"), e.RequestID)
	return e
}

// Issue 17: errors come in the client's dialect: its signature's, else its
// vendor headers', else the gateway's choice (S3's by default).
func TestErrorsComeInTheClientsDialect(t *testing.T) {
	g := newGateway(t)
	for _, c := range []struct {
		errors, header, contentType, idHeader, code string
	}{
		{"", "", "application/xml", "X-Amz-Request-Id", "<Code>NoSuchBucket</Code>"},
		{"json", "X-Amz-Date: 20261207T000000Z", "application/xml", "X-Amz-Request-Id", "<Code>NoSuchBucket</Code>"},
		{"", "X-Bce-Date: 2026-12-07T00:00:00Z", "application/json; charset=utf-8", "X-Bce-Request-Id", `"code":"NoSuchBucket"`},
		{"", "X-QS-Date: Mon, 07 Dec 2026 00:00:00 GMT", "application/json", "X-QS-Request-ID", `"code":"bucket_not_exists"`},
		{"bos", "", "application/json; charset=utf-8", "X-Bce-Request-Id", `"code":"NoSuchBucket"`},
		{"json", "", "application/json; charset=utf-8", "X-Request-Id", `"code":"NoSuchBucket"`},
	} {
		g.handler.Errors = c.errors
		var headers []string
		if c.header != "" {
			headers = append(headers, c.header)
		}
		resp := g.do("GET", "/no-bucket/k", headers...)
		b, _ := body(resp)
		assert.Equal(t, 404, resp.StatusCode, "%+v", c)
		assert.Equal(t, c.contentType, resp.Header.Get("Content-Type"), "%+v", c)
		assert.NotEmpty(t, resp.Header.Get(c.idHeader), "%+v", c)
		assert.Contains(t, b, c.code, "%+v", c)
		head := g.do("HEAD", "/no-bucket/k", headers...)
		hb, _ := body(head)
		assert.Equal(t, 404, head.StatusCode)
		assert.Empty(t, hb, "a HEAD has no body")
	}
}

// Issue 17: bucket requests are answered, never taken for an empty key:
// GET ?location and HEAD of an existing bucket, 404 NoSuchBucket for
// one with neither rules nor objects, listings (list_test.go), and 501
// for the rest.
func TestBucketRequests(t *testing.T) {
	o := newOrigin(t, content("x"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	for _, c := range []struct {
		method, path string
		status       int
		has          string
	}{
		{"GET", "/bkt?location", 200, "<LocationConstraint"},
		{"GET", "/bkt/?location", 200, "<LocationConstraint"},
		{"HEAD", "/bkt", 200, ""},
		{"HEAD", "/nobkt", 404, ""},
		{"GET", "/nobkt?location", 404, "NoSuchBucket"},
		{"GET", "/bkt", 200, "<ListBucketResult"},
		{"GET", "/bkt?list-type=2", 200, "<KeyCount>0</KeyCount>"},
		{"GET", "/bkt?list-type=1", 400, "InvalidArgument"},
		{"GET", "/nobkt?list-type=2", 404, "NoSuchBucket"},
		{"GET", "/bkt?uploads", 501, "NotImplemented"},
		{"GET", "/bkt?list-type=2&versions", 501, "NotImplemented"},
		{"GET", "/bkt?policy", 501, "NotImplemented"},
	} {
		resp := g.do(c.method, c.path)
		b, _ := body(resp)
		assert.Equal(t, c.status, resp.StatusCode, "%s %s", c.method, c.path)
		assert.Contains(t, b, c.has, "%s %s", c.method, c.path)
	}
	assert.Zero(t, o.hits.Load(), "no bucket request fetches")
}

// Issue 17: minio-go with its default options (no region) asks the
// bucket's location first; that was taken for an empty key. Now it reads
// an unfetched key, a stored one, and hears NoSuchKey for one the origin
// lacks.
func TestMinioGoWithDefaultOptions(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		content("from the origin")(w, r)
	})
	g := newGateway(t)
	g.handler.Errors = "" // S3's dialect, as mirror serve's default
	g.setRules("bkt", fetchRule(o.URL))
	c, err := minio.New(strings.TrimPrefix(g.srv.URL, "http://"), &minio.Options{Creds: credentials.NewStaticV4("", "", "")})
	require.NoError(t, err)
	for range 2 { // a miss, then a hit
		obj, err := c.GetObject(context.Background(), "bkt", "k", minio.GetObjectOptions{})
		require.NoError(t, err)
		b, err := io.ReadAll(obj)
		require.NoError(t, err)
		assert.Equal(t, "from the origin", string(b))
	}
	_, err = c.StatObject(context.Background(), "bkt", "k", minio.StatObjectOptions{})
	require.NoError(t, err)
	obj, err := c.GetObject(context.Background(), "bkt", "gone", minio.GetObjectOptions{})
	require.NoError(t, err)
	_, err = io.ReadAll(obj)
	assert.Equal(t, "NoSuchKey", minio.ToErrorResponse(err).Code)
}

// Issue 17: a small miss whose ETag the origin does not give is answered
// once stored, ETag and all (qingstor-sdk-go's ETag was nil on the miss);
// a larger one streams without it.
func TestSmallMissesCarryTheirETag(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		content(map[string]string{"/small": "hello", "/big": strings.Repeat("x", 2000)}[r.URL.Path])(w, r)
	})
	g := newGateway(t)
	g.handler.SmallObject = 1024
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/small")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, "hello", b)
	assert.Equal(t, `"5d41402abc4b2a76b9719d911017c592"`, resp.Header.Get("ETag"))
	assert.NotEmpty(t, resp.Header.Get("Last-Modified"))
	resp = g.do("GET", "/bkt/big")
	_, err = body(resp)
	require.NoError(t, err)
	assert.Empty(t, resp.Header.Get("ETag"), "streamed: its ETag is not known yet")
	assert.NotEmpty(t, resp.Header.Get("Last-Modified"))
}
