package signature

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
	"github.com/baidubce/bce-sdk-go/services/bos"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qssigner "github.com/yunify/qingstor-sdk-go/v3/request/signer"
)

// The key the tests sign with, when, and its lookup.
var testAK, testSK, at, secrets = "AK", "SK", sigtest.At, sigtest.Secrets("AK", "SK")

// received is sigtest.Received.
var received = sigtest.Received

// The requests each SDK signs, for one key, one per scheme and form.
func sdkRequests(t testing.TB, key string) map[string]*http.Request {
	out := map[string]*http.Request{}
	s3 := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
	escaped := httpbinding.EscapePath(key, false) // as the S3 client escapes a key
	r := httptest.NewRequest("GET", "http://gw.test/bucket/"+escaped, nil)
	r.RequestURI = ""
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	require.NoError(t, s3.SignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", "s3", "us-east-1", at))
	out["sigv4 header"] = received(t, "GET", r.URL.String(), r.Header)

	r = httptest.NewRequest("GET", "http://gw.test/bucket/"+escaped+"?X-Amz-Expires=600", nil)
	r.RequestURI = ""
	u, _, err := s3.PresignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", "s3", "us-east-1", at)
	require.NoError(t, err)
	out["sigv4 presigned"] = received(t, "GET", u, nil)

	c, err := bos.NewClient(testAK, testSK, "http://gw.test")
	require.NoError(t, err)
	c.Config.SignOption.Timestamp = at.Unix()
	out["bce presigned"] = received(t, "GET", c.GeneratePresignedUrlPathStyle("bucket", key, 600, "GET", nil, nil), nil)
	p := received(t, "GET", c.GeneratePresignedUrlPathStyle("bucket", key, 600, "GET", nil, nil), nil)
	p.Header.Set("Authorization", p.URL.Query().Get("authorization"))
	p.URL.RawQuery = ""
	out["bce header"] = p

	qs := &qssigner.QingStorSigner{AccessKeyID: testAK, SecretAccessKey: testSK}
	q, err := http.NewRequest("GET", "http://pek3b.gw.test/", nil)
	require.NoError(t, err)
	q.URL.Path = "/bucket/" + key
	q.Header.Set("Date", at.Format(http.TimeFormat))
	require.NoError(t, qs.WriteSignature(q))
	out["qs header"] = received(t, "GET", q.URL.String(), q.Header)
	q.Header.Del("Authorization")
	q.Header.Del("Date")
	require.NoError(t, qs.WriteQuerySignature(q, int(at.Add(time.Hour).Unix())))
	out["qs presigned"] = received(t, "GET", q.URL.String(), nil)
	return out
}

// Each scheme, each form, as its SDK signs it, is told apart and
// verified; tampering with any of them is caught by its scheme.
func TestEachSchemeFromItsSDK(t *testing.T) {
	for _, key := range []string{"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?"} {
		for name, r := range sdkRequests(t, key) {
			ak, signed, e := Verify(r, secrets, at)
			assert.Nil(t, e, "%s %s: %v", name, key, e)
			assert.True(t, signed, name)
			assert.Equal(t, testAK, ak, name)

			r.URL.Path += "x"
			_, signed, e = Verify(r, secrets, at)
			assert.True(t, signed, name)
			require.NotNil(t, e, name)
			assert.Equal(t, httpapi.SignatureDoesNotMatch, e.Failure, "%s %s: %v", name, key, e)
		}
	}
}

func TestDispatch(t *testing.T) {
	const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		name, auth, query string
		signed            bool
		want              httpapi.Failure
	}{
		{"anonymous", "", "", false, -1},
		{"anonymous with a query", "", "response-content-type=text%2Fplain&x-id=GetObject&X-Amz-Date=20261123T100000Z", false, -1},
		{"S3 v2 header", "AWS AK:c2ln", "", true, httpapi.AccessDenied},
		{"SigV4a header", "AWS4-ECDSA-P256-SHA256 Credential=AK/20261123/s3/aws4_request", "", true, httpapi.AccessDenied},
		{"bearer", "Bearer abc", "", true, httpapi.AccessDenied},
		{"empty header", "", "", true, httpapi.AccessDenied},
		{"lower-case algorithm", "aws4-hmac-sha256 Credential=x", "", true, httpapi.AccessDenied},
		{"S3 v2 presigned", "", "AWSAccessKeyId=AK&Expires=1800000000&Signature=c2ln", true, httpapi.AccessDenied},
		{"S3 v2 Signature alone", "", "Signature=c2ln", true, httpapi.AccessDenied},
		{"S3 v2 escaped name", "", "AWSAccessKey%49d=AK", true, httpapi.AccessDenied},
		{"sigv4 malformed", "AWS4-HMAC-SHA256 garbage", "", true, httpapi.MalformedAuthorization},
		{"sigv4 query malformed", "", "X-Amz-Signature=" + hex64, true, httpapi.MalformedAuthorization},
		{"sigv4 query lower case", "", "x-amz-credential=AK", true, httpapi.MalformedAuthorization},
		{"sigv4 after a bad escape", "", "a=%zz&X-Amz-Signature=" + hex64, true, httpapi.MalformedAuthorization},
		{"sigv4 after a semicolon", "", "a;X-Amz-Signature=" + hex64, true, httpapi.MalformedAuthorization},
		{"bce malformed", "bce-auth-v1/AK", "", true, httpapi.MalformedAuthorization},
		{"bce query malformed", "", "authorization=x", true, httpapi.MalformedAuthorization},
		{"qs malformed", "QS nocolon", "", true, httpapi.MalformedAuthorization},
		{"qs query malformed", "", "signature=x", true, httpapi.MalformedAuthorization},
		{"qs access key alone", "", "access_key_id=AK", true, httpapi.MalformedAuthorization},
		{"sigv4 header and query", "AWS4-HMAC-SHA256 x", "X-Amz-Signature=" + hex64, true, httpapi.MalformedAuthorization},
		{"sigv4 header and bce query", "AWS4-HMAC-SHA256 x", "authorization=x", true, httpapi.MalformedAuthorization},
		{"bce header and query", "bce-auth-v1/x", "authorization=x", true, httpapi.MalformedAuthorization},
		{"qs header and sigv4 query", "QS AK:x", "X-Amz-Credential=x", true, httpapi.MalformedAuthorization},
		{"two query schemes", "", "X-Amz-Signature=x&signature=y", true, httpapi.MalformedAuthorization},
		{"bce and qs queries", "", "authorization=x&access_key_id=y", true, httpapi.MalformedAuthorization},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := received(t, "GET", "http://gw.test/bucket/k?"+c.query, nil)
			if c.auth != "" || c.name == "empty header" {
				r.Header["Authorization"] = []string{c.auth}
			}
			ak, signed, e := Verify(r, secrets, at)
			assert.Equal(t, c.signed, signed)
			assert.Empty(t, ak)
			got := httpapi.Failure(-1)
			if e != nil {
				got = e.Failure
			}
			assert.Equal(t, c.want, got, "%v", e)
		})
	}
}

// Two Authorization headers are two signatures, even of one scheme.
func TestTwoAuthorizationHeaders(t *testing.T) {
	r := sdkRequests(t, "k")["sigv4 header"]
	r.Header.Add("Authorization", r.Header.Get("Authorization"))
	_, signed, e := Verify(r, secrets, at)
	assert.True(t, signed)
	require.NotNil(t, e)
	assert.Equal(t, httpapi.MalformedAuthorization, e.Failure)
}

// The headers each scheme's SDK signed are read back.
func TestSignedHeaders(t *testing.T) {
	for name, r := range sdkRequests(t, "k") {
		signed := SignedHeaders(r)
		assert.Contains(t, signed, map[bool]string{true: "content-md5", false: "host"}[strings.HasPrefix(name, "qs")], name)
	}
}
