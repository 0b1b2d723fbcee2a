package pull

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenRequest is what an origin received.
type seenRequest struct {
	method, host, uri string
	header            http.Header
}

// recordingOrigin answers every request with handler, after keeping it.
func recordingOrigin(t *testing.T, handler http.HandlerFunc) (*httptest.Server, func() []seenRequest) {
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, seenRequest{r.Method, r.Host, r.RequestURI, r.Header.Clone()})
		mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

// checkSigV4 recomputes the signature of a request an origin received with
// aws-sdk-go-v2's own signer, over the headers it says it signed, at the
// time it says, and returns the signed header names.
func checkSigV4(t *testing.T, r seenRequest, creds *S3Credentials, region string) []string {
	t.Helper()
	auth := r.header.Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 "), "signed with SigV4: %q", auth)
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	at, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), at, time.Minute)
	assert.Equal(t, creds.AccessKeyID+"/"+at.Format("20060102")+"/"+region+"/s3/aws4_request", fields["Credential"])
	signed := strings.Split(fields["SignedHeaders"], ";")

	u, err := url.Parse("http://" + r.host + r.uri)
	require.NoError(t, err)
	req := &http.Request{Method: r.method, URL: u, Host: r.host, Header: http.Header{}}
	for _, name := range signed {
		if name != "host" && name != "x-amz-date" && name != "x-amz-security-token" {
			req.Header[http.CanonicalHeaderKey(name)] = r.header.Values(name)
		}
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }) // S3's rule
	require.NoError(t, s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}, req, emptyPayloadSHA256, "s3", region, at))
	assert.Equal(t, req.Header.Get("Authorization"), auth, "aws-sdk-go-v2 computes the same signature")
	return signed
}

// An s3:// origin is asked path-style, signed with Signature V4 by the
// gateway bucket's credentials, host and the request's headers signed
// (User-Agent and Accept-Encoding aside), the empty body's hash as the
// payload; aws-sdk-go-v2's signer computes the same signature.
func TestS3OriginRequestsAreSignedV4(t *testing.T) {
	srv, seen := recordingOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "object") })
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	creds := &S3Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		Endpoints: []string{"other.example.com", endpoint}, Buckets: []string{"privbucket"}}
	f := &Fetcher{Store: memStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.DiscardHandler), S3InsecureHTTP: true,
		S3Credentials: func(bucket string) *S3Credentials {
			if bucket == "gw" {
				return creds
			}
			return nil
		}}
	defer f.Shutdown(context.Background())
	doc := `{"rules": [{"mode": "fetch", "sourceUrl": "s3://` + endpoint + `/privbucket/pre", "resource": "*",
		"customHeaders": [{"headerName": "X-Custom", "headerValue": "a  b"}, {"headerName": "X-Amz-Meta-Note", "headerValue": "n"}]}]}`
	keys := []string{"a b/ü+x(1)!", "k", "~tilde/semi;colon=,@$&'*", "%2F%25", "日本/é", "a?b#c"}
	for _, key := range keys {
		dl, err := f.Fetch(context.Background(), "gw", key, decideDoc(t, doc, key))
		require.NoError(t, err, key)
		require.NoError(t, dl.Wait(context.Background()), key)
		dl.Close()
	}
	got := seen()
	require.Len(t, got, len(keys))
	for i, r := range got {
		d := decideDoc(t, doc, keys[i])
		assert.Equal(t, http.MethodGet, r.method)
		assert.Equal(t, endpoint, r.host)
		assert.Equal(t, d.Origins[0].Path, r.uri, "path-style, the engine's bytes, no query")
		assert.True(t, strings.HasPrefix(r.uri, "/privbucket/pre/"), r.uri)
		assert.Equal(t, emptyPayloadSHA256, r.header.Get("X-Amz-Content-Sha256"))
		assert.Empty(t, r.header.Get("X-Amz-Security-Token"))
		signed := checkSigV4(t, r, creds, DefaultS3Region)
		assert.Equal(t, []string{"host", "via", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-note", "x-custom"}, signed)
	}

	// A session token is sent and signed; the region is the credentials'.
	creds.SessionToken, creds.Region = "session-token", "eu-west-3"
	dl, err := f.Fetch(context.Background(), "gw", "tok", decideDoc(t, doc, "tok"))
	require.NoError(t, err)
	require.NoError(t, dl.Wait(context.Background()))
	dl.Close()
	got = seen()
	r := got[len(got)-1]
	assert.Equal(t, "session-token", r.header.Get("X-Amz-Security-Token"))
	assert.Contains(t, checkSigV4(t, r, creds, "eu-west-3"), "x-amz-security-token")
}

// signS3 signs in place the request NewRequest made, over https unless
// insecure, and never signs what it should not: a request with a query,
// another scheme's origin.
func TestSignS3(t *testing.T) {
	eng, err := mirror.Compiler{AllowPrivateOrigins: true}.Load([]byte(`{"rules": [{"mode": "fetch",
		"sourceUrl": "s3://s3.example.com:9000/bkt.one/dir", "resource": "*"}]}`), mirror.FormatNative)
	require.NoError(t, err)
	d, err := eng.Resolve(&mirror.Request{Key: "x y"})
	require.NoError(t, err)
	o := &d.Origins[0]
	creds := &S3Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", Endpoints: []string{"s3.example.com:9000"}, Buckets: []string{"bkt.one"}}
	req, err := o.NewRequest(context.Background())
	require.NoError(t, err)
	req.Header.Set("Authorization", "a rule's own")
	require.NoError(t, signS3(req, o, "gw", creds, false))
	assert.Equal(t, "https://s3.example.com:9000/bkt.one/dir/x%20y", req.URL.String())
	assert.True(t, strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AK/"), req.Header.Get("Authorization"))
	checkSigV4(t, seenRequest{req.Method, req.Host, req.URL.RequestURI(), req.Header}, creds, DefaultS3Region)

	req, err = o.NewRequest(context.Background())
	require.NoError(t, err)
	require.NoError(t, signS3(req, o, "gw", creds, true))
	assert.Equal(t, "http://s3.example.com:9000/bkt.one/dir/x%20y", req.URL.String())

	req, err = o.NewRequest(context.Background())
	require.NoError(t, err)
	req.URL.RawQuery = "acl"
	assert.ErrorContains(t, signS3(req, o, "gw", creds, false), "query")
	assert.Empty(t, req.Header.Get("Authorization"))

	other := *o
	other.Scheme = "https"
	req, err = other.NewRequest(context.Background())
	require.NoError(t, err)
	assert.ErrorContains(t, signS3(req, &other, "gw", creds, false), "not an s3:// origin")
}

// Credentials are bound to the gateway bucket, and list the endpoints and
// buckets they may reach: an s3:// origin whose bucket has none, or whose
// credentials do not list its endpoint or source bucket (or hold no key),
// is never asked, not even unsigned; the fetch fails over as from an
// unreachable origin, saying why.
func TestS3OriginWithoutItsCredentialsIsNeverAsked(t *testing.T) {
	srv, seen := recordingOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "object") })
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	good := func() *S3Credentials {
		return &S3Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", Endpoints: []string{endpoint}, Buckets: []string{"privbucket"}}
	}
	for _, tc := range []struct {
		name  string
		creds func(string) *S3Credentials
		why   string
	}{
		{"no function", nil, "no S3 origin credentials for bucket gw"},
		{"another bucket's", func(b string) *S3Credentials {
			if b == "other" {
				return good()
			}
			return nil
		}, "no S3 origin credentials for bucket gw"},
		{"endpoint not listed", func(string) *S3Credentials {
			c := good()
			c.Endpoints = []string{"s3.example.com", "127.0.0.1"}
			return c
		}, "do not list endpoint " + endpoint},
		{"bucket not listed", func(string) *S3Credentials {
			c := good()
			c.Buckets = []string{"privbucket2", "PRIVBUCKET"}
			return c
		}, "do not list source bucket privbucket"},
		{"no secret", func(string) *S3Credentials {
			c := good()
			c.SecretAccessKey = ""
			return c
		}, "have no accessKeyId or secretAccessKey"},
		{"no key id", func(string) *S3Credentials {
			c := good()
			c.AccessKeyID = ""
			return c
		}, "have no accessKeyId or secretAccessKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fetcher{Store: memStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.DiscardHandler),
				S3InsecureHTTP: true, S3Credentials: tc.creds}
			defer f.Shutdown(context.Background())
			_, err := f.Fetch(context.Background(), "gw", "k", decide(t, "s3://"+endpoint+"/privbucket", "k"))
			var fe *FetchError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, OutcomeFailed, fe.Outcome)
			assert.Contains(t, fe.Message, tc.why)
			assert.NotContains(t, fe.Message, "SK")
		})
	}
	assert.Empty(t, seen(), "the origin was never asked")

	// It fails over as an unreachable origin does: the backup answers.
	backup, backupSeen := recordingOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "backup") })
	f := &Fetcher{Store: memStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.DiscardHandler), S3InsecureHTTP: true}
	defer f.Shutdown(context.Background())
	d := decideDoc(t, `{"rules": [{"mode": "fetch", "sourceUrl": "s3://`+endpoint+`/privbucket", "backSourceUrl": "`+backup.URL+`", "resource": "*"}]}`, "k")
	dl, err := f.Fetch(context.Background(), "gw", "k", d)
	require.NoError(t, err)
	require.NoError(t, dl.Wait(context.Background()))
	dl.Close()
	assert.Len(t, backupSeen(), 1)
	assert.Empty(t, seen(), "the s3:// origin was never asked")
}

// An s3:// origin goes through the dial guard as every origin does, and a
// redirect it answers is never followed.
func TestS3OriginGuardAndRedirects(t *testing.T) {
	target, targetSeen := recordingOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "elsewhere") })
	srv, seen := recordingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/privbucket/k", http.StatusTemporaryRedirect)
	})
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	creds := func(string) *S3Credentials {
		return &S3Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", Endpoints: []string{endpoint}, Buckets: []string{"privbucket"}}
	}
	d := decideDoc(t, `{"rules": [{"mode": "fetch", "sourceUrl": "s3://`+endpoint+`/privbucket", "resource": "*",
		"fetch": {"followRedirects": 5}}]}`, "k")

	guarded := &Fetcher{Store: memStore{}, Logger: slog.New(slog.DiscardHandler), S3InsecureHTTP: true, S3Credentials: creds}
	defer guarded.Shutdown(context.Background())
	_, err := guarded.Fetch(context.Background(), "gw", "k", d)
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Message, "dial guard")
	assert.Empty(t, seen(), "the guard refused the connection")

	f := &Fetcher{Store: memStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.DiscardHandler), S3InsecureHTTP: true, S3Credentials: creds}
	defer f.Shutdown(context.Background())
	_, err = f.Fetch(context.Background(), "gw", "k", d)
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.Canceled))
	assert.Len(t, seen(), 1)
	assert.Empty(t, targetSeen(), "the redirect was not followed")
}
