package configapi

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qssigner "github.com/yunify/qingstor-sdk-go/v3/request/signer"
)

// Finding 5 of issue 16: a captured QingStor PUT, whose signature can not
// cover its body, installed any body for as long as its Date was taken.
// Now a signature is taken for one write: the same write again is answered
// as done and not made twice; another body, or another method, is refused.
func TestCapturedQingStorWriteCannotBeReplayed(t *testing.T) {
	s := newAPIServer(t, false)
	var changes []string
	s.registry.ObserveChange = func(_ string, f mirror.Format, op string) { changes = append(changes, string(f)+" "+op) }
	date := time.Now().UTC().Format(http.TimeFormat)
	signed := func(method, body string) *http.Request {
		req, err := http.NewRequest(method, s.URL+"/my-bucket?mirror", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Date", date)
		req.Header.Set("Content-Type", "application/json")
		require.NoError(t, (&qssigner.QingStorSigner{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}).WriteSignature(req))
		return req
	}
	send := func(req *http.Request, body string) (int, qsError) {
		again, err := http.NewRequest(req.Method, req.URL.String(), strings.NewReader(body))
		require.NoError(t, err)
		again.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(again)
		require.NoError(t, err)
		return readQS(t, resp)
	}
	good := `{"source_site":"https://good.example.com"}`
	captured := signed("PUT", good)
	status, _ := send(captured, good)
	require.Equal(t, 200, status)

	status, e := send(captured, `{"source_site":"http://evil.example.org"}`)
	assert.Equal(t, 403, status, "the captured signature with another body")
	assert.Equal(t, "permission_denied", e.Code)
	status, _ = send(captured, good)
	assert.Equal(t, 200, status, "the same write again is answered as done")
	assert.Equal(t, []string{"qingstor put"}, changes, "and not made twice")

	_, doc, err := s.store.GetConfig(context.Background(), "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, good, string(doc), "the attacker's body was never stored")

	// A DELETE replayed is answered as done, and removes nothing more.
	del := signed("DELETE", "")
	status, _ = send(del, "")
	assert.Equal(t, 204, status)
	status, _ = send(del, "")
	assert.Equal(t, 204, status)
	assert.Equal(t, []string{"qingstor put", "qingstor delete"}, changes)

	// A write that was refused is not remembered: sent again, it is judged
	// again, never answered as done.
	date = time.Now().Add(time.Second).UTC().Format(http.TimeFormat)
	broken := signed("PUT", `{"source_site": 5}`)
	for range 2 {
		status, e = send(broken, `{"source_site": 5}`)
		assert.Equal(t, 400, status)
		assert.Equal(t, "invalid_argument", e.Code)
	}
}

// Finding 5 of issue 16: a BOS PUT whose signature left out content-md5
// was taken, so one captured Authorization installed any body. Now its
// signed headers must cover the body; the real bce-sdk-go (which always
// signs content-md5) still configures (TestBOSSDK).
func TestBOSPutMustSignContentMD5(t *testing.T) {
	s := newAPIServer(t, false)
	body := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"http://evil.example.org","resource":"*"}]}`
	sum := md5.Sum([]byte(body))
	for name, c := range map[string]struct {
		sign    map[string]struct{}
		withMD5 bool
	}{
		"no content-md5 at all":      {map[string]struct{}{"host": {}}, false},
		"content-md5 sent, unsigned": {map[string]struct{}{"host": {}}, true},
	} {
		req, err := http.NewRequest("PUT", s.URL+"/my-bucket?mirroring", strings.NewReader(body))
		require.NoError(t, err)
		sreq := &bcehttp.Request{}
		sreq.SetMethod("PUT")
		sreq.SetUri("/my-bucket")
		sreq.SetParam("mirroring", "")
		sreq.SetHeader("host", s.host())
		if c.withMD5 {
			req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		}
		cred, _ := bceauth.NewBceCredentials("ADMIN", "admin-secret")
		(&bceauth.BceV1Signer{}).Sign(sreq, cred, &bceauth.SignOptions{HeadersToSign: c.sign, ExpireSeconds: 300})
		req.Header.Set("Authorization", sreq.Header("Authorization"))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		a := readBOS(t, resp)
		assert.Equal(t, 400, a.status, name)
		assert.Equal(t, "InvalidHTTPAuthHeader", a.Code, name)
	}
	_, _, err := s.store.GetConfig(context.Background(), "my-bucket")
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing was stored")

	// Signed, and the body matches: taken.
	a := readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket", strings.NewReader(body), int64(len(body))))
	assert.Equal(t, 200, a.status)
}

// bceRequest is a request signed by BOS's own SDK signer with the headers
// given, ready to be sent (again) with send.
func bceRequest(t *testing.T, s *apiServer, method, path, param string, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path+"?"+param, nil)
	require.NoError(t, err)
	sreq := &bcehttp.Request{}
	sreq.SetMethod(method)
	sreq.SetUri(path)
	sreq.SetParam(param, "")
	sreq.SetHeader("host", s.host())
	sign := map[string]struct{}{"host": {}}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
		sreq.SetHeader(strings.ToLower(name), value)
		sign[strings.ToLower(name)] = struct{}{}
	}
	cred, _ := bceauth.NewBceCredentials("ADMIN", "admin-secret")
	(&bceauth.BceV1Signer{}).Sign(sreq, cred, &bceauth.SignOptions{HeadersToSign: sign, ExpireSeconds: 300})
	req.Header.Set("Authorization", sreq.Header("Authorization"))
	return req
}

// send sends a copy of req with body.
func send(t *testing.T, req *http.Request, body string) *http.Response {
	t.Helper()
	again, err := http.NewRequest(req.Method, req.URL.String(), strings.NewReader(body))
	require.NoError(t, err)
	again.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(again)
	require.NoError(t, err)
	return resp
}

// Review of issue 16, F6: a captured PUT ?acl public-read, replayed after
// the owner made the bucket private again, reopened it. A write's
// signature is taken once: the replay is answered as done, and changes
// nothing.
func TestACLReplayDoesNotReopenABucket(t *testing.T) {
	s := newAPIServer(t, false)
	ctx := context.Background()
	open := bceRequest(t, s, "PUT", "/my-bucket", "acl", "x-bce-acl: public-read")
	require.Equal(t, 200, readBOS(t, send(t, open, "")).status)
	closed := bceRequest(t, s, "PUT", "/my-bucket", "acl", "x-bce-acl: private")
	require.Equal(t, 200, readBOS(t, send(t, closed, "")).status)
	assert.Equal(t, 200, readBOS(t, send(t, open, "")).status, "answered as done")
	p, err := s.store.GetPolicy(ctx, "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, bucketconfig.Private, p, "and not made again")
}

// Review of issue 16, F7: a captured BOS PUT, replayed after a newer one,
// restored the old rules. Taken once, it is answered as done.
func TestBOSConfigReplayDoesNotUndoANewerPut(t *testing.T) {
	s := newAPIServer(t, false)
	doc := func(origin string) string {
		return `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://` + origin + `.example.com","resource":"*"}]}`
	}
	md5of := func(b string) string { sum := md5.Sum([]byte(b)); return base64.StdEncoding.EncodeToString(sum[:]) }
	a := bceRequest(t, s, "PUT", "/my-bucket", "mirroring", "Content-MD5: "+md5of(doc("old")))
	require.Equal(t, 200, readBOS(t, send(t, a, doc("old"))).status)
	b := bceRequest(t, s, "PUT", "/my-bucket", "mirroring", "Content-MD5: "+md5of(doc("new")))
	require.Equal(t, 200, readBOS(t, send(t, b, doc("new"))).status)
	assert.Equal(t, 200, readBOS(t, send(t, a, doc("old"))).status, "answered as done")
	_, got, err := s.store.GetConfig(context.Background(), "my-bucket")
	require.NoError(t, err)
	assert.Equal(t, doc("new"), string(got), "the newer rules stay")
}

// Review of issue 16, F5: a QingStor presigned PUT ?acl with
// X-Amz-SignedHeaders added to its query passed an unsigned x-amz-acl as
// signed. The signed headers are the verified scheme's, and a policy is
// never set by a presigned URL.
func TestPolicyHeadersAreTheVerifiedSchemes(t *testing.T) {
	s := newAPIServer(t, false)
	req, err := http.NewRequest("PUT", s.URL+"/my-bucket?acl", nil)
	require.NoError(t, err)
	require.NoError(t, (&qssigner.QingStorSigner{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}).WriteQuerySignature(req,
		int(time.Now().Add(time.Hour).Unix())))
	req.URL.RawQuery += "&X-Amz-SignedHeaders=x-amz-acl"
	req.Header.Set("x-amz-acl", "public-read")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEqual(t, 200, resp.StatusCode)
	_, err = s.store.GetPolicy(context.Background(), "my-bucket")
	assert.ErrorIs(t, err, fs.ErrNotExist, "no policy was set")

	// The header form, with x-amz-acl that QingStor's signature never
	// covers: refused too.
	hreq, err := http.NewRequest("PUT", s.URL+"/my-bucket?acl", nil)
	require.NoError(t, err)
	hreq.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	require.NoError(t, (&qssigner.QingStorSigner{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}).WriteSignature(hreq))
	hreq.Header.Set("x-amz-acl", "public-read")
	resp, err = http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEqual(t, 200, resp.StatusCode)
	_, err = s.store.GetPolicy(context.Background(), "my-bucket")
	assert.ErrorIs(t, err, fs.ErrNotExist, "no policy was set")
}
