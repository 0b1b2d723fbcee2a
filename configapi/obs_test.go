package configapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// obsDomain is the -domain the OBS tests serve: the SDK signs "OBS AK:SIG"
// only virtual-host style, BUCKET.obsDomain.
const obsDomain = "gateway.test"

// obsExchange is one request the SDK sent and the answer it got, bodies
// included.
type obsExchange struct {
	req            *http.Request
	reqBody, reply []byte
	status         int
	header         http.Header
}

// obsTap is a RoundTripper that reaches the server whatever host a URL
// names and keeps every exchange: the SDK's GetBucketMirrorBackToSource
// never hands its caller the body it read (see TestOBSSDK), so the tests
// read it here, as the SDK received it.
type obsTap struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []obsExchange
}

func (tap *obsTap) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := tap.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(reply))
	tap.mu.Lock()
	tap.seen = append(tap.seen, obsExchange{r, body, reply, resp.StatusCode, resp.Header})
	tap.mu.Unlock()
	return resp, nil
}

// last is the last exchange.
func (tap *obsTap) last() obsExchange {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.seen[len(tap.seen)-1]
}

// An obsStyle is how the SDK is set up.
type obsStyle int

const (
	obsSigned obsStyle = iota // obs.SignatureObs, BUCKET.gateway.test: "OBS AK:SIG"
	awsSigned                 // the SDK's default, the server's IP: path-style, "AWS AK:SIG"
)

func (st obsStyle) String() string { return [...]string{"OBS signature", "AWS signature"}[st] }

// obsSDK is Huawei OBS's own Go SDK pointed at the server in style st,
// through a tap.
func (s *apiServer) obsSDK(t *testing.T, st obsStyle, ak, sk string) (*obs.ObsClient, *obsTap) {
	addr := s.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	scheme := "http://"
	if s.TLS != nil {
		scheme = "https://"
		tr.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		tr.TLSClientConfig.ServerName = "example.com" // what httptest's certificate names
	}
	tap := &obsTap{base: tr}
	hc := &http.Client{Transport: tap}
	var c *obs.ObsClient
	var err error
	if st == obsSigned {
		s.handler.Domain = obsDomain
		c, err = obs.New(ak, sk, scheme+obsDomain+":"+port, obs.WithSignature(obs.SignatureObs),
			obs.WithHttpClient(hc), obs.WithMaxRetryCount(0))
	} else {
		c, err = obs.New(ak, sk, s.URL, obs.WithHttpClient(hc), obs.WithMaxRetryCount(0))
	}
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c, tap
}

// obsErr is the SDK's error: status and OBS code.
func obsErr(err error) (int, string) {
	var oe obs.ObsError
	if errors.As(err, &oe) {
		return oe.StatusCode, oe.Code
	}
	if err != nil {
		return 0, "not a service error: " + err.Error()
	}
	return 0, ""
}

// obsRules is an OBS document whose rule fetches m/* from origin.
func obsRules(origin string) string {
	return `{"rules": [{"id": "site", "condition": {"httpErrorCodeReturnedEquals": 404, "objectKeyPrefixEquals": "m/"},` +
		` "redirect": {"agency": "mirror-agency", "publicSource": {"sourceEndpoint": {"master": ["` + origin + `"]}},` +
		` "passQueryString": true}}]}`
}

// obsStored is the bucket's document as GET answers it, read with the
// SDK through its tap: the SDK's own output never holds it.
func obsStored(t *testing.T, c *obs.ObsClient, tap *obsTap, bucket string) string {
	t.Helper()
	out, err := c.GetBucketMirrorBackToSource(bucket)
	require.NoError(t, err)
	assert.Empty(t, out.Rules, "huaweicloud-sdk-go-obs v3.25.4 never fills Rules (obs/convert.go looks for a type named GetBucketMirrorBackToSourceOuput): if it does now, read it here")
	return string(tap.last().reply)
}

// The real OBS Go SDK sets, reads back and deletes a bucket's mirror
// back-to-source rules, signed both ways it signs, over http and https;
// the rules are in force as put.
func TestOBSSDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		for _, st := range []obsStyle{obsSigned, awsSigned} {
			t.Run(st.String(), func(t *testing.T) {
				s := newAPIServer(t, tlsOn)
				c, tap := s.obsSDK(t, st, "ADMIN", "admin-secret")
				doc := obsRules("https://origin.example.com/site")
				out, err := c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: doc})
				require.NoError(t, err)
				assert.Equal(t, 200, out.StatusCode)
				assert.Regexp(t, "^[0-9a-f]{16}$", out.RequestId, "x-obs-request-id, as the SDK reads it")
				wantAuth := map[obsStyle]string{obsSigned: "OBS ADMIN:", awsSigned: "AWS ADMIN:"}[st]
				assert.True(t, strings.HasPrefix(tap.last().req.Header.Get("Authorization"), wantAuth))

				eng, err := s.registry.Engine(context.Background(), "my-bucket")
				require.NoError(t, err)
				require.NotNil(t, eng, "in force")
				d, err := eng.Resolve(&mirror.Request{Key: "m/a.png", RawQuery: "w=1"})
				require.NoError(t, err)
				assert.Equal(t, []string{"https://origin.example.com/site/m/a.png?w=1"}, d.URLs)
				format, _, ok, err := s.registry.Config(context.Background(), "my-bucket")
				require.NoError(t, err)
				assert.True(t, ok)
				assert.Equal(t, mirror.FormatOBS, format)

				assert.Equal(t, doc, obsStored(t, c, tap, "my-bucket"), "the document as it was put")

				del, err := c.DeleteBucketMirrorBackToSource("my-bucket")
				require.NoError(t, err)
				assert.Equal(t, 204, del.StatusCode)
				_, err = c.GetBucketMirrorBackToSource("my-bucket")
				status, code := obsErr(err)
				assert.Equal(t, 404, status)
				assert.Equal(t, "NoSuchMirrorBackToSource", code)
				_, err = c.DeleteBucketMirrorBackToSource("my-bucket")
				require.NoError(t, err, "deleting none is fine")
				eng, _ = s.registry.Engine(context.Background(), "my-bucket")
				assert.Nil(t, eng)
			})
		}
	}
}

// A wrong secret, an unknown key, a stale date and a missing signature are
// each refused with OBS's own code and change nothing, in both forms; a
// key scoped to tenant-a-* can not read or change another bucket.
func TestOBSSignaturesAndScopes(t *testing.T) {
	for _, st := range []obsStyle{obsSigned, awsSigned} {
		t.Run(st.String(), func(t *testing.T) {
			s := newAPIServer(t, false)
			admin, tap := s.obsSDK(t, st, "ADMIN", "admin-secret")
			doc := obsRules("https://origin.example.com")
			_, err := admin.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: doc})
			require.NoError(t, err)
			evil := &obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: obsRules("https://evil.example.com")}
			sdk := func(ak, sk string) *obs.ObsClient {
				c, _ := s.obsSDK(t, st, ak, sk)
				return c
			}
			stale := obs.WithCustomHeader("Date", time.Now().Add(-20*time.Minute).UTC().Format(http.TimeFormat))

			for _, c := range []struct {
				name   string
				do     func() error
				status int
				code   string
			}{
				{"wrong secret", func() error { _, err := sdk("ADMIN", "wrong").SetBucketMirrorBackToSource(evil); return err }, 403, "SignatureDoesNotMatch"},
				{"wrong secret, delete", func() error { _, err := sdk("ADMIN", "wrong").DeleteBucketMirrorBackToSource("my-bucket"); return err }, 403, "SignatureDoesNotMatch"},
				{"unknown key", func() error { _, err := sdk("NOBODY", "x").SetBucketMirrorBackToSource(evil); return err }, 403, "InvalidAccessKeyId"},
				{"stale date", func() error { _, err := admin.SetBucketMirrorBackToSource(evil, stale); return err }, 403, "RequestTimeTooSkewed"},
				{"stale date, delete", func() error { _, err := admin.DeleteBucketMirrorBackToSource("my-bucket", stale); return err }, 403, "RequestTimeTooSkewed"},
				{"no signature", func() error { _, err := sdk("", "").SetBucketMirrorBackToSource(evil); return err }, 403, "AccessDenied"},
				{"no signature, delete", func() error { _, err := sdk("", "").DeleteBucketMirrorBackToSource("my-bucket"); return err }, 403, "AccessDenied"},
				{"out of scope", func() error { _, err := sdk("TENANT", "tenant-secret").SetBucketMirrorBackToSource(evil); return err }, 403, "AccessDenied"},
				{"out of scope, read", func() error {
					_, err := sdk("TENANT", "tenant-secret").GetBucketMirrorBackToSource("my-bucket")
					return err
				}, 403, "AccessDenied"},
				{"out of scope, delete", func() error {
					_, err := sdk("TENANT", "tenant-secret").DeleteBucketMirrorBackToSource("my-bucket")
					return err
				}, 403, "AccessDenied"},
			} {
				status, code := obsErr(c.do())
				assert.Equal(t, c.status, status, c.name)
				assert.Equal(t, c.code, code, c.name)
			}
			_, err = sdk("TENANT", "tenant-secret").SetBucketMirrorBackToSource(
				&obs.SetBucketMirrorBackToSourceInput{Bucket: "tenant-a-photos", Rules: doc})
			require.NoError(t, err, "in scope")

			assert.Equal(t, doc, obsStored(t, admin, tap, "my-bucket"), "nothing changed")
		})
	}
}

// Errors are OBS's XML, with the id in x-obs-request-id; a malformed
// Authorization header is 400 InvalidArgument; a bad document is named.
func TestOBSErrorBodies(t *testing.T) {
	s := newAPIServer(t, false)
	for _, c := range []struct {
		auth, body string
		status     int
		code       string
	}{
		{"OBS ADMIN", "{}", 400, "InvalidArgument"},
		{"", "{}", 403, "AccessDenied"},
	} {
		req, err := http.NewRequest("PUT", s.URL+"/my-bucket?mirrorBackToSource", strings.NewReader(c.body))
		require.NoError(t, err)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, c.status, resp.StatusCode)
		assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
		var e httpapi.OBSError
		require.NoError(t, xml.Unmarshal(body, &e), string(body))
		assert.Equal(t, c.code, e.Code)
		assert.Equal(t, resp.Header.Get("X-Obs-Request-Id"), e.RequestID)
		assert.Equal(t, "/my-bucket", e.Resource)
	}

	c, _ := s.obsSDK(t, awsSigned, "ADMIN", "admin-secret")
	for body, code := range map[string]string{
		`{"rules": [`:               "MalformedJSON",
		`{"rules": [{"id": "x"}]}`:  "InvalidArgument",
		`{"rules": [], "other": 1}`: "InvalidArgument",
	} {
		_, err := c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: body})
		status, got := obsErr(err)
		assert.Equal(t, 400, status, body)
		assert.Equal(t, code, got, body)
	}
}

// The SDK sends no Content-MD5, so its signature does not cover the body:
// a captured PUT sent again with another body is refused and changes
// nothing, sent again as it was it is answered as done and not made again
// (a newer PUT stands). Two PUTs of different bodies signed in one second
// carry one signature: the second is refused, unless each signs its
// Content-MD5, which the SDK sends when told (obs.WithCustomHeader) and
// the gateway then holds the body to.
func TestOBSBodyAndReplay(t *testing.T) {
	s := newAPIServer(t, false)
	c, tap := s.obsSDK(t, awsSigned, "ADMIN", "admin-secret")
	first, second := obsRules("https://first.example.com"), obsRules("https://second.example.com")
	date := obs.WithCustomHeader("Date", time.Now().UTC().Format(http.TimeFormat))
	_, err := c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: first}, date)
	require.NoError(t, err)
	captured := tap.last()
	assert.Empty(t, captured.req.Header.Get("Content-Md5"))

	resend := func(body string, header http.Header) int {
		req, err := http.NewRequest("PUT", s.URL+"/my-bucket?mirrorBackToSource", strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 403, resend(second, captured.req.Header), "another body under a captured signature")

	_, err = c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: second}, date)
	status, code := obsErr(err)
	assert.Equal(t, 403, status, "the same signature, another body")
	assert.Equal(t, "AccessDenied", code)

	sum := md5.Sum([]byte(second))
	withMD5 := obs.WithCustomHeader("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	_, err = c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: second}, date, withMD5)
	require.NoError(t, err, "with its Content-MD5 signed, the second body has its own signature")
	signedMD5 := tap.last()
	assert.Equal(t, second, obsStored(t, c, tap, "my-bucket"))

	assert.Equal(t, 200, resend(first, captured.req.Header), "the first PUT again, as it was: done already")
	assert.Equal(t, second, obsStored(t, c, tap, "my-bucket"), "and not made again")
	assert.Equal(t, 400, resend(first, signedMD5.req.Header), "a body its signed Content-MD5 does not match: BadDigest")
	assert.Equal(t, second, obsStored(t, c, tap, "my-bucket"))
}

// A bucket has one configuration: an OBS GET of what another API put
// answers it converted to OBS's document, or, where OBS's can not say it,
// OBS's error naming the API that put it.
func TestOBSReadsWhatAnotherAPIPut(t *testing.T) {
	s := newAPIServer(t, false)
	c, tap := s.obsSDK(t, awsSigned, "ADMIN", "admin-secret")
	require.NoError(t, s.bosClient(t, "ADMIN", "admin-secret").PutBucketMirror("my-bucket", bosRules))
	_, err := c.GetBucketMirrorBackToSource("my-bucket")
	status, code := obsErr(err)
	assert.Equal(t, 400, status)
	assert.Equal(t, "InvalidRequest", code)
	var e httpapi.OBSError
	require.NoError(t, xml.Unmarshal(tap.last().reply, &e))
	assert.Contains(t, e.Message, "put through BOS PutBucketMirroring")

	// The engine's own document for OBS's sample, put as native rules.
	native, err := os.ReadFile(filepath.Join("..", "testdata", "providers", "obs", "get-sample-prefix.native.json"))
	require.NoError(t, err)
	require.NoError(t, s.registry.Put(context.Background(), "plain", mirror.FormatNative, native))
	doc := obsStored(t, c, tap, "plain")
	assert.Contains(t, doc, `"http://bucket1.xxx.yyy.com"`)
	assert.Contains(t, doc, `"objectKeyPrefixEquals": "video/"`)
}

// A request line without a path (absolute form, "http://b.gw.test?…")
// names its bucket in the Host, as "/" does: the bucket is signed (found
// in review: it signed none, and one signature read two buckets).
func TestOBSEmptyPathSignsTheHostsBucket(t *testing.T) {
	r := httptest.NewRequest("GET", "http://bucket-one.gw.test/?mirrorBackToSource", nil)
	r.URL.Path = ""
	assert.Equal(t, "bucket-one", obsHostBucket(r))
	r.URL.Path = "/"
	assert.Equal(t, "bucket-one", obsHostBucket(r))
}
