package configapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos/enum"
	qs "github.com/yunify/qingstor-sdk-go/v3/service"
)

// tosRegion is the region the TOS SDK signs for; the gateway takes any.
const tosRegion = "cn-beijing"

// tosRules are two rules as the TOS SDK's types say them: a Mirror rule
// with most of what TOS has, and an Async (redirect) rule.
var tosRules = []tos.MirrorBackRule{{
	ID:        "1",
	Condition: tos.Condition{HttpCode: 404, KeyPrefix: "img/", KeySuffix: ".jpg", HttpMethod: []string{"GET", "HEAD"}},
	Redirect: tos.Redirect{
		RedirectType: enum.RedirectTypeMirror, PassQuery: true, FollowRedirect: true,
		MirrorHeader: tos.MirrorHeader{Pass: []string{"x-pass"}, Set: []tos.MirrorHeaderKeyValue{{Key: "x-from", Value: "mirror"}}},
		PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{
			Primary: []string{"https://origin.example.com/site/"}, Follower: []string{"https://backup.example.com/site/"}}},
		Transform: tos.Transform{WithKeyPrefix: "p/", ReplaceKeyPrefix: tos.ReplaceKeyPrefix{KeyPrefix: "img/", ReplaceWith: "images/"}},
	},
}, {
	ID:        "2",
	Condition: tos.Condition{HttpCode: 404, KeyPrefix: "video/"},
	Redirect: tos.Redirect{RedirectType: enum.RedirectTypeAsync,
		PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{Primary: []string{"https://cdn.example.com/"}}}},
}}

// tosOption changes the client tosClient makes.
type tosOption func(*tosClientOptions)

type tosClientOptions struct {
	endpoint  string                      // "": the server's URL (an IP: path style)
	edit      func(*http.Request)         // applied to each request on its way
	record    func(*http.Request, []byte) // sees each request sent, with its body
	anonymous bool                        // no credentials: the SDK signs nothing
}

// tosClient is Volcengine's own Go SDK pointed at the server, retries
// off (the SDK retries 429 and 5xx; a test wants the first answer).
func (s *apiServer) tosClient(t *testing.T, ak, sk string, opts ...tosOption) *tos.ClientV2 {
	t.Helper()
	o := tosClientOptions{endpoint: s.URL}
	for _, opt := range opts {
		opt(&o)
	}
	base := &http.Transport{}
	if s.TLS != nil {
		base = s.Client().Transport.(*http.Transport).Clone()
	}
	addr := s.Listener.Addr().String()
	base.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	options := []tos.ClientOption{tos.WithRegion(tosRegion), tos.WithMaxRetryCount(0),
		tos.WithHTTPTransport(&editingTransport{base: base, edit: o.edit, record: o.record})}
	if !o.anonymous {
		options = append(options, tos.WithCredentials(tos.NewStaticCredentials(ak, sk)))
	}
	c, err := tos.NewClientV2(o.endpoint, options...)
	require.NoError(t, err)
	return c
}

// editingTransport edits and records requests on their way out.
type editingTransport struct {
	base   http.RoundTripper
	edit   func(*http.Request)
	record func(*http.Request, []byte)
}

func (e *editingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if e.edit != nil {
		e.edit(r)
	}
	if e.record != nil {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		e.record(r, body)
	}
	return e.base.RoundTrip(r)
}

// tosCode is the error code the TOS SDK reports, "" for none.
func tosCode(err error) string {
	var se *tos.TosServerError
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return "not a service error: " + err.Error()
	}
	return ""
}

func tosPut(c *tos.ClientV2, bucket string, rules []tos.MirrorBackRule) error {
	_, err := c.PutBucketMirrorBack(context.Background(), &tos.PutBucketMirrorBackInput{Bucket: bucket, Rules: rules})
	return err
}

func tosGet(c *tos.ClientV2, bucket string) ([]tos.MirrorBackRule, error) {
	out, err := c.GetBucketMirrorBack(context.Background(), &tos.GetBucketMirrorBackInput{Bucket: bucket})
	if err != nil {
		return nil, err
	}
	return out.Rules, nil
}

func tosDelete(c *tos.ClientV2, bucket string) error {
	_, err := c.DeleteBucketMirrorBack(context.Background(), &tos.DeleteBucketMirrorBackInput{Bucket: bucket})
	return err
}

// The real TOS Go SDK configures, reads back and deletes a bucket's
// mirror rules, over http and https; the answers carry TOS's request id.
func TestTOSSDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newAPIServer(t, tlsOn)
		c := s.tosClient(t, "ADMIN", "admin-secret")
		require.NoError(t, tosPut(c, "my-bucket", tosRules))
		got, err := tosGet(c, "my-bucket")
		require.NoError(t, err)
		assert.Equal(t, tosRules, got, "read back as put")
		eng, err := s.registry.Engine(context.Background(), "my-bucket")
		require.NoError(t, err)
		require.NotNil(t, eng, "in force")
		out, err := c.GetBucketMirrorBack(context.Background(), &tos.GetBucketMirrorBackInput{Bucket: "my-bucket"})
		require.NoError(t, err)
		assert.Regexp(t, `^[0-9a-f]{16}$`, out.RequestID, "x-tos-request-id")

		require.NoError(t, tosDelete(c, "my-bucket"))
		_, err = tosGet(c, "my-bucket")
		assert.Equal(t, "NoSuchMirrorConfiguration", tosCode(err))
		assert.Equal(t, 404, tos.StatusCode(err))
		require.NoError(t, tosDelete(c, "my-bucket"), "a DELETE of nothing is 204 too")
	}
}

// With -domain, the SDK's default virtual-host style (BUCKET.ENDPOINT,
// path "/") names the bucket.
func TestTOSVirtualHost(t *testing.T) {
	s := newAPIServer(t, false)
	s.handler.Domain = "gw.test"
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	var hosts []string
	c := s.tosClient(t, "ADMIN", "admin-secret", func(o *tosClientOptions) {
		o.endpoint = "http://gw.test:" + port
		o.record = func(r *http.Request, _ []byte) { hosts = append(hosts, r.Host+" "+r.URL.Path) }
	})
	require.NoError(t, tosPut(c, "my-bucket", tosRules))
	got, err := tosGet(s.tosClient(t, "ADMIN", "admin-secret"), "my-bucket")
	require.NoError(t, err, "path style reads what virtual-host style put")
	assert.Equal(t, tosRules, got)
	assert.Equal(t, []string{"my-bucket.gw.test:" + port + " /"}, hosts)
	require.NoError(t, tosDelete(c, "my-bucket"))
}

// A wrong secret, an unknown key, a stale date, a missing signature and a
// key outside its scope each get TOS's own code, and change nothing.
func TestTOSSignaturesAndScopes(t *testing.T) {
	s := newAPIServer(t, false)
	admin := s.tosClient(t, "ADMIN", "admin-secret")
	require.NoError(t, tosPut(admin, "my-bucket", tosRules))
	other := []tos.MirrorBackRule{{ID: "evil", Condition: tos.Condition{HttpCode: 404}, Redirect: tos.Redirect{
		RedirectType: enum.RedirectTypeMirror,
		PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{Primary: []string{"https://evil.example.com/"}}}}}}

	status := func(err error) int { return tos.StatusCode(err) }
	err := tosPut(s.tosClient(t, "ADMIN", "wrong"), "my-bucket", other)
	assert.Equal(t, "SignatureDoesNotMatch", tosCode(err))
	assert.Equal(t, 403, status(err))
	err = tosPut(s.tosClient(t, "NOBODY", "x"), "my-bucket", other)
	assert.Equal(t, "InvalidAccessKeyId", tosCode(err))
	assert.Equal(t, 403, status(err))
	tenant := s.tosClient(t, "TENANT", "tenant-secret")
	err = tosPut(tenant, "my-bucket", other)
	assert.Equal(t, "AccessDenied", tosCode(err), "a key scoped to tenant-a-*")
	_, err = tosGet(tenant, "my-bucket")
	assert.Equal(t, "AccessDenied", tosCode(err), "a scoped key can not read another bucket")
	assert.Equal(t, "AccessDenied", tosCode(tosDelete(tenant, "my-bucket")))
	require.NoError(t, tosPut(tenant, "tenant-a-photos", other), "in scope")

	// A clock an hour off makes a good signature stale.
	s.handler.Now = func() time.Time { return time.Now().Add(time.Hour) }
	err = tosPut(admin, "my-bucket", other)
	assert.Equal(t, "RequestTimeTooSkewed", tosCode(err))
	assert.Equal(t, 403, status(err))
	assert.Equal(t, "RequestTimeTooSkewed", tosCode(tosDelete(admin, "my-bucket")))
	s.handler.Now = nil

	// The SDK's request with its signature taken off on the way: it still
	// carries X-Tos-Date, so it is TOS's to answer.
	stripped := s.tosClient(t, "ADMIN", "admin-secret", func(o *tosClientOptions) {
		o.edit = func(r *http.Request) { r.Header.Del("Authorization") }
	})
	err = tosPut(stripped, "my-bucket", other)
	assert.Equal(t, "AccessDenied", tosCode(err))
	assert.Equal(t, 403, status(err))
	// The SDK without credentials signs nothing and sends no X-Tos-*
	// header: a bare ?mirror request is QingStor's (the API that takes
	// the unclaimed), refused 403 in QingStor's words, which the TOS SDK
	// reads (its JSON reader matches "code" to Code).
	err = tosPut(s.tosClient(t, "", "", func(o *tosClientOptions) { o.anonymous = true }), "my-bucket", other)
	assert.Equal(t, 403, status(err))
	assert.Equal(t, "permission_denied", tosCode(err))

	got, err := tosGet(admin, "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, tosRules, got, "nothing changed")
}

// tosSigned sends a request to /my-bucket?mirror signed with the SDK's own
// signer (tos.NewSignV4, at the wall clock), with header, and returns
// the status and TOS error code.
func tosSigned(t *testing.T, s *apiServer, method, body string, header http.Header) (int, string) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	req := &tos.Request{Scheme: "http", Method: method, Host: s.host(), Path: "/my-bucket",
		Query: url.Values{"mirror": {""}}, Header: header}
	for k, v := range tos.NewSignV4(tos.NewStaticCredentials("ADMIN", "admin-secret"), tosRegion).SignHeader(req) {
		req.Header[k] = v
	}
	return sendTOS(t, req.URL(), method, body, req.Header)
}

func sendTOS(t *testing.T, u, method, body string, header http.Header) (int, string) {
	t.Helper()
	hr, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	hr.Header = header.Clone()
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var e struct{ Code, Message, RequestId, HostId string }
	require.NoError(t, json.Unmarshal(b, &e), string(b))
	assert.Equal(t, resp.Header.Get("X-Tos-Request-Id"), e.RequestId)
	return resp.StatusCode, e.Code
}

// A body the signature covers through X-Tos-Content-Sha256 must match it;
// bodies that are not JSON or not a valid TOS document get TOS's codes.
func TestTOSBodies(t *testing.T) {
	s := newAPIServer(t, false)
	doc, err := json.Marshal(map[string]any{"Rules": tosRules})
	require.NoError(t, err)
	sum := sha256.Sum256(doc)
	status, code := tosSigned(t, s, "PUT", string(doc)+" ", http.Header{"X-Tos-Content-Sha256": {hex.EncodeToString(sum[:])}})
	assert.Equal(t, 400, status)
	assert.Equal(t, "BadDigest", code)
	_, _, ok, err := s.registry.Config(context.Background(), "my-bucket")
	require.NoError(t, err)
	assert.False(t, ok, "nothing stored")
	status, code = tosSigned(t, s, "PUT", string(doc), http.Header{"X-Tos-Content-Sha256": {hex.EncodeToString(sum[:])}})
	assert.Equal(t, 200, status, code)

	bad := sha256.Sum256([]byte("{"))
	status, code = tosSigned(t, s, "PUT", "{", http.Header{"X-Tos-Content-Sha256": {hex.EncodeToString(bad[:])}})
	assert.Equal(t, 400, status)
	assert.Equal(t, "MalformedBody", code)
	status, code = tosSigned(t, s, "PUT", `{"Rules":[{"ID":"x","Condition":{"HttpCode":403}}]}`, http.Header{"X-Tos-Meta-N": {"1"}})
	assert.Equal(t, 400, status)
	assert.Equal(t, "InvalidArgument", code)
	status, code = tosSigned(t, s, "PUT", `{"rules":[]}`, http.Header{"X-Tos-Meta-N": {"2"}})
	assert.Equal(t, 400, status, "TOS's member names, exactly")
	assert.Equal(t, "InvalidArgument", code)
	status, code = tosSigned(t, s, "POST", "", nil)
	assert.Equal(t, 405, status)
	assert.Equal(t, "MethodNotAllowed", code)

	got, err := tosGet(s.tosClient(t, "ADMIN", "admin-secret"), "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, tosRules, got, "only the covered, matching PUT took")
}

// The SDK's PUT signs no body: a captured one replayed with another body
// is refused, and the same PUT again is answered as done without being
// made twice.
func TestTOSCapturedWriteCannotBeReplayed(t *testing.T) {
	s := newAPIServer(t, false)
	var changes []string
	s.registry.ObserveChange = func(_ string, f mirror.Format, op string) { changes = append(changes, string(f)+" "+op) }
	var mu sync.Mutex
	var captured *http.Request
	var capturedBody []byte
	c := s.tosClient(t, "ADMIN", "admin-secret", func(o *tosClientOptions) {
		o.record = func(r *http.Request, body []byte) {
			mu.Lock()
			defer mu.Unlock()
			if r.Method == http.MethodPut {
				captured, capturedBody = r, body
			}
		}
	})
	require.NoError(t, tosPut(c, "my-bucket", tosRules))
	require.NotNil(t, captured)
	evil := strings.Replace(string(capturedBody), "origin.example.com", "evil.example.org", 1)
	header := captured.Header.Clone()
	header.Del("Content-Md5") // unsigned: a replayer drops or recomputes it
	status, code := sendTOS(t, captured.URL.String(), "PUT", evil, header)
	assert.Equal(t, 403, status, "the captured signature with another body")
	assert.Equal(t, "AccessDenied", code)
	// Its fields reordered and re-spaced, the same signature is the same
	// write (found in review: the header's text was the replay key).
	fields := strings.Split(strings.TrimPrefix(header.Get("Authorization"), "TOS4-HMAC-SHA256 "), ", ")
	slices.Reverse(fields)
	header.Set("Authorization", "TOS4-HMAC-SHA256 "+strings.Join(fields, ",  "))
	status, code = sendTOS(t, captured.URL.String(), "PUT", evil, header)
	assert.Equal(t, 403, status, "the captured signature re-spelled, with another body")
	assert.Equal(t, "AccessDenied", code)
	status, _ = sendTOS(t, captured.URL.String(), "PUT", string(capturedBody), captured.Header)
	assert.Equal(t, 200, status, "the same write again")
	assert.Equal(t, []string{"tos put"}, changes, "made once")
	got, err := tosGet(c, "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, tosRules, got)
}

// A presigned URL may read the configuration, never write it.
func TestTOSPresigned(t *testing.T) {
	s := newAPIServer(t, false)
	c := s.tosClient(t, "ADMIN", "admin-secret")
	require.NoError(t, tosPut(c, "my-bucket", tosRules))
	presigned := func(method enum.HttpMethodType) string {
		out, err := c.PreSignedURL(&tos.PreSignedURLInput{HTTPMethod: method, Bucket: "my-bucket",
			Query: map[string]string{"mirror": ""}, Expires: 600})
		require.NoError(t, err)
		return out.SignedUrl
	}
	resp, err := http.Get(presigned(enum.HttpMethodGet))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, string(b))
	var doc struct{ Rules []tos.MirrorBackRule }
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, tosRules, doc.Rules)

	status, code := sendTOS(t, presigned(enum.HttpMethodDelete), "DELETE", "", http.Header{})
	assert.Equal(t, 403, status)
	assert.Equal(t, "AccessDenied", code)
	got, err := tosGet(c, "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, tosRules, got, "still there")
}

// One configuration per bucket, whichever API put it: a TOS GET answers
// another API's rules converted, or TOS's InvalidRequest naming the API
// that put them when TOS can not say them (BOS and QingStor rules answer
// every method, TOS's only GET and HEAD); QingStor's SDK still reaches
// QingStor's API on ?mirror; a TOS DELETE removes what another API put.
func TestTOSSharesTheConfiguration(t *testing.T) {
	s := newAPIServer(t, false)
	c := s.tosClient(t, "ADMIN", "admin-secret")
	require.NoError(t, s.bosClient(t, "ADMIN", "admin-secret").PutBucketMirror("my-bucket", bosRules))
	_, err := tosGet(c, "my-bucket")
	assert.Equal(t, "InvalidRequest", tosCode(err))
	var se *tos.TosServerError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Message, "put through BOS PutBucketMirroring")
	assert.Equal(t, 400, se.StatusCode)

	b := s.qsBucket(t, "ADMIN", "admin-secret", "qs-bucket")
	_, err = b.PutExternalMirror(&qs.PutBucketExternalMirrorInput{SourceSite: qs.String("https://old.example.com/")})
	require.NoError(t, err, "QingStor's SDK on ?mirror still reaches QingStor")
	_, err = tosGet(c, "qs-bucket")
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Message, "put through QingStor PUT Bucket External Mirror")

	native := `{"rules":[{"mode":"fetch","match":{"methods":["GET"]},"sourceUrls":["https://native.example.com/"],` +
		`"pick":"random","failoverOn":["5xx","timeout","connection"],"keepSlashes":true,"fetch":{"store":true}}]}`
	require.NoError(t, s.registry.Put(context.Background(), "native-bucket", mirror.FormatNative, []byte(native)))
	got, err := tosGet(c, "native-bucket")
	require.NoError(t, err, "rules TOS can say, converted")
	require.Len(t, got, 1)
	assert.Equal(t, enum.RedirectTypeMirror, got[0].Redirect.RedirectType)
	assert.Equal(t, []string{"https://native.example.com/"}, got[0].Redirect.PublicSource.SourceEndpoint.Primary)

	require.NoError(t, tosPut(c, "qs-bucket", tosRules), "a TOS PUT replaces QingStor's")
	_, err = b.GetExternalMirror()
	assert.Equal(t, "invalid_request", qsCode(err), "two rules: QingStor can not say them")

	require.NoError(t, tosDelete(c, "my-bucket"), "a TOS DELETE removes BOS's")
	_, err = s.bosClient(t, "ADMIN", "admin-secret").GetBucketMirror("my-bucket")
	assert.Equal(t, "NoSuchMirroring", bosCode(err))
}
