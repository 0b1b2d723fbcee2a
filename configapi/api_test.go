package configapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qssigner "github.com/yunify/qingstor-sdk-go/v3/request/signer"
)

// signedBOS sends a raw request signed by BOS's own SDK signer, so that a
// test can send bodies the SDK never would.
func signedBOS(t *testing.T, method, url, host, path string, body io.Reader, contentLength int64, headers ...string) *http.Response {
	t.Helper()
	return signedBOSAs(t, "ADMIN", "admin-secret", method, url, host, path, body, contentLength, headers...)
}

// signedBOSAs is signedBOS with a key of the test's choosing.
func signedBOSAs(t *testing.T, ak, sk, method, url, host, path string, body io.Reader, contentLength int64, headers ...string) *http.Response {
	t.Helper()
	if method == "PUT" && !slices.ContainsFunc(headers, func(h string) bool { return strings.HasPrefix(h, "Content-MD5: ") }) {
		// As bce-sdk-go does, and the gateway requires (issue 16): the
		// body's MD5, signed.
		data, err := io.ReadAll(body)
		require.NoError(t, err)
		sum := md5.Sum(data)
		headers = append(headers, "Content-MD5: "+base64.StdEncoding.EncodeToString(sum[:]))
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	req.ContentLength = contentLength
	req.Host = host
	sreq := &bcehttp.Request{}
	sreq.SetMethod(method)
	sreq.SetUri(path)
	sreq.SetParam("mirroring", "")
	sreq.SetHeader("host", host)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
		sreq.SetHeader(strings.ToLower(name), value)
	}
	cred, _ := bceauth.NewBceCredentials(ak, sk)
	(&bceauth.BceV1Signer{}).Sign(sreq, cred, &bceauth.SignOptions{
		HeadersToSign: map[string]struct{}{"host": {}, "content-md5": {}}, ExpireSeconds: 300})
	req.Header.Set("Authorization", sreq.Header("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

type bosAnswer struct {
	status int
	bosError
}

func readBOS(t *testing.T, resp *http.Response) bosAnswer {
	t.Helper()
	defer resp.Body.Close()
	a := bosAnswer{status: resp.StatusCode}
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&a.bosError))
		assert.Equal(t, resp.Header.Get("X-Bce-Request-Id"), a.RequestID)
		assert.Regexp(t, `^[0-9a-f]{16}$`, a.RequestID, "16 hex digits, as on every API")
	}
	return a
}

func (s *apiServer) host() string { return strings.TrimPrefix(s.URL, "http://") }

// A 1 MiB body, malformed JSON, a document with 30 problems and a wrong
// Content-MD5 each get a clear refusal, and change nothing.
func TestRefusals(t *testing.T) {
	s := newAPIServer(t, false)
	put := func(body string, headers ...string) bosAnswer {
		return readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket",
			strings.NewReader(body), int64(len(body)), headers...))
	}
	big := strings.Repeat(" ", 1<<20)
	a := put(big)
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "EntityTooLarge", a.Code)
	// Without a Content-Length, the body is read up to the limit only.
	a = readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket", io.MultiReader(strings.NewReader(big)), -1))
	assert.Equal(t, "EntityTooLarge", a.Code)

	a = put(`{"bucketMirroringConfiguration": [`)
	assert.Equal(t, "MalformedJSON", a.Code)

	var rules []string
	for i := 0; i < 10; i++ {
		rules = append(rules, fmt.Sprintf(`{"mode":"pull","sourceUrl":"ftp://o.example.com","resource":"r%d/*","version":"v9"}`, i))
	}
	a = put(`{"bucketMirroringConfiguration":[` + strings.Join(rules, ",") + `]}`)
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "InappropriateJSON", a.Code)
	lines := strings.Split(a.Message, "\n")
	assert.Len(t, lines, 30, "every problem, one PATH: reason line each")
	assert.True(t, strings.HasPrefix(lines[0], "bucketMirroringConfiguration[0].mode: "), lines[0])

	good := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`
	a = put(good, "Content-MD5: "+base64.StdEncoding.EncodeToString(make([]byte, 16)))
	assert.Equal(t, "BadDigest", a.Code)
	sum := md5.Sum([]byte(good))
	a = put(good, "Content-MD5: "+base64.StdEncoding.EncodeToString(sum[:]))
	assert.Equal(t, 200, a.status, "a matching Content-MD5")
}

// A BOS request may name its bucket in the Host under the domain.
func TestBOSVirtualHost(t *testing.T) {
	s := newAPIServer(t, false)
	s.handler.Domain = "mirror.test"
	body := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`
	a := readBOS(t, signedBOS(t, "PUT", s.URL+"/?mirroring", "my-bucket.mirror.test", "/", strings.NewReader(body), int64(len(body))))
	require.Equal(t, 200, a.status, a.Message)
	api, _, ok, err := s.registry.Config(context.Background(), "my-bucket")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, mirror.FormatBOS, api)
}

// qsSigned sends a raw request signed by QingStor's own SDK signer, so
// that a test can send bodies and paths the SDK never would.
func qsSigned(t *testing.T, s *apiServer, ak, sk, method, path, body string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	// Two writes signed in one second would carry one signature, which
	// the gateway takes once (replay.go): an x-qs- header of its own makes
	// each request's signature its own, as it is signed.
	req.Header.Set("X-QS-Test-Nonce", strconv.FormatInt(qsNonce.Add(1), 10))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(t, (&qssigner.QingStorSigner{AccessKeyID: ak, SecretAccessKey: sk}).WriteSignature(req))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

var qsNonce atomic.Int64

// readQS reads a QingStor answer: its status and error code.
func readQS(t *testing.T, resp *http.Response) (int, qsError) {
	t.Helper()
	defer resp.Body.Close()
	var e qsError
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		assert.Equal(t, resp.Header.Get("X-QS-Request-ID"), e.RequestID)
		assert.Regexp(t, `^[0-9a-f]{16}$`, e.RequestID, "16 hex digits, as on every API")
	}
	return resp.StatusCode, e
}

// rawRequest sends a request with an Authorization header of the test's
// choosing ("" for none).
func rawRequest(t *testing.T, method, url, auth string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(`{"source_site":"https://evil.example.com"}`))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// Without credentials (no -credentials, or a file with no key) every
// configuration request is refused with 403 before anything else is
// judged: its Authorization header, its bucket name, its method.
func TestNoCredentialsRefusesEveryRequest(t *testing.T) {
	empty, err := access.ParseCredentials([]byte(`{}`))
	require.NoError(t, err)
	for name, creds := range map[string]*access.Credentials{"no credentials": nil, "no keys": empty} {
		t.Run(name, func(t *testing.T) {
			s := newAPIServer(t, false)
			s.handler.Credentials = creds
			body := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`
			a := readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket", strings.NewReader(body), int64(len(body))))
			assert.Equal(t, 403, a.status)
			assert.Equal(t, "AccessDenied", a.Code, "a request the SDK signed")
			status, e := readQS(t, qsSigned(t, s, "ADMIN", "admin-secret", "PUT", "/my-bucket?mirror", `{"source_site":"https://o.example.com"}`))
			assert.Equal(t, 403, status)
			assert.Equal(t, "permission_denied", e.Code, "a request the SDK signed")

			for _, auth := range []string{"", "garbage", "bce-auth-v1/x", "QS :", "QS AK:SIG"} {
				for _, path := range []string{"/my-bucket", "/Bad_Bucket", "/a"} {
					for _, method := range []string{"GET", "PUT", "DELETE", "POST"} {
						what := fmt.Sprintf("%s %s auth %q", method, path, auth)
						a := readBOS(t, rawRequest(t, method, s.URL+path+"?mirroring", auth))
						assert.Equal(t, 403, a.status, what)
						assert.Equal(t, "AccessDenied", a.Code, what)
						status, e := readQS(t, rawRequest(t, method, s.URL+path+"?mirror", auth))
						assert.Equal(t, 403, status, what)
						assert.Equal(t, "permission_denied", e.Code, what)
					}
				}
			}
			_, _, err := s.store.GetConfig(context.Background(), "my-bucket")
			assert.ErrorIs(t, err, fs.ErrNotExist, "nothing was stored")
		})
	}
}

// With credentials, the signature (which covers the path) is judged
// before the bucket name: only a signed request learns that its bucket
// name is invalid.
func TestSignatureIsCheckedBeforeTheBucketName(t *testing.T) {
	s := newAPIServer(t, false)
	bos := func(ak, sk string) (int, string) {
		a := readBOS(t, signedBOSAs(t, ak, sk, "GET", s.URL+"/Bad_Bucket?mirroring", s.host(), "/Bad_Bucket", nil, 0))
		return a.status, a.Code
	}
	raw := func(url, auth string) func() (int, string) {
		return func() (int, string) {
			if strings.HasSuffix(url, "?mirroring") {
				a := readBOS(t, rawRequest(t, "GET", s.URL+url, auth))
				return a.status, a.Code
			}
			status, e := readQS(t, rawRequest(t, "GET", s.URL+url, auth))
			return status, e.Code
		}
	}
	qs := func(ak, sk string) func() (int, string) {
		return func() (int, string) {
			status, e := readQS(t, qsSigned(t, s, ak, sk, "GET", "/Bad_Bucket?mirror", ""))
			return status, e.Code
		}
	}
	for _, c := range []struct {
		name   string
		do     func() (int, string)
		status int
		code   string
	}{
		{"bos unsigned", raw("/Bad_Bucket?mirroring", ""), 403, "AccessDenied"},
		{"bos malformed", raw("/Bad_Bucket?mirroring", "garbage"), 400, "InvalidHTTPAuthHeader"},
		{"bos unknown key", func() (int, string) { return bos("NOBODY", "x") }, 403, "InvalidAccessKeyId"},
		{"bos wrong secret", func() (int, string) { return bos("ADMIN", "wrong") }, 403, "SignatureDoesNotMatch"},
		{"bos signed", func() (int, string) { return bos("ADMIN", "admin-secret") }, 400, "InvalidBucketName"},
		{"bos scoped key", func() (int, string) { return bos("TENANT", "tenant-secret") }, 400, "InvalidBucketName"},
		{"qingstor unsigned", raw("/Bad_Bucket?mirror", ""), 403, "permission_denied"},
		{"qingstor malformed", raw("/Bad_Bucket?mirror", "garbage"), 401, "invalid_access_key_id"},
		{"qingstor wrong secret", qs("ADMIN", "wrong"), 401, "signature_not_matched"},
		{"qingstor signed", qs("ADMIN", "admin-secret"), 400, "invalid_bucket_name"},
	} {
		status, code := c.do()
		assert.Equal(t, c.status, status, c.name)
		assert.Equal(t, c.code, code, c.name)
	}
}

// A QingStor PUT takes one "source_site" and nothing else: a body that
// also holds another format's members would be one rule here and other
// rules wherever the stored body is read as that format.
func TestQingStorPutTakesOnlySourceSite(t *testing.T) {
	s := newAPIServer(t, false)
	good := `{"source_site":"https://good.example.com"}`
	status, _ := readQS(t, qsSigned(t, s, "ADMIN", "admin-secret", "PUT", "/my-bucket?mirror", good))
	require.Equal(t, 200, status)
	for _, c := range []struct{ body, member string }{
		{`{"source_site":"https://good.example.com","bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://evil.example.com","resource":"*"}]}`,
			`"bucketMirroringConfiguration"`},
		{`{"bucketMirroringConfiguration":5,"source_site":"https://good.example.com"}`, `"bucketMirroringConfiguration"`},
		{`{"source_site":"https://good.example.com","rules":[{"mode":"fetch","sourceUrl":"https://evil.example.com","resource":"*"}]}`, `"rules"`},
		{`{"source_site":"https://good.example.com","comment":"x"}`, `"comment"`},
		{`{"Source_Site":"https://evil.example.com"}`, `"Source_Site"`},
		{`{"source_site":"https://good.example.com","source_site":"https://evil.example.com"}`, `"source_site"`},
	} {
		status, e := readQS(t, qsSigned(t, s, "ADMIN", "admin-secret", "PUT", "/my-bucket?mirror", c.body))
		assert.Equal(t, 400, status, c.body)
		assert.Equal(t, "invalid_argument", e.Code, c.body)
		assert.True(t, strings.HasPrefix(e.Message, c.member+": "), "%s: %q", c.body, e.Message)
	}
	status, e := readQS(t, qsSigned(t, s, "ADMIN", "admin-secret", "PUT", "/my-bucket?mirror", `{}`))
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_argument", e.Code, "no source_site: the compiler's own problem")

	api, doc, err := s.store.GetConfig(context.Background(), "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, mirror.FormatQingStor, api)
	assert.Equal(t, good, string(doc), "every refusal left the configuration alone")
}

// TestParseCredentials moved to access/credentials_test.go with Credentials.
