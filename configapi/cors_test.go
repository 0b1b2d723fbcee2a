package configapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
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
	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	bosapi "github.com/baidubce/bce-sdk-go/services/bos/api"
	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newCORSServer is newAPIServer with a key that may only read.
func newCORSServer(t *testing.T, tlsOn bool) *apiServer {
	t.Helper()
	s := newAPIServer(t, tlsOn)
	creds, err := access.ParseCredentials([]byte(`{"ADMIN": "admin-secret", "TENANT": {"secret": "tenant-secret", "buckets": ["tenant-a-*"]},
		"READER": {"secret": "reader-secret", "access": "read"}}`))
	require.NoError(t, err)
	s.handler.Credentials = creds
	return s
}

// s3Client is aws-sdk-go-v2's S3 client pointed at the server.
func (s *apiServer) s3Client(ak, sk string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), UsePathStyle: true, HTTPClient: s.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		})})
}

// s3Code is an S3 SDK error's code.
func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not a service error: " + err.Error()
	}
	return ""
}

var s3Rules = []s3types.CORSRule{{
	ID: aws.String("web"), AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "HEAD"},
	AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(3000),
}, {
	AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
}}

// aws-sdk-go-v2's PutBucketCors, GetBucketCors and DeleteBucketCors work,
// over http and https, and the rules are in force at once.
func TestCORSWithTheS3SDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newCORSServer(t, tlsOn)
		c := s.s3Client("ADMIN", "admin-secret")
		ctx := context.Background()
		_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("my-bucket")})
		assert.Equal(t, "NoSuchCORSConfiguration", s3Code(err))

		_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("my-bucket"),
			CORSConfiguration: &s3types.CORSConfiguration{CORSRules: s3Rules}})
		require.NoError(t, err)
		rules, err := s.registry.CORS(ctx, "my-bucket")
		require.NoError(t, err)
		require.NotNil(t, rules, "in force")
		assert.True(t, rules.Allow(http.Header{}, "https://app.example.com", "HEAD"))

		got, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("my-bucket")})
		require.NoError(t, err)
		assert.Equal(t, s3Rules, got.CORSRules)

		_, err = c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("my-bucket")})
		require.NoError(t, err)
		_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("my-bucket")})
		assert.Equal(t, "NoSuchCORSConfiguration", s3Code(err))
		_, err = c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("my-bucket")})
		require.NoError(t, err, "deleting none is fine")

		_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("my-bucket"),
			CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"get"}}}}})
		assert.Equal(t, "InvalidArgument", s3Code(err))
		assert.Contains(t, err.Error(), `CORSRule[0].AllowedMethod[0]: "get"`)
	}
}

// bce-sdk-go's PutBucketCors, GetBucketCors and DeleteBucketCors work,
// and read back what S3's put (no rule IDs in BOS's JSON).
func TestCORSWithTheBOSSDK(t *testing.T) {
	s := newCORSServer(t, false)
	c := s.bosClient(t, "ADMIN", "admin-secret")
	_, err := c.GetBucketCors("my-bucket")
	assert.Equal(t, "NoSuchCORSConfiguration", bosCode(err))
	args := &bosapi.PutBucketCorsArgs{CorsConfiguration: []bosapi.BucketCORSType{{
		AllowedOrigins: []string{"https://www.example.com"}, AllowedMethods: []string{"GET", "HEAD", "PUT"},
		AllowedHeaders: []string{"Authorization", "x-bce-*"}, AllowedExposeHeaders: []string{"x-bce-request-id"}, MaxAgeSeconds: 3600,
	}, {AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}
	require.NoError(t, c.PutBucketCorsFromStruct("my-bucket", args))
	got, err := c.GetBucketCors("my-bucket")
	require.NoError(t, err)
	assert.Equal(t, args.CorsConfiguration, got.CorsConfiguration)

	_, err = s.s3Client("ADMIN", "admin-secret").PutBucketCors(context.Background(), &s3.PutBucketCorsInput{
		Bucket: aws.String("my-bucket"), CORSConfiguration: &s3types.CORSConfiguration{CORSRules: s3Rules}})
	require.NoError(t, err)
	got, err = c.GetBucketCors("my-bucket")
	require.NoError(t, err)
	assert.Equal(t, []bosapi.BucketCORSType{{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "HEAD"},
		AllowedHeaders: []string{"x-amz-*"}, AllowedExposeHeaders: []string{"ETag"}, MaxAgeSeconds: 3000},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}, got.CorsConfiguration, "one set of rules, read in either dialect")

	require.NoError(t, c.DeleteBucketCors("my-bucket"))
	_, err = c.GetBucketCors("my-bucket")
	assert.Equal(t, "NoSuchCORSConfiguration", bosCode(err))
	require.NoError(t, c.DeleteBucketCors("my-bucket"), "deleting none is fine")

	assert.Equal(t, "MalformedJSON", bosCode(c.PutBucketCorsFromString("my-bucket", `{"corsConfiguration":[{"allowedOrigin":["*"]}]}`)))
	err = c.PutBucketCorsFromString("my-bucket", `{"corsConfiguration":[{"allowedOrigins":["*"],"allowedMethods":["PATCH"]}]}`)
	assert.Equal(t, "InappropriateJSON", bosCode(err))
	assert.Contains(t, err.Error(), "corsConfiguration[0].allowedMethods[0]")
}

// Only a key that may configure the bucket sets, reads or deletes its
// rules; a read-only key, a key scoped elsewhere, an unsigned request
// and a QingStor-signed one change nothing.
func TestCORSNeedsAKeyThatMayConfigure(t *testing.T) {
	s := newCORSServer(t, false)
	ctx := context.Background()
	put := func(c *s3.Client, bucket string) error {
		_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket),
			CORSConfiguration: &s3types.CORSConfiguration{CORSRules: s3Rules}})
		return err
	}
	reader := s.s3Client("READER", "reader-secret")
	assert.Equal(t, "AccessDenied", s3Code(put(reader, "my-bucket")), "a key that may only read")
	_, err := reader.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("my-bucket")})
	assert.Equal(t, "AccessDenied", s3Code(err))
	_, err = reader.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("my-bucket")})
	assert.Equal(t, "AccessDenied", s3Code(err))
	assert.Equal(t, "AccessDenied", bosCode(s.bosClient(t, "READER", "reader-secret").PutBucketCorsFromString("my-bucket",
		`{"corsConfiguration":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}`)))
	tenant := s.s3Client("TENANT", "tenant-secret")
	assert.Equal(t, "AccessDenied", s3Code(put(tenant, "my-bucket")), "a key scoped elsewhere")
	require.NoError(t, put(tenant, "tenant-a-site"), "in scope")
	assert.Equal(t, "SignatureDoesNotMatch", s3Code(put(s.s3Client("ADMIN", "wrong"), "my-bucket")))
	assert.Equal(t, "InvalidAccessKeyId", s3Code(put(s.s3Client("NOBODY", "x"), "my-bucket")))

	resp, err := http.DefaultClient.Do(mustRequest(t, "PUT", s.URL+"/my-bucket?cors", "<CORSConfiguration/>"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "unsigned")
	assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"), "in S3's dialect")

	qs := qsSigned(t, s, "ADMIN", "admin-secret", "GET", "/my-bucket?cors", "")
	status, e := readQS(t, qs)
	assert.Equal(t, http.StatusNotImplemented, status, "QingStor's CORS API is not spoken")
	assert.Equal(t, "not_implemented", e.Code)

	rules, _ := s.registry.CORS(ctx, "my-bucket")
	assert.Nil(t, rules, "nothing changed")
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	return req
}

// signedS3 sends a PUT ?cors signed with SigV4 by the SDK's signer, with
// the payload hash the test says, so that it can send what the SDK never
// would.
func signedS3(t *testing.T, s *apiServer, body, payloadHash string, edit func(*http.Request)) *http.Response {
	t.Helper()
	req := httptest.NewRequest("PUT", s.URL+"/my-bucket?cors", strings.NewReader(body))
	req.RequestURI = ""
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if edit != nil {
		edit(req)
	}
	creds := aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", time.Now()))
	req.Body = io.NopCloser(strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

func s3Answer(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode < 400 {
		return resp.StatusCode, ""
	}
	var e httpapi.S3Error
	require.NoError(t, xml.NewDecoder(resp.Body).Decode(&e))
	return resp.StatusCode, e.Code
}

func sha(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// A SigV4 write's body is the one its signature covers: the SHA-256 in
// x-amz-content-sha256, or a signed Content-MD5 when the payload is
// unsigned; and a signed write is taken once.
func TestCORSBodyIsCoveredBySigV4(t *testing.T) {
	s := newCORSServer(t, false)
	good := `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	evil := strings.Replace(good, "GET", "HEAD", 1)
	md5of := func(b string) string { sum := md5.Sum([]byte(b)); return base64.StdEncoding.EncodeToString(sum[:]) }
	for _, c := range []struct {
		name, body, hash string
		edit             func(*http.Request)
		status           int
		code             string
	}{
		{"the body's SHA-256", good, sha(good), nil, 200, ""},
		{"another body's SHA-256", evil, sha(good), nil, 400, "BadDigest"},
		{"unsigned payload", good, "UNSIGNED-PAYLOAD", nil, 400, "AuthorizationHeaderMalformed"},
		{"unsigned payload, signed Content-MD5", good, "UNSIGNED-PAYLOAD",
			func(r *http.Request) { r.Header.Set("Content-Md5", md5of(good)) }, 200, ""},
		{"unsigned payload, signed Content-MD5 of another body", evil, "UNSIGNED-PAYLOAD",
			func(r *http.Request) { r.Header.Set("Content-Md5", md5of(good)) }, 400, "BadDigest"},
		{"not XML", "{}", sha("{}"), nil, 400, "MalformedXML"},
		{"over 64 KiB", good + strings.Repeat(" ", 64<<10), sha(good + strings.Repeat(" ", 64<<10)), nil, 400, "EntityTooLarge"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, code := s3Answer(t, signedS3(t, s, c.body, c.hash, c.edit))
			assert.Equal(t, c.status, status)
			assert.Equal(t, c.code, code)
		})
	}
	rules, _ := s.registry.CORS(context.Background(), "my-bucket")
	require.NotNil(t, rules)
	assert.Equal(t, []string{"GET"}, rules.Rules[0].AllowedMethods, "no refused body was stored")

	// Replayed after a newer write, a captured PUT changes nothing.
	req := httptest.NewRequest("PUT", s.URL+"/my-bucket?cors", strings.NewReader(good))
	req.RequestURI = ""
	req.Header.Set("X-Amz-Content-Sha256", sha(good))
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"},
		req, sha(good), "s3", "us-east-1", time.Now()))
	send := func(body string) (int, string) {
		r := req.Clone(context.Background())
		r.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		r.ContentLength = int64(len(body))
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		return s3Answer(t, resp)
	}
	status, _ := send(good)
	assert.Equal(t, 200, status)
	require.NoError(t, s.registry.PutCORS(context.Background(), "my-bucket", mustCORS(t, evil)))
	status, _ = send(good)
	assert.Equal(t, 200, status, "the same write, answered as done")
	rules, _ = s.registry.CORS(context.Background(), "my-bucket")
	assert.Equal(t, []string{"HEAD"}, rules.Rules[0].AllowedMethods, "and not made again")
}

func mustCORS(t *testing.T, doc string) *bucketconfig.CORS {
	t.Helper()
	c, err := bucketconfig.ParseCORS([]byte(doc))
	require.NoError(t, err)
	return c
}

// A BCE write must sign its body, as every BOS write does; a presigned
// URL never sets rules, in any scheme.
func TestCORSBodyIsCoveredByBCE(t *testing.T) {
	s := newCORSServer(t, false)
	body := `{"corsConfiguration":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}`
	a := readBOS(t, signedBOSCORS(t, s, body, "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg=="))
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "BadDigest", a.Code)
	a = readBOS(t, signedBOSCORS(t, s, body))
	assert.Equal(t, 400, a.status, "content-md5 not signed")
	assert.Equal(t, "InvalidHTTPAuthHeader", a.Code)

	req := httptest.NewRequest("PUT", s.URL+"/my-bucket?cors&X-Amz-Expires=600", nil)
	req.RequestURI = ""
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now())
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(mustRequest(t, "PUT", u, `<CORSConfiguration/>`))
	require.NoError(t, err)
	status, code := s3Answer(t, resp)
	assert.Equal(t, 403, status)
	assert.Equal(t, "AccessDenied", code)
	rules, _ := s.registry.CORS(context.Background(), "my-bucket")
	assert.Nil(t, rules)
}

// signedBOSCORS sends a PUT ?cors signed by BOS's own SDK signer, over
// host and content-md5, with the headers given.
func signedBOSCORS(t *testing.T, s *apiServer, body string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("PUT", s.URL+"/my-bucket?cors", strings.NewReader(body))
	require.NoError(t, err)
	sreq := &bcehttp.Request{}
	sreq.SetMethod("PUT")
	sreq.SetUri("/my-bucket")
	sreq.SetParam("cors", "")
	sreq.SetHeader("host", s.host())
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
		sreq.SetHeader(strings.ToLower(name), value)
	}
	cred, _ := bceauth.NewBceCredentials("ADMIN", "admin-secret")
	(&bceauth.BceV1Signer{}).Sign(sreq, cred, &bceauth.SignOptions{
		HeadersToSign: map[string]struct{}{"host": {}, "content-md5": {}}, ExpireSeconds: 300})
	req.Header.Set("Authorization", sreq.Header("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}
