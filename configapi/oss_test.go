package configapi

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	bosapi "github.com/baidubce/bce-sdk-go/services/bos/api"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ossClient is Aliyun OSS's own Go SDK pointed at the server as
// http(s)://gateway.test:PORT, its dialer going to the server whatever the
// Host (a virtual-host request's is BUCKET.gateway.test), signing with
// version v.
func (s *apiServer) ossClient(t *testing.T, ak, sk string, v oss.SignatureVersionType, pathStyle bool, opts ...func(*oss.Options)) *oss.Client {
	t.Helper()
	addr := s.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	scheme := "http"
	if s.TLS != nil {
		scheme = "https"
		tr.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		tr.TLSClientConfig.ServerName = "example.com" // what httptest's certificate names
	}
	var provider credentials.CredentialsProvider = credentials.NewAnonymousCredentialsProvider()
	if ak != "" {
		provider = credentials.NewStaticCredentialsProvider(ak, sk)
	}
	cfg := oss.LoadDefaultConfig().WithCredentialsProvider(provider).WithRegion("cn-hangzhou").
		WithEndpoint(scheme + "://gateway.test:" + port).WithSignatureVersion(v).WithUsePathStyle(pathStyle).
		WithHttpClient(&http.Client{Transport: tr}).
		// The SDK retries a RequestTimeTooSkewed (correcting its clock):
		// a test wants the first answer.
		WithRetryMaxAttempts(1)
	return oss.NewClient(cfg, opts...)
}

// staleSigner is the SDK's signer with a clock an hour slow.
type staleSigner struct{ signer.Signer }

func (s staleSigner) Sign(ctx context.Context, c *signer.SigningContext) error {
	c.Time = time.Now().Add(-time.Hour)
	return s.Signer.Sign(ctx, c)
}

func ossCode(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return "not a service error: " + err.Error()
	}
	return ""
}

// ossWebsite is a website configuration with one mirror rule to origin.
func ossWebsite(origin string) *oss.WebsiteConfiguration {
	return &oss.WebsiteConfiguration{RoutingRules: &oss.RoutingRules{RoutingRules: []oss.RoutingRule{{
		RuleNumber: oss.Ptr(int64(1)),
		Condition: &oss.RoutingRuleCondition{KeyPrefixEquals: oss.Ptr("img/"),
			HttpErrorCodeReturnedEquals: oss.Ptr(int64(404))},
		Redirect: &oss.RoutingRuleRedirect{RedirectType: oss.Ptr("Mirror"), MirrorURL: oss.Ptr(origin),
			PassQueryString: oss.Ptr(true), MirrorHeaders: &oss.MirrorHeaders{Passes: []string{"x-pass"}}},
	}}}}
}

// The real OSS Go SDK configures, reads back and deletes a bucket's
// website configuration, each signature version, path-style and
// virtual-host, over http and https; each refusal comes with OSS's code
// and changes nothing.
func TestOSSSDK(t *testing.T) {
	ctx := context.Background()
	for _, tlsOn := range []bool{false, true} {
		s := newAPIServer(t, tlsOn)
		s.handler.Domain = "gateway.test"
		for name, v := range map[string]oss.SignatureVersionType{"v1": oss.SignatureVersionV1, "v4": oss.SignatureVersionV4} {
			for _, pathStyle := range []bool{true, false} {
				bucket := "oss-" + name + map[bool]string{true: "-path", false: "-vhost"}[pathStyle]
				c := s.ossClient(t, "ADMIN", "admin-secret", v, pathStyle)
				what := bucket + map[bool]string{true: " https", false: " http"}[tlsOn]
				_, err := c.PutBucketWebsite(ctx, &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr(bucket),
					WebsiteConfiguration: ossWebsite("https://origin.example/site/")})
				require.NoError(t, err, what)
				got, err := c.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				require.NoError(t, err, what)
				assert.Equal(t, ossWebsite("https://origin.example/site/"), got.WebsiteConfiguration, what)
				assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{16}$`), got.Headers.Get("X-Oss-Request-Id"))

				other := &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr(bucket), WebsiteConfiguration: ossWebsite("https://evil.example/")}
				for _, refusal := range []struct {
					name, code string
					client     *oss.Client
				}{
					{"wrong secret", "SignatureDoesNotMatch", s.ossClient(t, "ADMIN", "wrong", v, pathStyle)},
					{"unknown key", "InvalidAccessKeyId", s.ossClient(t, "NOBODY", "admin-secret", v, pathStyle)},
					{"stale date", "RequestTimeTooSkewed", s.ossClient(t, "ADMIN", "admin-secret", v, pathStyle, func(o *oss.Options) {
						o.Signer = staleSigner{o.Signer}
					})},
					{"no signature", "AccessDenied", s.ossClient(t, "", "", v, pathStyle)},
					{"key outside its scope", "AccessDenied", s.ossClient(t, "TENANT", "tenant-secret", v, pathStyle)},
				} {
					_, err := refusal.client.PutBucketWebsite(ctx, other)
					assert.Equal(t, refusal.code, ossCode(err), "%s: PUT %s", what, refusal.name)
					_, err = refusal.client.DeleteBucketWebsite(ctx, &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
					assert.Equal(t, refusal.code, ossCode(err), "%s: DELETE %s", what, refusal.name)
				}
				got, err = c.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				require.NoError(t, err, what)
				assert.Equal(t, ossWebsite("https://origin.example/site/"), got.WebsiteConfiguration, "%s: unchanged", what)

				_, err = c.DeleteBucketWebsite(ctx, &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				require.NoError(t, err, what)
				_, err = c.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				assert.Equal(t, "NoSuchWebsiteConfiguration", ossCode(err), what)
			}
		}
		// A key scoped to tenant-a-* configures its own buckets.
		tenant := s.ossClient(t, "TENANT", "tenant-secret", oss.SignatureVersionV4, false)
		_, err := tenant.PutBucketWebsite(ctx, &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr("tenant-a-1"),
			WebsiteConfiguration: ossWebsite("https://origin.example/")})
		require.NoError(t, err)
	}
}

// ossRequest is a request to the server signed by the SDK's signer at
// now, with the resource /bucket/.
func ossRequest(t *testing.T, s *apiServer, sg signer.Signer, method, bucket, body string, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/"+bucket+"/?website", strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	product, region := "oss", "cn-hangzhou"
	require.NoError(t, sg.Sign(context.Background(), &signer.SigningContext{
		Product: &product, Region: &region, Bucket: &bucket, Request: req, SubResource: []string{"website"},
		Credentials: &credentials.Credentials{AccessKeyID: "ADMIN", AccessKeySecret: "admin-secret"},
	}))
	return req
}

// readOSS is an answer's status and its OSS error body.
func readOSS(t *testing.T, resp *http.Response) (int, httpapi.OSSError) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var e httpapi.OSSError
	if resp.StatusCode >= 300 {
		require.NoError(t, xml.Unmarshal(b, &e), string(b))
		assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
		assert.Equal(t, resp.Header.Get("X-Oss-Request-Id"), e.RequestID)
	}
	return resp.StatusCode, e
}

func md5Of(body string) string {
	sum := md5.Sum([]byte(body))
	return base64.StdEncoding.EncodeToString(sum[:])
}

const ossDoc = `<WebsiteConfiguration><RoutingRules><RoutingRule><RuleNumber>1</RuleNumber>` +
	`<Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>` +
	`<Redirect><RedirectType>Mirror</RedirectType><MirrorURL>https://origin.example/</MirrorURL></Redirect>` +
	`</RoutingRule></RoutingRules></WebsiteConfiguration>`

// A PUT's body is covered by its signature through the Content-MD5 both
// versions sign: the body must match it, it can not be swapped for
// another, and a PUT without one is refused. A captured PUT sent again is
// answered as done, and not made again.
func TestOSSBodyIsCovered(t *testing.T) {
	s := newAPIServer(t, false)
	for name, sg := range map[string]signer.Signer{"v1": &signer.SignerV1{}, "v4": &signer.SignerV4{}} {
		bucket := "body-" + name
		header := http.Header{"Content-Type": {"application/xml"}, "Content-Md5": {md5Of(ossDoc)}}
		put := func(body string, h http.Header) *http.Request { return ossRequest(t, s, sg, "PUT", bucket, body, h) }

		resp := send(t, put(ossDoc, header), "tampered")
		code, e := readOSS(t, resp)
		assert.Equal(t, 400, code, name)
		assert.Equal(t, "InvalidDigest", e.Code, name)

		req := put(ossDoc, header)
		req.Header.Set("Content-Md5", md5Of("<WebsiteConfiguration/>"))
		code, e = readOSS(t, send(t, req, "<WebsiteConfiguration/>"))
		assert.Equal(t, 403, code, name)
		assert.Equal(t, "SignatureDoesNotMatch", e.Code, "%s: the signature covers Content-MD5", name)

		code, e = readOSS(t, send(t, put(ossDoc, http.Header{"Content-Type": {"application/xml"}}), ossDoc))
		assert.Equal(t, 400, code, name)
		assert.Equal(t, "InvalidArgument", e.Code, name)
		assert.Contains(t, e.Message, "Content-MD5")

		_, _, ok, err := s.registry.Config(context.Background(), bucket)
		require.NoError(t, err)
		assert.False(t, ok, "%s: nothing was stored", name)

		good := put(ossDoc, header)
		code, _ = readOSS(t, send(t, good, ossDoc))
		require.Equal(t, 200, code, name)
		// The owner deletes it; the captured PUT, sent again, is taken
		// as done and does not put it back.
		code, _ = readOSS(t, send(t, ossRequest(t, s, sg, "DELETE", bucket, "", nil), ""))
		require.Equal(t, 204, code, name)
		code, _ = readOSS(t, send(t, good, ossDoc))
		assert.Equal(t, 200, code, name)
		_, _, ok, err = s.registry.Config(context.Background(), bucket)
		require.NoError(t, err)
		assert.False(t, ok, "%s: a replayed PUT is not made again", name)
	}
}

// A body that is not a WebsiteConfiguration document is MalformedXML; one
// that is but does not compile is InvalidArgument, naming every problem.
func TestOSSDocuments(t *testing.T) {
	s := newAPIServer(t, false)
	for _, c := range []struct{ body, code, message string }{
		{"not xml", "MalformedXML", "not well-formed"},
		{"<Foo/>", "MalformedXML", "not one <WebsiteConfiguration>"},
		{"<WebsiteConfiguration><RoutingRules>", "MalformedXML", "does not parse"},
		{"<WebsiteConfiguration/><WebsiteConfiguration/>", "MalformedXML", "not one"},
		{"<WebsiteConfiguration/>x", "MalformedXML", "text outside"},
		{strings.Replace(ossDoc, "https://origin.example/", "ftp://origin", 1), "InvalidArgument", "MirrorURL"},
	} {
		req := ossRequest(t, s, &signer.SignerV4{}, "PUT", "docs", c.body,
			http.Header{"Content-Type": {"application/xml"}, "Content-Md5": {md5Of(c.body)}})
		code, e := readOSS(t, send(t, req, c.body))
		assert.Equal(t, 400, code, c.body)
		assert.Equal(t, c.code, e.Code, c.body)
		assert.Contains(t, e.Message, c.message, c.body)
	}
}

// OSS's error body: Code, Message, RequestId (the x-oss-request-id) and
// HostId, in application/xml; and a request the handler can not place
// still answers in OSS's words once it is OSS-signed.
func TestOSSErrorBody(t *testing.T) {
	s := newAPIServer(t, false)
	req, err := http.NewRequest("GET", s.URL+"/some-bucket?website", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "OSS ADMIN:bad")
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	code, e := readOSS(t, resp)
	assert.Equal(t, 403, code)
	assert.Equal(t, "SignatureDoesNotMatch", e.Code)
	assert.Equal(t, strings.TrimPrefix(s.URL, "http://"), e.HostID)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{16}$`), e.RequestID)

	req.Header.Set("Authorization", "OSS2 AccessKeyId:ADMIN,Signature:x")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	code, e = readOSS(t, resp)
	assert.Equal(t, 400, code)
	assert.Equal(t, "InvalidArgument", e.Code)
}

// A write through a presigned URL is refused (docs/SERVING.md §4.3), a
// read through one answers.
func TestOSSPresigned(t *testing.T) {
	s := newAPIServer(t, false)
	c := s.ossClient(t, "ADMIN", "admin-secret", oss.SignatureVersionV4, true)
	_, err := c.PutBucketWebsite(context.Background(), &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr("pre"),
		WebsiteConfiguration: ossWebsite("https://origin.example/")})
	require.NoError(t, err)
	for _, method := range []string{"DELETE", "GET"} {
		req, err := http.NewRequest(method, s.URL+"/pre/?website", nil)
		require.NoError(t, err)
		bucket := "pre"
		require.NoError(t, (&signer.SignerV1{}).Sign(context.Background(), &signer.SigningContext{
			Bucket: &bucket, Request: req, SubResource: []string{"website"}, AuthMethodQuery: true,
			Time:        time.Now().Add(time.Minute),
			Credentials: &credentials.Credentials{AccessKeyID: "ADMIN", AccessKeySecret: "admin-secret"},
		}))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		code, e := readOSS(t, resp)
		if method == "DELETE" {
			assert.Equal(t, 403, code)
			assert.Equal(t, "AccessDenied", e.Code)
		} else {
			assert.Equal(t, 200, code)
		}
	}
}

// A GET through OSS answers a configuration put through BOS that OSS's
// document can not say (a BOS rule fetches for every method) with
// InvalidRequest naming the API that put it; a DELETE through OSS removes
// it.
func TestOSSReadsAnotherAPIsConfiguration(t *testing.T) {
	s := newAPIServer(t, false)
	require.NoError(t, s.bosClient(t, "ADMIN", "admin-secret").PutBucketMirror("shared", &bosapi.PutBucketMirrorArgs{
		BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{Mode: "fetch", SourceUrl: "https://origin.example/site", Resource: "*"}}}))
	c := s.ossClient(t, "ADMIN", "admin-secret", oss.SignatureVersionV1, true)
	_, err := c.GetBucketWebsite(context.Background(), &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr("shared")})
	assert.Equal(t, "InvalidRequest", ossCode(err))
	assert.Contains(t, err.Error(), "put through BOS PutBucketMirroring and can not be said as a website configuration")
	_, err = c.DeleteBucketWebsite(context.Background(), &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr("shared")})
	require.NoError(t, err)
	_, _, ok, err := s.registry.Config(context.Background(), "shared")
	require.NoError(t, err)
	assert.False(t, ok)
}
