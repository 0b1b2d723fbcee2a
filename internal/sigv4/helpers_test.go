package sigv4

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/require"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sigtest.At, sigtest.Secrets("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

// s3Signer is aws-sdk-go-v2's signer as its S3 client configures it: the
// path is signed as the client escaped it, never escaped twice.
var s3Signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

// clientRequest is a request as aws-sdk-go-v2's S3 client builds one: the
// key escaped with httpbinding.EscapePath, "/" kept, in front of it the
// bucket (path style) or nothing (virtual-host style, the bucket in host).
func clientRequest(t *testing.T, method, host, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://"+host+"/", nil)
	require.NoError(t, err)
	r.URL.Path = path
	r.URL.RawPath = httpbinding.EscapePath(path, false)
	return r
}

// creds are the test key's.
var creds = aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}

// signHeader signs r in the Authorization header with the SDK, at t,
// with payload as x-amz-content-sha256 (and the payload hash).
func signHeader(t *testing.T, r *http.Request, payload string, when time.Time, sk string) {
	t.Helper()
	r.Header.Set("X-Amz-Content-Sha256", payload)
	c, signer := creds, s3Signer
	if sk != testSK {
		// The signer caches the signing key by access key, not secret.
		c.SecretAccessKey = sk
		signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	}
	require.NoError(t, signer.SignHTTP(context.Background(), c, r, payload, "s3", "eu-west-3", when))
}

// presign presigns r with the SDK for expires, as the S3 presign client
// does: X-Amz-Expires in the query before signing, UNSIGNED-PAYLOAD.
func presign(t *testing.T, r *http.Request, expires string, when time.Time) string {
	t.Helper()
	q := r.URL.Query()
	q.Set("X-Amz-Expires", expires)
	r.URL.RawQuery = q.Encode()
	u, _, err := s3Signer.PresignHTTP(context.Background(), creds, r, unsignedPayload, "s3", "us-east-1", when)
	require.NoError(t, err)
	return u
}

// serverSide is r as the gateway's server reads it off the wire: its
// request line and headers through http.ReadRequest.
func serverSide(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	return received(t, r.Method, r.URL.String(), r.Header)
}

// received is sigtest.Received.
var received = sigtest.Received

// failure is e's Failure, or -1 when e is nil.
func failure(e *httpapi.Error) httpapi.Failure {
	if e == nil {
		return -1
	}
	return e.Failure
}
