package tossig

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/require"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "AKLTtest", "tos-secret==", sigtest.At, sigtest.Secrets("AKLTtest", "tos-secret==")

// region is the one the tests sign for; any region verifies.
const region = "cn-beijing"

// signerAt is the SDK's own signer, tos.NewSignV4, with its clock stopped
// at when. The SDK has no option for its clock (SignV4.now, unexported,
// is time.Now), so the test sets the field by reflection: a signature
// made at a known instant is what a table of refusals needs. Should a
// later SDK rename the field, this fails loudly rather than sign at the
// wall clock.
func signerAt(t testing.TB, ak, sk string, when time.Time) *tos.SignV4 {
	t.Helper()
	s := tos.NewSignV4(tos.NewStaticCredentials(ak, sk), region)
	f := reflect.ValueOf(s).Elem().FieldByName("now")
	require.True(t, f.IsValid(), "tos.SignV4 has no field now")
	clock := func() time.Time { return when.UTC() }
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(clock))
	return s
}

// sdkRequest is a request as the SDK's requestBuilder builds one: the
// path and query decoded, the host as the client addresses it.
func sdkRequest(method, host, path string, query url.Values, header http.Header) *tos.Request {
	if query == nil {
		query = url.Values{}
	}
	if header == nil {
		header = http.Header{}
	}
	return &tos.Request{Scheme: "http", Method: method, Host: host, Path: path, Query: query, Header: header}
}

// signHeader signs req in its headers with the SDK's signer at when, and
// returns it as the gateway reads it off the wire (the SDK's transport
// sends req.URL() with req.Header).
func signHeader(t testing.TB, req *tos.Request, ak, sk string, when time.Time) *http.Request {
	t.Helper()
	for k, v := range signerAt(t, ak, sk, when).SignHeader(req) {
		req.Header[k] = v
	}
	return sigtest.Received(t, req.Method, req.URL(), req.Header)
}

// presign presigns req with the SDK's signer at when for ttl, as
// ClientV2.PreSignedURL does, and returns the URL's request as the
// gateway reads it.
func presign(t testing.TB, req *tos.Request, ak, sk string, when time.Time, ttl time.Duration) *http.Request {
	t.Helper()
	for k, v := range signerAt(t, ak, sk, when).SignQuery(req, ttl) {
		req.Query[k] = v
	}
	return sigtest.Received(t, req.Method, req.URL(), req.Header)
}

// goodHeader is a PUT of /bucket?mirror signed in the header at at, with
// the headers the SDK sends on PutBucketMirrorBack and a meta header.
func goodHeader(t testing.TB) *http.Request {
	return signHeader(t, sdkRequest("PUT", "gw.test:8080", "/bucket", url.Values{"mirror": {""}}, http.Header{
		"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}, "X-Tos-Meta-A": {" b  c "},
	}), testAK, testSK, at)
}

// goodPresigned is a GET of /bucket?mirror presigned at at for an hour.
func goodPresigned(t testing.TB) *http.Request {
	return presign(t, sdkRequest("GET", "gw.test:8080", "/bucket", url.Values{"mirror": {""}}, nil), testAK, testSK, at, time.Hour)
}

// failure is e's Failure, or -1 when e is nil.
func failure(e *httpapi.Error) httpapi.Failure {
	if e == nil {
		return -1
	}
	return e.Failure
}
