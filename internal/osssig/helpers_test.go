package osssig

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "OSSAK", "oss-secret", sigtest.At, sigtest.Secrets("OSSAK", "oss-secret")

// hardKeys are keys whose paths every encoder has an opinion on.
var hardKeys = []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "(paren)*star!", "emoji😀/ü", "a//b"}

// capture is an HTTP client that keeps the request the SDK sends, as the
// server reads it off the wire, and answers 200.
type capture struct {
	last *http.Request
	body []byte
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	s := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader(body))
	s.Host = r.URL.Host
	for k, v := range r.Header {
		s.Header[k] = append([]string(nil), v...)
	}
	c.last, c.body = s, body
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(strings.NewReader("<WebsiteConfiguration></WebsiteConfiguration>")), Request: r}, nil
}

// sdk is the OSS SDK for the gateway at http://gw.test:8080, signing
// with version v, path-style or virtual-host, sending through client.
func sdk(v oss.SignatureVersionType, pathStyle bool, client oss.HTTPClient, additional ...string) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testAK, testSK)).
		WithRegion("cn-hangzhou").WithEndpoint("http://gw.test:8080").
		WithSignatureVersion(v).WithUsePathStyle(pathStyle).WithRetryMaxAttempts(1)
	cfg.HttpClient = client
	if len(additional) > 0 {
		cfg = cfg.WithAdditionalHeaders(additional)
	}
	return oss.NewClient(cfg)
}

// versions are the SDK's two signature versions, by name.
var versions = map[string]oss.SignatureVersionType{"v1": oss.SignatureVersionV1, "v4": oss.SignatureVersionV4}

// signedAt is a request for target (an absolute URL) signed by the SDK's
// signer s at when (for a V1 query, when is the expiry) with the resource
// /bucket/key, as the server reads it.
func signedAt(t testing.TB, s signer.Signer, method, target, bucket, key string, header http.Header, when time.Time, query bool) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = append([]string(nil), v...)
	}
	product, region := "oss", "cn-hangzhou"
	ctx := &signer.SigningContext{Product: &product, Region: &region, Request: req, Time: when, AuthMethodQuery: query,
		Credentials: &credentials.Credentials{AccessKeyID: testAK, AccessKeySecret: testSK}}
	if bucket != "" {
		ctx.Bucket = &bucket
	}
	if key != "" {
		ctx.Key = &key
	}
	for name := range req.URL.Query() {
		if subResources[name] {
			ctx.SubResource = append(ctx.SubResource, name)
		}
	}
	if err := s.Sign(context.Background(), ctx); err != nil {
		t.Fatal(err)
	}
	return sigtest.Received(t, method, req.URL.String(), req.Header)
}

// websitePut is a PUT /bucket?website as the SDK sends it, signed by s at
// when.
func websitePut(t testing.TB, s signer.Signer, when time.Time) *http.Request {
	return signedAt(t, s, "PUT", "http://gw.test:8080/bucket/?website", "bucket", "", http.Header{
		"Content-Type": {"application/xml"}, "Content-Md5": {"XrY7u+Ae7tCTyyK7j1rNww=="}, "X-Oss-Meta-A": {" b "},
	}, when, false)
}

// objectGet is a GET of /bucket/KEY?response-content-type=text/plain
// signed by s at when (the expiry, for query).
func objectGet(t testing.TB, s signer.Signer, key string, when time.Time, query bool) *http.Request {
	return signedAt(t, s, "GET", "http://gw.test:8080/bucket/"+escapePath(key)+"?response-content-type=text%2Fplain",
		"bucket", key, nil, when, query)
}

// presigned is the SDK's Presign of a GetObject of key, good for an hour
// from now, as the server reads it, and the instant it was made.
func presigned(t testing.TB, v oss.SignatureVersionType, pathStyle bool, key string) (*http.Request, time.Time) {
	t.Helper()
	now := time.Now()
	res, err := sdk(v, pathStyle, &capture{}).Presign(context.Background(), &oss.GetObjectRequest{
		Bucket: oss.Ptr("bucket"), Key: oss.Ptr(key), ResponseContentType: oss.Ptr("text/plain"),
	}, oss.PresignExpiration(now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	return sigtest.Received(t, res.Method, res.URL, nil), now
}

func failure(e *httpapi.Error) httpapi.Failure {
	if e == nil {
		return -1
	}
	return e.Failure
}

func credentialsFor(ak, sk string) *credentials.Credentials {
	return &credentials.Credentials{AccessKeyID: ak, AccessKeySecret: sk}
}
