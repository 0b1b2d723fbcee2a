package configapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// cosDomain is the -domain COS buckets are named under in these tests.
const cosDomain = "cos.test"

// cosBucket is a COS bucket name: BUCKETNAME-APPID, the gateway's bucket.
const cosBucket = "examplebucket-1250000000"

// newCOSServer is newAPIServer answering virtual-host requests under
// cosDomain.
func newCOSServer(t *testing.T, tlsOn bool) *apiServer {
	s := newAPIServer(t, tlsOn)
	s.handler.Domain = cosDomain
	return s
}

// cosTransport sends every request to the server, whatever host the
// SDK names.
func (s *apiServer) cosTransport() *http.Transport {
	addr := s.Listener.Addr().String()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	if s.TLS != nil {
		tr.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		tr.TLSClientConfig.ServerName = "example.com" // what httptest's certificate names
	}
	return tr
}

// cosBucketURL is bucket's virtual host on the server.
func (s *apiServer) cosBucketURL(t *testing.T, bucket string) *url.URL {
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	scheme := "http"
	if s.TLS != nil {
		scheme = "https"
	}
	u, err := url.Parse(scheme + "://" + bucket + "." + cosDomain + ":" + port)
	require.NoError(t, err)
	return u
}

// cosClientWith is cos-go-sdk-v5 for bucket, its requests sent through rt
// (nil: unsigned).
func (s *apiServer) cosClientWith(t *testing.T, bucket string, rt func(base http.RoundTripper) http.RoundTripper) *cos.Client {
	var tr http.RoundTripper = s.cosTransport()
	if rt != nil {
		tr = rt(tr)
	}
	c := cos.NewClient(&cos.BaseURL{BucketURL: s.cosBucketURL(t, bucket)}, &http.Client{Transport: tr})
	c.Conf.RetryOpt.Count = 1 // a test wants the first answer
	return c
}

// cosClient is cos-go-sdk-v5 signing with a key, as its
// AuthorizationTransport does.
func (s *apiServer) cosClient(t *testing.T, ak, sk, bucket string) *cos.Client {
	return s.cosClientWith(t, bucket, func(base http.RoundTripper) http.RoundTripper {
		return &cos.AuthorizationTransport{SecretID: ak, SecretKey: sk, Transport: base}
	})
}

// cosSignedAt is a transport that signs with the SDK's signer at a time
// of the test's choosing.
type cosSignedAt struct {
	ak, sk string
	start  time.Time
	base   http.RoundTripper
}

func (c cosSignedAt) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	cos.AddAuthorizationHeader(c.ak, c.sk, "", r, &cos.AuthTime{SignStartTime: c.start, SignEndTime: c.start.Add(time.Hour),
		KeyStartTime: c.start, KeyEndTime: c.start.Add(time.Hour)})
	return c.base.RoundTrip(r)
}

// cosErr is the COS error an SDK call returned: its status, code and
// request id (the header's, checked against the body's).
func cosErr(t *testing.T, err error) (int, string) {
	t.Helper()
	var ce *cos.ErrorResponse
	if !errors.As(err, &ce) {
		return 0, "not a COS error: " + cosErrText(err)
	}
	id := ce.Response.Header.Get("X-Cos-Request-Id")
	assert.Regexp(t, `^[0-9a-f]{16}$`, id)
	assert.Equal(t, id, ce.RequestID)
	assert.Equal(t, id, ce.TraceID)
	return ce.Response.StatusCode, ce.Code
}

func cosErrText(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// cosRules is an origin configuration as the SDK puts it.
func cosRules(prefix string) *cos.BucketPutOriginOptions {
	follow := true
	return &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{{
		RulePriority: 1, OriginType: "Mirror",
		OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: prefix},
		OriginParameter: &cos.BucketOriginParameter{Protocol: "HTTPS", FollowRedirection: &follow,
			HttpHeader: &cos.BucketOriginHttpHeader{FollowHttpHeaders: []cos.OriginHttpHeader{{Key: "X-Trace"}}}},
		OriginInfo: &cos.BucketOriginInfo{
			HostInfo: &cos.BucketOriginHostInfo{HostName: "origin.example.com", StandbyHostName_N: []string{"standby.example.com"}},
			FileInfo: &cos.BucketOriginFileInfo{PrefixConfiguration: &cos.OriginPrefixConfiguration{Prefix: "site/"}},
		},
	}}}
}

// stored is the bucket's configuration as stored, "" for none.
func (s *apiServer) stored(t *testing.T, bucket string) string {
	format, doc, ok, err := s.registry.Config(context.Background(), bucket)
	require.NoError(t, err)
	if !ok {
		return ""
	}
	return string(format) + ":" + string(doc)
}

// cos-go-sdk-v5 puts, reads back and deletes a bucket's origin
// configuration, over http and https; the rules are in force at once.
func TestCOSWithTheSDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newCOSServer(t, tlsOn)
		c := s.cosClient(t, "ADMIN", "admin-secret", cosBucket)
		ctx := context.Background()

		_, _, err := c.Bucket.GetOrigin(ctx)
		status, code := cosErr(t, err)
		assert.Equal(t, 404, status)
		assert.Equal(t, "OriginConfigurationNotFoundError", code)

		rules := cosRules("img/")
		resp, err := c.Bucket.PutOrigin(ctx, rules)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		format, _, ok, err := s.registry.Config(ctx, cosBucket)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, mirror.FormatCOS, format)
		eng, err := s.registry.Engine(ctx, cosBucket)
		require.NoError(t, err)
		d, err := eng.Resolve(&mirror.Request{Key: "img/a.png"})
		require.NoError(t, err)
		assert.Equal(t, "https://origin.example.com/site/img/a.png", d.URLs[0], "in force at once")

		got, resp, err := c.Bucket.GetOrigin(ctx)
		require.NoError(t, err)
		assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
		assert.Equal(t, rules.Rule, got.Rule, "read back as put")

		resp, err = c.Bucket.DeleteOrigin(ctx)
		require.NoError(t, err)
		assert.Equal(t, 204, resp.StatusCode)
		_, _, err = c.Bucket.GetOrigin(ctx)
		_, code = cosErr(t, err)
		assert.Equal(t, "OriginConfigurationNotFoundError", code)
		assert.Empty(t, s.stored(t, cosBucket))
	}
}

// Each refusal is COS's code, and changes nothing: a wrong secret, an
// unknown key, a stale signature, none, a key outside its scope.
func TestCOSSignaturesAndScopes(t *testing.T) {
	s := newCOSServer(t, false)
	ctx := context.Background()
	admin := s.cosClient(t, "ADMIN", "admin-secret", cosBucket)
	_, err := admin.Bucket.PutOrigin(ctx, cosRules("img/"))
	require.NoError(t, err)
	before := s.stored(t, cosBucket)
	for _, c := range []struct {
		name   string
		client *cos.Client
		status int
		code   string
	}{
		{"wrong secret", s.cosClient(t, "ADMIN", "wrong", cosBucket), 403, "SignatureDoesNotMatch"},
		{"unknown key", s.cosClient(t, "NOBODY", "admin-secret", cosBucket), 403, "InvalidAccessKeyId"},
		{"stale", s.cosClientWith(t, cosBucket, func(base http.RoundTripper) http.RoundTripper {
			return cosSignedAt{"ADMIN", "admin-secret", time.Now().Add(-2 * time.Hour), base}
		}), 403, "RequestTimeTooSkewed"},
		{"signed ahead", s.cosClientWith(t, cosBucket, func(base http.RoundTripper) http.RoundTripper {
			return cosSignedAt{"ADMIN", "admin-secret", time.Now().Add(20 * time.Minute), base}
		}), 403, "RequestTimeTooSkewed"},
		{"not signed", s.cosClientWith(t, cosBucket, nil), 403, "AccessDenied"},
		{"outside its scope", s.cosClient(t, "TENANT", "tenant-secret", cosBucket), 403, "AccessDenied"},
	} {
		_, err := c.client.Bucket.PutOrigin(ctx, cosRules("other/"))
		status, code := cosErr(t, err)
		assert.Equal(t, c.status, status, c.name)
		assert.Equal(t, c.code, code, c.name)
		_, err = c.client.Bucket.DeleteOrigin(ctx)
		_, code = cosErr(t, err)
		assert.Equal(t, c.code, code, c.name)
		_, _, err = c.client.Bucket.GetOrigin(ctx)
		_, code = cosErr(t, err)
		assert.Equal(t, c.code, code, c.name)
		assert.Equal(t, before, s.stored(t, cosBucket), "%s: unchanged", c.name)
	}
	// The scoped key configures its own buckets.
	tenant := s.cosClient(t, "TENANT", "tenant-secret", "tenant-a-1250000000")
	_, err = tenant.Bucket.PutOrigin(ctx, cosRules("t/"))
	require.NoError(t, err)
	_, err = tenant.Bucket.DeleteOrigin(ctx)
	require.NoError(t, err)
}

// cosRequest is a raw request for /?origin on cosBucket, its headers set,
// signed by the SDK's signer now with the ADMIN key.
func cosRequest(t *testing.T, s *apiServer, method string, body []byte, header http.Header) *http.Request {
	req, err := http.NewRequest(method, s.cosBucketURL(t, cosBucket).String()+"/?origin", bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	cos.AddAuthorizationHeader("ADMIN", "admin-secret", "", req, cos.NewAuthTime(time.Hour))
	return req
}

// cosSend sends req with body (its own, or another) and reads COS's answer.
func cosSend(t *testing.T, s *apiServer, req *http.Request, body []byte) (int, httpapi.COSError) {
	req = req.Clone(context.Background())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp, err := (&http.Client{Transport: s.cosTransport()}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var e httpapi.COSError
	if resp.StatusCode >= 300 {
		require.NoError(t, xml.Unmarshal(b, &e), string(b))
		assert.Equal(t, resp.Header.Get("X-Cos-Request-Id"), e.RequestID)
		assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, e
}

func cosMD5(b []byte) string { sum := md5.Sum(b); return base64.StdEncoding.EncodeToString(sum[:]) }

const cosDoc = `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
	`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode><Prefix>%s</Prefix></OriginCondition>` +
	`<OriginParameter><Protocol>HTTPS</Protocol></OriginParameter>` +
	`<OriginInfo><HostInfo><HostName>origin.example.com</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`

func cosDocFor(prefix string) []byte { return []byte(strings.Replace(cosDoc, "%s", prefix, 1)) }

// A PUT's body is covered by its signature: a signed Content-MD5 (as the
// SDK sends) or x-cos-content-sha1, each held to the body; a PUT that
// signs neither is refused; a captured PUT replayed later is answered as
// done and not made again.
func TestCOSBodyIsCovered(t *testing.T) {
	s := newCOSServer(t, false)
	a, b := cosDocFor("a/"), cosDocFor("b/")
	md5Header := http.Header{"Content-Md5": {cosMD5(a)}, "Content-Type": {"application/xml"}}

	putA := cosRequest(t, s, "PUT", a, md5Header)
	status, e := cosSend(t, s, putA, b)
	assert.Equal(t, 400, status, "another body under a signed Content-MD5")
	assert.Equal(t, "BadDigest", e.Code)
	assert.Empty(t, s.stored(t, cosBucket))

	status, e = cosSend(t, s, cosRequest(t, s, "PUT", a, http.Header{"Content-Type": {"application/xml"}}), a)
	assert.Equal(t, 400, status, "no digest signed")
	assert.Equal(t, "InvalidArgument", e.Code)
	assert.Contains(t, e.Message, "content-md5")
	assert.Empty(t, s.stored(t, cosBucket))

	sum := sha1.Sum(a)
	sha := http.Header{"X-Cos-Content-Sha1": {hex.EncodeToString(sum[:])}}
	status, e = cosSend(t, s, cosRequest(t, s, "PUT", a, sha), b)
	assert.Equal(t, 400, status, "another body under a signed x-cos-content-sha1")
	assert.Equal(t, "BadDigest", e.Code)
	status, _ = cosSend(t, s, cosRequest(t, s, "PUT", a, sha), a)
	assert.Equal(t, 200, status, "x-cos-content-sha1 covers the body")

	status, _ = cosSend(t, s, putA, a)
	require.Equal(t, 200, status)
	time.Sleep(time.Second) // another second, another signature
	status, _ = cosSend(t, s, cosRequest(t, s, "PUT", b, http.Header{"Content-Md5": {cosMD5(b)}}), b)
	require.Equal(t, 200, status)
	withB := s.stored(t, cosBucket)
	status, _ = cosSend(t, s, putA, a)
	assert.Equal(t, 200, status, "the same write again is answered as done")
	assert.Equal(t, withB, s.stored(t, cosBucket), "and not made again: the newer PUT stands")
}

// A body that is not an OriginConfiguration is COS's MalformedXML; one
// that is, but is not a valid configuration, InvalidArgument with every
// problem.
func TestCOSDocuments(t *testing.T) {
	s := newCOSServer(t, false)
	for body, code := range map[string]string{
		`{"rules": []}`: "MalformedXML",
		`<OriginConfiguration><OriginRule></OriginConfiguration>`:                                            "MalformedXML",
		`<WebsiteConfiguration/>`:                                                                            "MalformedXML",
		`<OriginConfiguration/><OriginConfiguration/>`:                                                       "MalformedXML",
		`<?xml version="1.0" encoding="GBK"?><OriginConfiguration/>`:                                         "MalformedXML",
		`<!DOCTYPE x [<!ENTITY a "b">]><OriginConfiguration>&a;</OriginConfiguration>`:                       "MalformedXML",
		string(cosDocFor("")) + "trailing":                                                                   "MalformedXML",
		`<OriginConfiguration><OriginRule><RulePriority>x</RulePriority></OriginRule></OriginConfiguration>`: "InvalidArgument",
	} {
		req := cosRequest(t, s, "PUT", []byte(body), http.Header{"Content-Md5": {cosMD5([]byte(body))}})
		status, e := cosSend(t, s, req, []byte(body))
		assert.Equal(t, 400, status, body)
		assert.Equal(t, code, e.Code, "%s: %s", body, e.Message)
		assert.Equal(t, cosBucket+"."+cosDomain+":"+cosPort(s)+"/", e.Resource)
	}
	assert.Empty(t, s.stored(t, cosBucket))
}

func cosPort(s *apiServer) string {
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	return port
}

// A bucket has one configuration: one BOS put is refused through COS's
// GET where COS can not say it, naming the API that put it; one -bucket
// put (a native document) is read through it converted to an
// OriginConfiguration; COS's DELETE removes either.
func TestCOSReadsAnotherAPIsConfiguration(t *testing.T) {
	s := newCOSServer(t, false)
	ctx := context.Background()
	c := s.cosClient(t, "ADMIN", "admin-secret", cosBucket)
	require.NoError(t, s.bosClient(t, "ADMIN", "admin-secret").PutBucketMirror(cosBucket, bosRules))
	_, _, err := c.Bucket.GetOrigin(ctx)
	status, code := cosErr(t, err)
	assert.Equal(t, 400, status)
	assert.Equal(t, "InvalidRequest", code)
	assert.Contains(t, err.Error(), "BOS PutBucketMirroring")
	_, err = c.Bucket.DeleteOrigin(ctx)
	require.NoError(t, err)
	assert.Empty(t, s.stored(t, cosBucket))

	native := `{"rules": [{"mode": "fetch", "match": {"prefix": "img/"}, "on": "miss", "sourceUrls": ["https://origin.example.com"],
		"passQuerystring": true, "fetch": {"followRedirects": 10, "checkMd5": false, "store": true, "saveMeta": true, "lastModified": "fetched"}}]}`
	require.NoError(t, s.registry.Put(ctx, cosBucket, mirror.FormatNative, []byte(native)))
	got, _, err := c.Bucket.GetOrigin(ctx)
	require.NoError(t, err)
	require.Len(t, got.Rule, 1)
	assert.Equal(t, "origin.example.com", got.Rule[0].OriginInfo.HostInfo.HostName)
	assert.Equal(t, "img/", got.Rule[0].OriginCondition.Prefix)
	// A second DELETE signed in the same second would carry the first
	// one's signature, and be answered as done without being made
	// (docs/SERVING.md §4.3): an x-cos- header of the client's own, which
	// the SDK signs, makes its signature its own.
	//lint:ignore SA1029 the SDK reads its options under its own string key
	ctx = context.WithValue(ctx, cos.XOptionalKey, &cos.XOptionalValue{Header: &http.Header{"X-Cos-Meta-Nonce": {"2"}}})
	_, err = c.Bucket.DeleteOrigin(ctx)
	require.NoError(t, err)
	assert.Empty(t, s.stored(t, cosBucket))
}

// A presigned URL reads a configuration but never writes one.
func TestCOSPresignedURLs(t *testing.T) {
	s := newCOSServer(t, false)
	ctx := context.Background()
	_, err := s.cosClient(t, "ADMIN", "admin-secret", cosBucket).Bucket.PutOrigin(ctx, cosRules("img/"))
	require.NoError(t, err)
	before := s.stored(t, cosBucket)
	for method, want := range map[string]int{"GET": 200, "DELETE": 403} {
		req, err := http.NewRequest(method, s.cosBucketURL(t, cosBucket).String()+"/?origin=", nil)
		require.NoError(t, err)
		cos.AddAuthorizationHeader("ADMIN", "admin-secret", "", req, cos.NewAuthTime(time.Hour))
		// The auth string in the query, as GetPresignedURL puts it.
		auth := req.Header.Get("Authorization")
		req.Header.Del("Authorization")
		req.URL.RawQuery += "&" + strings.ReplaceAll(auth, ";", "%3B")
		resp, err := (&http.Client{Transport: s.cosTransport()}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, method)
	}
	assert.Equal(t, before, s.stored(t, cosBucket))
}
