// Package signature is the object path's one door for signed reads
// (docs/SERVING.md §1): it tells which scheme a request was signed with,
// AWS Signature Version 4 (S3 clients), BCE auth v1 (BOS clients) or
// QingStor's (QingStor clients), in the Authorization header or in a
// presigned URL's query, and has that scheme's package verify it.
package signature

import (
	"net/http"
	"time"

	"github.com/mirrorkit/mirror/internal/bce"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/qs"
	"github.com/mirrorkit/mirror/internal/sigv4"
)

// A verifier is one scheme's check of header and presigned forms alike.
type verifier func(r *http.Request, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error)

// verifiers are the schemes, by what detect finds.
var verifiers = [...]verifier{
	schemeSigV4: sigv4.Verify,
	schemeBCE:   bce.VerifyRequest,
	schemeQS:    qs.VerifyRequest,
}

// Verify checks r's signature, whatever the scheme, and returns the access
// key that signed it. secret gives an access key's secret.
//
// signed is false, with no error, only when r carries no trace of a
// signature: no Authorization header (not even an empty one) and none of
// the query parameters any scheme signs with (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Signature, authorization, signature,
// access_key_id, and S3's old Signature and AWSAccessKeyId, in any case).
// The request is then anonymous, and what an anonymous reader may see is
// the caller's to judge. Otherwise signed is true, and either the access
// key is returned or e says why not:
//
//   - AccessDenied "unsupported signature scheme": an Authorization
//     header that is not "AWS4-HMAC-SHA256 …", "bce-auth-v1/…" or
//     "QS …" (S3's signature version 2 "AWS AK:SIG", SigV4a, "Bearer …",
//     an empty one), or S3's version 2 presigned query (Signature,
//     AWSAccessKeyId): a reader who meant to sign is told so, never
//     served as anonymous;
//   - MalformedAuthorization: two signatures in one request (a header and
//     a query signature, two schemes' queries, two Authorization
//     headers): which one would count is not for the gateway to guess;
//   - the chosen scheme's failures: sigv4.Verify, bce.VerifyRequest,
//     qs.VerifyRequest.
func Verify(r *http.Request, secret func(string) (string, bool), now time.Time) (accessKey string, signed bool, e *httpapi.Error) {
	s, e := detect(r)
	switch {
	case e != nil:
		return "", true, e
	case s == schemeNone:
		return "", false, nil
	}
	ak, e := verifiers[s](r, secret, now)
	return ak, true, e
}
