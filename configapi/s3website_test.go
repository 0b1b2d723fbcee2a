package configapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s3Website is a website configuration as the S3 SDK puts it: an index
// document (which does nothing here) and two routing rules.
var s3Website = &s3types.WebsiteConfiguration{
	IndexDocument: &s3types.IndexDocument{Suffix: aws.String("index.html")},
	ErrorDocument: &s3types.ErrorDocument{Key: aws.String("error.html")},
	RoutingRules: []s3types.RoutingRule{{
		Condition: &s3types.Condition{KeyPrefixEquals: aws.String("docs/"), HttpErrorCodeReturnedEquals: aws.String("404")},
		Redirect: &s3types.Redirect{Protocol: s3types.ProtocolHttps, HostName: aws.String("origin.example.com"),
			ReplaceKeyPrefixWith: aws.String("documents/"), HttpRedirectCode: aws.String("302")},
	}, {
		Condition: &s3types.Condition{KeyPrefixEquals: aws.String("old/")},
		Redirect:  &s3types.Redirect{ReplaceKeyWith: aws.String("new.html")},
	}},
}

// websiteClient is aws-sdk-go-v2's S3 client pointed at the server,
// without retries: a test wants the first answer.
func (s *apiServer) websiteClient(ak, sk string, optFns ...func(*s3.Options)) *s3.Client {
	c := s.s3Client(ak, sk)
	return s3.New(c.Options(), append([]func(*s3.Options){func(o *s3.Options) { o.Retryer = aws.NopRetryer{} }}, optFns...)...)
}

func putWebsite(c *s3.Client, bucket string, w *s3types.WebsiteConfiguration) error {
	_, err := c.PutBucketWebsite(context.Background(), &s3.PutBucketWebsiteInput{Bucket: aws.String(bucket), WebsiteConfiguration: w})
	return err
}

func getWebsite(c *s3.Client, bucket string) (*s3.GetBucketWebsiteOutput, error) {
	return c.GetBucketWebsite(context.Background(), &s3.GetBucketWebsiteInput{Bucket: aws.String(bucket)})
}

func deleteWebsite(c *s3.Client, bucket string) error {
	_, err := c.DeleteBucketWebsite(context.Background(), &s3.DeleteBucketWebsiteInput{Bucket: aws.String(bucket)})
	return err
}

// websiteOf is what a GET answered, as the PUT's input.
func websiteOf(out *s3.GetBucketWebsiteOutput) *s3types.WebsiteConfiguration {
	return &s3types.WebsiteConfiguration{IndexDocument: out.IndexDocument, ErrorDocument: out.ErrorDocument,
		RedirectAllRequestsTo: out.RedirectAllRequestsTo, RoutingRules: out.RoutingRules}
}

// decide is what the bucket's rules in force decide for a GET of key
// that the store answered status.
func decide(t *testing.T, s *apiServer, bucket, key string, status int) (*mirror.Decision, error) {
	t.Helper()
	eng, err := s.registry.Engine(context.Background(), bucket)
	require.NoError(t, err)
	require.NotNil(t, eng, "a configuration is in force")
	return eng.Resolve(&mirror.Request{Key: key, Host: "gw.test", Status: status})
}

// aws-sdk-go-v2's PutBucketWebsite, GetBucketWebsite and
// DeleteBucketWebsite work over http and https; the rules are in force at
// once and read back as put.
func TestS3WebsiteWithTheSDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newAPIServer(t, tlsOn)
		c := s.websiteClient("ADMIN", "admin-secret")
		_, err := getWebsite(c, "my-bucket")
		assert.Equal(t, "NoSuchWebsiteConfiguration", s3Code(err))
		var re interface{ HTTPStatusCode() int }
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 404, re.HTTPStatusCode())
		assertRequestID(t, err)

		require.NoError(t, putWebsite(c, "my-bucket", s3Website))
		d, err := decide(t, s, "my-bucket", "docs/a b.txt", 404)
		require.NoError(t, err)
		assert.Equal(t, mirror.ModeRedirect, d.Mode)
		assert.Equal(t, []string{"https://origin.example.com/documents/a%20b.txt"}, d.URLs)
		assert.Equal(t, 302, d.RedirectCode)
		d, err = decide(t, s, "my-bucket", "old/x", 200)
		require.NoError(t, err, "a rule without a status redirects a stored key too")
		assert.Equal(t, []string{"http://gw.test/new.html"}, d.URLs)
		assert.Equal(t, 301, d.RedirectCode, "S3's default code")

		got, err := getWebsite(c, "my-bucket")
		require.NoError(t, err)
		assert.Equal(t, s3Website, websiteOf(got), "read back as put, the index and error documents included")

		all := &s3types.WebsiteConfiguration{RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{
			HostName: aws.String("www.example.com"), Protocol: s3types.ProtocolHttps}}
		require.NoError(t, putWebsite(c, "my-bucket", all))
		got, err = getWebsite(c, "my-bucket")
		require.NoError(t, err)
		assert.Equal(t, all, websiteOf(got))
		d, err = decide(t, s, "my-bucket", "any/key", 200)
		require.NoError(t, err)
		assert.Equal(t, []string{"https://www.example.com/any/key"}, d.URLs)

		require.NoError(t, deleteWebsite(c, "my-bucket"))
		_, err = getWebsite(c, "my-bucket")
		assert.Equal(t, "NoSuchWebsiteConfiguration", s3Code(err))
		eng, err := s.registry.Engine(context.Background(), "my-bucket")
		require.NoError(t, err)
		assert.Nil(t, eng, "no rules in force")
		require.NoError(t, deleteWebsite(c, "my-bucket"), "deleting none is fine")

		err = putWebsite(c, "my-bucket", &s3types.WebsiteConfiguration{RoutingRules: []s3types.RoutingRule{{
			Redirect: &s3types.Redirect{HostName: aws.String("x.example.com"), HttpRedirectCode: aws.String("304")}}}})
		assert.Equal(t, "InvalidArgument", s3Code(err), "a rule the importer refuses")
		assert.Contains(t, err.Error(), "RoutingRules.RoutingRule[0].Redirect.HttpRedirectCode")
		err = putWebsite(c, "my-bucket", &s3types.WebsiteConfiguration{IndexDocument: &s3types.IndexDocument{Suffix: aws.String("i.html")},
			RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{HostName: aws.String("x.example.com")}})
		assert.Equal(t, "InvalidArgument", s3Code(err))
		assert.Contains(t, err.Error(), "RedirectAllRequestsTo excludes IndexDocument")
		_, err = getWebsite(c, "my-bucket")
		assert.Equal(t, "NoSuchWebsiteConfiguration", s3Code(err), "a refused PUT stores nothing")
	}
}

func assertRequestID(t *testing.T, err error) {
	t.Helper()
	var withID interface{ ServiceRequestID() string }
	if assert.ErrorAs(t, err, &withID) {
		assert.Regexp(t, `^[0-9a-f]{16}$`, withID.ServiceRequestID(), "x-amz-request-id, 16 hex digits")
	}
}

// A wrong secret, an unknown key, a stale date, a missing signature and a
// key outside its scope each get S3's own code, and change nothing.
func TestS3WebsiteSignaturesAndScopes(t *testing.T) {
	s := newAPIServer(t, false)
	admin := s.websiteClient("ADMIN", "admin-secret")
	require.NoError(t, putWebsite(admin, "my-bucket", s3Website))
	other := &s3types.WebsiteConfiguration{RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{HostName: aws.String("evil.example.com")}}

	assert.Equal(t, "SignatureDoesNotMatch", s3Code(putWebsite(s.websiteClient("ADMIN", "wrong"), "my-bucket", other)))
	assert.Equal(t, "InvalidAccessKeyId", s3Code(putWebsite(s.websiteClient("NOBODY", "x"), "my-bucket", other)))
	tenant := s.websiteClient("TENANT", "tenant-secret")
	assert.Equal(t, "AccessDenied", s3Code(putWebsite(tenant, "my-bucket", other)), "a key scoped to tenant-a-*")
	_, err := getWebsite(tenant, "my-bucket")
	assert.Equal(t, "AccessDenied", s3Code(err), "a scoped key can not read another bucket")
	assert.Equal(t, "AccessDenied", s3Code(deleteWebsite(tenant, "my-bucket")))
	require.NoError(t, putWebsite(tenant, "tenant-a-site", other), "in scope")
	anonymous := s.websiteClient("", "", func(o *s3.Options) { o.Credentials = aws.AnonymousCredentials{} })
	assert.Equal(t, "AccessDenied", s3Code(putWebsite(anonymous, "my-bucket", other)), "not signed")
	assert.Equal(t, "AccessDenied", s3Code(deleteWebsite(anonymous, "my-bucket")))

	// A clock an hour off makes every header signature stale.
	s.handler.Now = func() time.Time { return time.Now().Add(time.Hour) }
	err = putWebsite(admin, "my-bucket", other)
	assert.Equal(t, "RequestTimeTooSkewed", s3Code(err))
	var re interface{ HTTPStatusCode() int }
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 403, re.HTTPStatusCode())
	s.handler.Now = nil

	got, err := getWebsite(admin, "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, s3Website, websiteOf(got), "nothing changed")
}

// Virtual-host style under -domain: the bucket in the Host, the path "/".
func TestS3WebsiteVirtualHost(t *testing.T) {
	s := newAPIServer(t, false)
	s.handler.Domain = "gw.test"
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	addr := s.Listener.Addr().String()
	c := s.websiteClient("ADMIN", "admin-secret", func(o *s3.Options) {
		o.UsePathStyle = false
		o.BaseEndpoint = aws.String("http://gw.test:" + port)
		o.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	})
	var hosts []string
	c = s3.New(c.Options(), func(o *s3.Options) {
		inner := o.HTTPClient
		o.HTTPClient = clientFunc(func(r *http.Request) (*http.Response, error) {
			hosts = append(hosts, r.URL.Host+" "+r.URL.Path)
			return inner.Do(r)
		})
	})
	require.NoError(t, putWebsite(c, "my-bucket", s3Website))
	got, err := getWebsite(c, "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, s3Website, websiteOf(got))
	require.NoError(t, deleteWebsite(c, "my-bucket"))
	assert.Equal(t, []string{"my-bucket.gw.test:" + port + " /", "my-bucket.gw.test:" + port + " /", "my-bucket.gw.test:" + port + " /"}, hosts)
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// websiteRequest is a PUT ?website of body signed by aws-sdk-go-v2's
// signer with payloadHash, after edit: a test sends what the SDK never
// would.
func websiteRequest(t *testing.T, s *apiServer, body, payloadHash string, edit func(*http.Request)) *http.Request {
	t.Helper()
	req := httptest.NewRequest("PUT", s.URL+"/my-bucket?website", strings.NewReader(body))
	req.RequestURI = ""
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if edit != nil {
		edit(req)
	}
	creds := aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", time.Now()))
	return req
}

// sendBody sends req (again) with body.
func sendBody(t *testing.T, s *apiServer, req *http.Request, body string) (int, string) {
	t.Helper()
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader([]byte(body)))
	r.ContentLength = int64(len(body))
	resp, err := s.Client().Do(r)
	require.NoError(t, err)
	return s3Answer(t, resp)
}

const (
	goodWebsite = `<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><RoutingRules><RoutingRule>` +
		`<Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>` +
		`<Redirect><HostName>good.example.com</HostName></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>`
	evilWebsite = `<WebsiteConfiguration><RedirectAllRequestsTo><HostName>evil.example.com</HostName></RedirectAllRequestsTo></WebsiteConfiguration>`
)

func b64md5(b string) string {
	sum := md5.Sum([]byte(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func b64crc32(b string) string {
	var sum [4]byte
	v := crc32.ChecksumIEEE([]byte(b))
	sum[0], sum[1], sum[2], sum[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// storedWebsite is the bucket's stored document, "" for none.
func storedWebsite(t *testing.T, s *apiServer) string {
	t.Helper()
	_, doc, ok, err := s.registry.Config(context.Background(), "my-bucket")
	require.NoError(t, err)
	if !ok {
		return ""
	}
	return string(doc)
}

// A PUT's body is the one its signature covers: the SHA-256 in
// x-amz-content-sha256 (as the SDK always sends it), or a signed binding
// digest; UNSIGNED-PAYLOAD without one is taken over https only, held to
// the replay rule. Every digest sent must match. A body that is not S3's
// XML is MalformedXML; one the importer refuses InvalidArgument.
func TestS3WebsiteBodyIsCovered(t *testing.T) {
	s := newAPIServer(t, false)
	for _, c := range []struct {
		name, body, hash string
		edit             func(*http.Request)
		status           int
		code             string
	}{
		{"the body's SHA-256", goodWebsite, sha(goodWebsite), nil, 200, ""},
		{"another body's SHA-256", evilWebsite, sha(goodWebsite), nil, 400, "BadDigest"},
		{"unsigned payload over http", evilWebsite, "UNSIGNED-PAYLOAD", nil, 400, "AuthorizationHeaderMalformed"},
		{"unsigned payload, signed CRC32 over http", evilWebsite, "UNSIGNED-PAYLOAD",
			func(r *http.Request) { r.Header.Set("X-Amz-Checksum-Crc32", b64crc32(evilWebsite)) }, 400, "AuthorizationHeaderMalformed"},
		{"unsigned payload, signed Content-MD5 of another body", evilWebsite, "UNSIGNED-PAYLOAD",
			func(r *http.Request) { r.Header.Set("Content-Md5", b64md5(goodWebsite)) }, 400, "BadDigest"},
		{"a CRC32 of another body", evilWebsite, sha(evilWebsite),
			func(r *http.Request) { r.Header.Set("X-Amz-Checksum-Crc32", b64crc32(goodWebsite)) }, 400, "BadDigest"},
		{"streaming payload", goodWebsite, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", nil, 400, "AuthorizationHeaderMalformed"},
		{"JSON, as aws s3api takes it", `{"RoutingRules": []}`, sha(`{"RoutingRules": []}`), nil, 400, "MalformedXML"},
		{"not well-formed", "<WebsiteConfiguration>", sha("<WebsiteConfiguration>"), nil, 400, "MalformedXML"},
		{"another root", "<CORSConfiguration/>", sha("<CORSConfiguration/>"), nil, 400, "MalformedXML"},
		{"an element S3 has not", "<WebsiteConfiguration><MirrorURL/></WebsiteConfiguration>",
			sha("<WebsiteConfiguration><MirrorURL/></WebsiteConfiguration>"), nil, 400, "MalformedXML"},
		{"another namespace", `<WebsiteConfiguration xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"/>`,
			sha(`<WebsiteConfiguration xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"/>`), nil, 400, "MalformedXML"},
		{"a DTD", `<!DOCTYPE x [<!ENTITY a "b">]><WebsiteConfiguration/>`,
			sha(`<!DOCTYPE x [<!ENTITY a "b">]><WebsiteConfiguration/>`), nil, 400, "MalformedXML"},
		{"over 64 KiB", goodWebsite + strings.Repeat(" ", 64<<10), sha(goodWebsite + strings.Repeat(" ", 64<<10)), nil, 400, "EntityTooLarge"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, code := sendBody(t, s, websiteRequest(t, s, c.body, c.hash, c.edit), c.body)
			assert.Equal(t, c.status, status)
			assert.Equal(t, c.code, code)
			assert.Equal(t, goodWebsite, storedWebsite(t, s), "nothing but the first body was stored")
		})
	}

	// Covered: the SDK's form, and a signed Content-MD5.
	md5Put := websiteRequest(t, s, evilWebsite, "UNSIGNED-PAYLOAD", func(r *http.Request) { r.Header.Set("Content-Md5", b64md5(evilWebsite)) })
	status, _ := sendBody(t, s, md5Put, evilWebsite)
	assert.Equal(t, 200, status)
	assert.Equal(t, evilWebsite, storedWebsite(t, s))
}

// Over https an UNSIGNED-PAYLOAD PUT is taken, and its signature once: the
// same write again is answered as done and not made again, another body
// under it is refused.
func TestS3WebsiteUnsignedPayloadOverTLS(t *testing.T) {
	s := newAPIServer(t, true)
	req := websiteRequest(t, s, goodWebsite, "UNSIGNED-PAYLOAD", func(r *http.Request) {
		r.Header.Set("X-Amz-Checksum-Crc32", b64crc32(goodWebsite))
	})
	status, _ := sendBody(t, s, req, goodWebsite)
	require.Equal(t, 200, status)
	require.NoError(t, s.registry.Put(context.Background(), "my-bucket", mirror.FormatS3, []byte(evilWebsite)))
	status, _ = sendBody(t, s, req, goodWebsite)
	assert.Equal(t, 200, status, "the same write, answered as done")
	assert.Equal(t, evilWebsite, storedWebsite(t, s), "and not made again")

	bare := websiteRequest(t, s, goodWebsite, "UNSIGNED-PAYLOAD", nil)
	status, _ = sendBody(t, s, bare, goodWebsite)
	require.Equal(t, 200, status)
	swapped := strings.Replace(goodWebsite, "good.", "evil.", 1)[:len(goodWebsite)] // the signed Content-Length
	status, code := sendBody(t, s, bare, swapped)
	assert.Equal(t, 403, status, "another body under a used signature")
	assert.Equal(t, "AccessDenied", code)
	assert.Equal(t, goodWebsite, storedWebsite(t, s))
}

// A presigned URL reads a configuration until it expires (then S3's
// AccessDenied "Request has expired"), and never writes one.
func TestS3WebsitePresigned(t *testing.T) {
	s := newAPIServer(t, false)
	require.NoError(t, s.registry.Put(context.Background(), "my-bucket", mirror.FormatS3, []byte(goodWebsite)))
	presign := func(method string, at time.Time) string {
		req, err := http.NewRequest(method, s.URL+"/my-bucket?website", nil)
		require.NoError(t, err)
		q := req.URL.Query()
		q.Set("X-Amz-Expires", "60")
		req.URL.RawQuery = q.Encode()
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"},
			req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", at)
		require.NoError(t, err)
		return u
	}
	resp, err := http.Get(presign("GET", time.Now()))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, goodWebsite, string(b))
	assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))

	resp, err = http.Get(presign("GET", time.Now().Add(-10*time.Minute)))
	require.NoError(t, err)
	status, code := s3Answer(t, resp)
	assert.Equal(t, 403, status)
	assert.Equal(t, "AccessDenied", code, "S3's answer to an expired URL")

	resp, err = http.DefaultClient.Do(mustRequest(t, "DELETE", presign("DELETE", time.Now()), ""))
	require.NoError(t, err)
	status, code = s3Answer(t, resp)
	assert.Equal(t, 403, status)
	assert.Equal(t, "AccessDenied", code)
	assert.Equal(t, goodWebsite, storedWebsite(t, s), "a presigned DELETE removes nothing")
}

// ?website belongs to S3 unless the request is signed the OSS way.
func TestS3WebsiteTakesWhatOSSDoesNotClaim(t *testing.T) {
	for auth, want := range map[string]*api{
		"": s3WebsiteAPI, "AWS4-HMAC-SHA256 Credential=x": s3WebsiteAPI, "bce-auth-v1/x": s3WebsiteAPI,
		"OSS AK:SIG": ossAPI, "OSS4-HMAC-SHA256 Credential=x": ossAPI,
	} {
		r := httptest.NewRequest("PUT", "/b?website", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		assert.Equal(t, want.name, apiOf(r).name, auth)
	}
	r := httptest.NewRequest("GET", "/b?website", nil)
	rec := httptest.NewRecorder()
	newAPIServer(t, false).handler.ServeHTTP(rec, r)
	assert.Equal(t, 403, rec.Code)
	var e httpapi.S3Error
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, "AccessDenied", e.Code, "an unsigned ?website is answered in S3's words")
	assert.Equal(t, rec.Header().Get("X-Amz-Request-Id"), e.RequestID)
}

// Every failure has an S3 status and code on the website API.
func TestS3WebsiteDialectNamesEveryFailure(t *testing.T) {
	for f := httpapi.Failure(0); f <= httpapi.NotConvertible; f++ {
		a := httpapi.S3Website.Answer(f)
		assert.GreaterOrEqual(t, a.Status, 400, "failure %d", f)
		assert.NotEmpty(t, a.Code, "failure %d", f)
		if f != httpapi.NoSuchConfiguration && f != httpapi.RequestExpired {
			assert.Equal(t, httpapi.S3.Answer(f), a, "failure %d: S3's", f)
		}
	}
	assert.Equal(t, httpapi.Answer{Status: 404, Code: "NoSuchWebsiteConfiguration"}, httpapi.S3Website.Answer(httpapi.NoSuchConfiguration))
	assert.Equal(t, httpapi.Answer{Status: 403, Code: "RequestTimeTooSkewed"}, httpapi.S3Website.Answer(httpapi.RequestExpired))
}

// One configuration per bucket: BOS rules read through S3 are refused
// (S3's rules only redirect), and S3's redirects through BOS, each naming
// the API that put them; a DELETE through BOS removes S3's.
func TestS3WebsiteAndBOSShareTheConfiguration(t *testing.T) {
	s := newAPIServer(t, false)
	c := s.websiteClient("ADMIN", "admin-secret")
	require.NoError(t, s.bosClient(t, "ADMIN", "admin-secret").PutBucketMirror("my-bucket", bosRules))
	_, err := getWebsite(c, "my-bucket")
	assert.Equal(t, "InvalidRequest", s3Code(err))
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, ae.ErrorMessage(), "put through BOS PutBucketMirroring")
	assert.Contains(t, ae.ErrorMessage(), "redirect only")

	require.NoError(t, putWebsite(c, "my-bucket", &s3types.WebsiteConfiguration{RoutingRules: []s3types.RoutingRule{{
		Redirect: &s3types.Redirect{HostName: aws.String("www.example.com"), HttpRedirectCode: aws.String("302")}}}}))
	_, err = s.bosClient(t, "ADMIN", "admin-secret").GetBucketMirror("my-bucket")
	assert.Equal(t, "InvalidRequest", bosCode(err), "BOS has no redirect on every request")
	assert.Contains(t, err.Error(), "put through S3 PutBucketWebsite")
	require.NoError(t, s.bosClient(t, "ADMIN", "admin-secret").DeleteBucketMirror("my-bucket"))
	_, err = getWebsite(c, "my-bucket")
	assert.Equal(t, "NoSuchWebsiteConfiguration", s3Code(err), "a DELETE through BOS removed it")
}

// An S3 document stored in aws s3api's JSON (by -bucket, or another
// gateway's registry) is answered through the XML API converted: the SDK
// would read the JSON as an empty configuration.
func TestS3WebsiteAnswersJSONDocumentsAsXML(t *testing.T) {
	s := newAPIServer(t, false)
	require.NoError(t, s.registry.Put(context.Background(), "my-bucket", mirror.FormatS3,
		[]byte(`{"RoutingRules": [{"Redirect": {"HostName": "www.example.com", "HttpRedirectCode": "302"}}]}`)))
	out, err := getWebsite(s.websiteClient("ADMIN", "admin-secret"), "my-bucket")
	require.NoError(t, err)
	require.Len(t, out.RoutingRules, 1)
	assert.Equal(t, "www.example.com", aws.ToString(out.RoutingRules[0].Redirect.HostName))

	assert.True(t, inWireForm(s3WebsiteAPI, []byte(" <WebsiteConfiguration/>")))
	assert.False(t, inWireForm(s3WebsiteAPI, []byte("\n{\"RoutingRules\": []}")))
	assert.True(t, inWireForm(obsAPI, []byte(`{"rules": []}`)))
	assert.False(t, inWireForm(obsAPI, []byte(`<x/>`)))
}
