package obssig

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "OBSTESTAK", "obs-test-secret", sigtest.At, sigtest.Secrets("OBSTESTAK", "obs-test-secret")

// domain is the gateway's -domain in these tests: the SDK addresses a
// bucket virtual-host style as BUCKET.domain.
const domain = "gw.test"

// hardKeys are keys whose paths every encoder has an opinion on.
var hardKeys = []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "(paren)*star!'", "emoji😀/ü", "dir/"}

// wire is a loopback server that records each request as it reads it off
// the wire, and answers 200.
type wire struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newWire(t testing.TB) *wire {
	w := &wire{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c := r.Clone(context.Background())
		c.Body = http.NoBody
		w.mu.Lock()
		w.reqs = append(w.reqs, c)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// take returns the requests recorded since the last take.
func (w *wire) take() []*http.Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.reqs
	w.reqs = nil
	return out
}

// client is an HTTP client that reaches the server whatever host a URL
// names.
func (w *wire) client() *http.Client {
	addr := w.srv.Listener.Addr().String()
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
}

// A style is how an SDK client is configured.
type style int

const (
	obsVirtual style = iota // obs.SignatureObs, BUCKET.gw.test
	awsPath                 // the default (V2), an IP endpoint: path-style
	awsVirtual              // obs.SignatureV2, BUCKET.gw.test
)

func (s style) String() string {
	return [...]string{"OBS virtual-host", "AWS path", "AWS virtual-host"}[s]
}

// sdk is the OBS SDK configured in style s, reaching the wire.
func (w *wire) sdk(t testing.TB, s style, ak, sk string) *obs.ObsClient {
	_, port, _ := net.SplitHostPort(w.srv.Listener.Addr().String())
	var c *obs.ObsClient
	var err error
	switch s {
	case obsVirtual:
		c, err = obs.New(ak, sk, "http://"+domain+":"+port, obs.WithSignature(obs.SignatureObs),
			obs.WithHttpClient(w.client()), obs.WithMaxRetryCount(0))
	case awsPath:
		c, err = obs.New(ak, sk, w.srv.URL, obs.WithHttpClient(w.client()), obs.WithMaxRetryCount(0))
	case awsVirtual:
		c, err = obs.New(ak, sk, "http://"+domain+":"+port, obs.WithSignature(obs.SignatureV2),
			obs.WithHttpClient(w.client()), obs.WithMaxRetryCount(0))
	}
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// hostBucket is the bucket a request names in its Host under domain, or
// "", as the gateway's router finds it.
func hostBucket(r *http.Request) string {
	rt := httpapi.Router{Domain: domain}
	if !rt.VirtualHost(r) {
		return ""
	}
	b, _ := rt.Route(r)
	return b
}

const mirrorDoc = `{"rules":[{"id":"r1","condition":{"httpErrorCodeReturnedEquals":404,"objectKeyPrefixEquals":"m/"},` +
	`"redirect":{"agency":"a","publicSource":{"sourceEndpoint":{"master":["https://origin.example.com"]}}}}]}`

// sdkCalls makes the SDK send a spread of requests: the three
// configuration calls, reads of hard keys with sub-resources and other
// query parameters, writes with metadata, Content-MD5 and a Content-Type,
// a listing; each with ext.
func sdkCalls(c *obs.ObsClient, bucket string) {
	_, _ = c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: bucket, Rules: mirrorDoc})
	_, _ = c.GetBucketMirrorBackToSource(bucket)
	_, _ = c.DeleteBucketMirrorBackToSource(bucket)
	for _, key := range hardKeys {
		in := &obs.GetObjectInput{ResponseContentType: "text/plain; x=y", ResponseCacheControl: "no-cache"}
		in.Bucket, in.Key, in.VersionId = bucket, key, "v1"
		_, _ = c.GetObject(in)
		body := "body of " + key
		sum := md5.Sum([]byte(body))
		put := &obs.PutObjectInput{Body: strings.NewReader(body)}
		put.Bucket, put.Key = bucket, key
		put.Metadata = map[string]string{"Color": " blue ", "b": "x,y"}
		put.ContentType, put.ContentMD5 = "text/plain", base64.StdEncoding.EncodeToString(sum[:])
		_, _ = c.PutObject(put)
	}
	list := &obs.ListObjectsInput{Bucket: bucket}
	list.Prefix, list.Delimiter = "a b/", "/"
	_, _ = c.ListObjects(list)
}

// Every request the SDK sends, in every style, verifies with
// VerifyHeader for the bucket the gateway finds; the OBS form verifies
// with VerifyIn and is claimed, the AWS form neither.
func TestAgreesWithTheSDK(t *testing.T) {
	w := newWire(t)
	for _, s := range []style{obsVirtual, awsPath, awsVirtual} {
		sdkCalls(w.sdk(t, s, testAK, testSK), "my-bucket")
		reqs := w.take()
		require.Len(t, reqs, 4+2*len(hardKeys), s.String())
		for _, r := range reqs {
			what := s.String() + " " + r.Method + " " + r.URL.RequestURI()
			bucket := hostBucket(r)
			assert.Equal(t, s != awsPath, bucket == "my-bucket", what)
			ak, e := VerifyHeader(r, bucket, secrets, time.Now())
			assert.Nil(t, e, "%s: %v", what, e)
			assert.Equal(t, testAK, ak, what)
			_, e = VerifyIn(r, bucket, secrets, time.Now())
			if s == obsVirtual {
				assert.Nil(t, e, "%s: %v", what, e)
				assert.True(t, Claims(r), what)
			} else {
				assert.Equal(t, httpapi.MalformedAuthorization, failure(e), what)
				assert.False(t, Claims(r), what)
			}
			// The signature covers the bucket: the same request taken
			// for another bucket, or the other style, is refused.
			_, e = VerifyHeader(r, "other-bucket", secrets, time.Now())
			assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), what)
		}
	}
}

// The requests of a configuration call are what the configuration API
// expects: PUT with the document as sent and application/json, no
// Content-MD5 (so the body is the replay rule's to hold).
func TestTheSDKsConfigurationRequests(t *testing.T) {
	w := newWire(t)
	c := w.sdk(t, obsVirtual, testAK, testSK)
	_, _ = c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: "my-bucket", Rules: mirrorDoc})
	r := w.take()[0]
	assert.Equal(t, "PUT", r.Method)
	assert.Equal(t, "/", r.URL.Path)
	assert.Equal(t, "mirrorBackToSource", r.URL.RawQuery)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Get("Content-Md5"))
	assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "OBS "+testAK+":"))

	_, _ = w.sdk(t, awsPath, testAK, testSK).DeleteBucketMirrorBackToSource("my-bucket")
	r = w.take()[0]
	assert.Equal(t, "/my-bucket", r.URL.Path)
	assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "AWS "+testAK+":"))
}

// The SDK's presigned URLs (CreateSignedUrl), fetched as a client fetches
// them: OBS's own verify with Verify and are claimed; the AWS form's
// (AWSAccessKeyId) are neither.
func TestPresignedAgreesWithTheSDK(t *testing.T) {
	w := newWire(t)
	for _, s := range []style{obsVirtual, awsPath} {
		c := w.sdk(t, s, testAK, testSK)
		for _, key := range hardKeys {
			for _, in := range []*obs.CreateSignedUrlInput{
				{Method: obs.HttpMethodGet, Bucket: "my-bucket", Key: key, Expires: 600,
					QueryParams: map[string]string{"response-content-type": "text/plain", "other": "x y"}},
				{Method: obs.HttpMethodPut, Bucket: "my-bucket", Key: key, Expires: 600,
					Headers: map[string]string{"Content-Type": "text/plain", "x-obs-meta-a": "b"}},
				{Method: obs.HttpMethodGet, Bucket: "my-bucket", SubResource: obs.SubResourceMirrorBackToSource, Expires: 600},
			} {
				out, err := c.CreateSignedUrl(in)
				require.NoError(t, err)
				req, err := http.NewRequest(string(in.Method), out.SignedUrl, strings.NewReader("x"))
				require.NoError(t, err)
				for k, v := range out.ActualSignedRequestHeaders {
					if !strings.EqualFold(k, "Host") {
						req.Header[k] = v
					}
				}
				resp, err := w.client().Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				r := w.take()[0]
				what := s.String() + " " + r.Method + " " + r.URL.RequestURI()
				ak, e := VerifyIn(r, hostBucket(r), secrets, time.Now())
				if s == obsVirtual {
					assert.Nil(t, e, "%s: %v", what, e)
					assert.Equal(t, testAK, ak, what)
					assert.True(t, Claims(r), what)
				} else {
					assert.Equal(t, httpapi.AccessDenied, failure(e), what)
					assert.False(t, Claims(r), what)
				}
				_, e = VerifyHeader(r, hostBucket(r), secrets, time.Now())
				assert.Equal(t, httpapi.AccessDenied, failure(e), "%s: a presigned URL is not a header signature", what)
			}
		}
	}
}

// The SDK's server-side helper, obs.GetAuthorization, computes the same
// signature for every sub-resource the SDK signs and for parameters it
// does not, in both forms and both styles, with each kind of header. The
// candidates hold every sub-resource OBS documents and the SDKs list, so
// that one the SDK signs and this package does not would show here.
func TestAgreesWithGetAuthorization(t *testing.T) {
	candidates := []string{"other", "Expires", "prefix", "marker", "x-obs-foo", "X-Obs-Bar", "x-amz-foo",
		"mirrorrefresh", "fileinterface", "obscompresspolicy", "orchestration", "requestPayment", "uploadId",
		"partNumber", "versionId", "storageClass", "storagePolicy", "storageinfo", "obsalias", "dis_policy",
		"mirror", "mirroring", "origin", "website", "x-obs-security-token", "x-amz-security-token"}
	for name := range subresources {
		candidates = append(candidates, name)
	}
	for _, virtual := range []bool{false, true} {
		for _, f := range []*form{obsForm, awsForm} {
			for _, name := range candidates {
				for _, value := range []string{"", "v 1/2=3"} {
					query := url.QueryEscape(name)
					if value != "" {
						query += "=" + url.QueryEscape(value)
					}
					query += "&mirrorBackToSource"
					header := http.Header{
						"Date":         {at.Format(http.TimeFormat)},
						"Content-Type": {"application/json"},
						"Content-Md5":  {"1B2M2Y8AsgTpgAmYgAGdvA=="},
					}
					header.Set(f.prefix+"meta-a", " b ")
					header.Set(f.prefix+"acl", "public-read")
					header.Set(f.prefix+"date", at.Format(http.TimeFormat))
					host, path, bucket := domain, "/my-bucket/a%20b/c", ""
					if virtual {
						host, path, bucket = "my-bucket."+domain, "/a%20b/c", "my-bucket"
					}
					r := sigtest.Received(t, "PUT", "http://"+host+path+"?"+query, header)
					theirs := getAuthorization(r, "my-bucket", "a%20b/c")
					toSign, e := stringToSign(r, f, bucket, r.Header.Get("Date"))
					require.Nil(t, e)
					what := strings.TrimSpace(f.auth) + " " + r.Host + " " + r.URL.RequestURI()
					assert.True(t, matches(testSK, toSign, theirs), "%s: the SDK signs otherwise", what)
					r.Header.Set("Authorization", f.auth+testAK+":"+theirs)
					_, e = VerifyHeader(r, bucket, secrets, at)
					assert.Nil(t, e, "%s: %v", what, e)
				}
			}
		}
	}
}

// getAuthorization is obs.GetAuthorization's signature of a header-form
// request r to bucket and key (as sent): the Host decides the style, an
// x-amz- header the form.
func getAuthorization(r *http.Request, bucket, key string) string {
	h := map[string][]string{"host": {r.Host}}
	for k, v := range r.Header {
		h[k] = v
	}
	return obs.GetAuthorization(testAK, testSK, r.Method, bucket, key, r.URL.RawQuery, h)["Signature"]
}

// failure is e's Failure, -1 for none.
func failure(e *httpapi.Error) httpapi.Failure {
	if e == nil {
		return -1
	}
	return e.Failure
}
