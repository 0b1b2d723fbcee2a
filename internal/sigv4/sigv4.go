// Package sigv4 checks AWS Signature Version 4 on the gateway's object
// path (docs/SERVING.md §1): the reads S3 clients send, signed in the
// Authorization header or presigned in the query, as
// github.com/aws/aws-sdk-go-v2's S3 client and presign client, minio-go
// and S3 itself compute them.
//
//	signing key = HMAC(HMAC(HMAC(HMAC("AWS4" SK, DATE), REGION), "s3"), "aws4_request")
//	signature   = hex(HMAC(signing key, ALGORITHM "\n" TIME "\n" SCOPE "\n" hex(sha256(CANONICAL REQUEST))))
//
// It only verifies: it returns the access key that signed, and what that
// key may read is the caller's to judge.
package sigv4

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// Algorithm is the one signing algorithm accepted, in the Authorization
// header's first word and in X-Amz-Algorithm. SigV4a
// (AWS4-ECDSA-P256-SHA256) is multi-region signing the gateway has no use
// for.
const Algorithm = "AWS4-HMAC-SHA256"

// Service is the credential scope's service: the gateway answers as S3,
// so a signature scoped to another service was meant for someone else.
const Service = "s3"

// MaxExpires is the longest X-Amz-Expires a presigned URL may carry, S3's
// own limit of one week (604800 s): a longer one is refused, not
// shortened, as S3 does.
const MaxExpires = 7 * 24 * time.Hour

// unsignedPayload is the payload hash of a request whose body is not
// signed: every presigned URL, and header-signed reads that say so.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// The presigned query's parameters.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
)

// Verify checks r's SigV4 signature, in the Authorization header or in a
// presigned URL's query, and returns the access key that signed it. secret
// gives an access key's secret. It fails with
//
//   - AccessDenied: no signature at all, or a presigned X-Amz-Algorithm
//     other than AWS4-HMAC-SHA256 (an unsupported scheme, as the
//     signature package answers other Authorization schemes);
//   - MalformedAuthorization: an Authorization header or X-Amz-*
//     parameters that do not parse, a query string that does not parse
//     (url.ParseQuery: a bad escape, ';', too many parameters), a second
//     signature (header and query, or two
//     headers), host not signed, the time's header not signed, a scope
//     that is not DATE/REGION/s3/aws4_request with DATE the day of the
//     request's time (S3 answers AuthorizationHeaderMalformed for another
//     service too: it is a client pointed at the wrong endpoint, not a
//     forgery), X-Amz-Expires not 1 to 604800, a missing or invalid
//     x-amz-content-sha256 on the header form;
//   - InvalidAccessKeyID: a key secret does not know;
//   - RequestExpired: the header form's time more than
//     httpapi.MaxClockSkew from now; a presigned URL used before its
//     X-Amz-Date less httpapi.MaxClockSkew or after X-Amz-Date +
//     X-Amz-Expires;
//   - SignatureDoesNotMatch: the signature is not the one the secret gives.
//
// The checks run in that order, so only a request that parses learns
// whether its key exists. The work is linear in the request's size, but
// for sorting the query.
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	query, queryErr := url.ParseQuery(r.URL.RawQuery)
	auths := r.Header.Values("Authorization")
	presigned := false
	for name := range query {
		presigned = presigned || isPresignParam(name)
	}
	if queryErr != nil && !presigned {
		// A query that does not parse may have lost its X-Amz-* on the
		// way (url.ParseQuery stops at too many parameters): look for
		// them in the raw text, so such a request is malformed, not
		// unsigned.
		raw := strings.ToLower(r.URL.RawQuery)
		for _, name := range []string{qAlgorithm, qCredential, qSignature} {
			presigned = presigned || strings.Contains(raw, strings.ToLower(name))
		}
	}
	var c claim
	var e *httpapi.Error
	switch {
	case len(auths) == 0 && !presigned:
		return "", httpapi.Fail(httpapi.AccessDenied, "the request is not signed")
	case len(auths) > 0 && presigned:
		return "", malformed("the request is signed both in the Authorization header and in the query")
	case len(auths) > 1:
		return "", malformed("the request has more than one Authorization header")
	case queryErr != nil:
		return "", malformed("the query string does not parse")
	case presigned:
		c, e = fromQuery(query)
	default:
		c, e = fromHeader(r, auths[0])
	}
	if e != nil {
		return "", e
	}
	sk, known := secret(c.scope.accessKey)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the AWS access key ID you provided does not exist in our records")
	}
	if e := c.inWindow(now); e != nil {
		return "", e
	}
	want := signature(sk, c.scope, c.stamp.Format(timeFormat), canonicalRequest(r, query, c))
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.signature)) != 1 {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch,
			"the request signature we calculated does not match the signature you provided")
	}
	return c.scope.accessKey, nil
}

// isPresignParam says whether a query parameter's name, in any case, is
// one only a presigned URL carries: a name spelt otherwise than S3 spells
// it then makes the request malformed, where overlooking it would make it
// look unsigned.
func isPresignParam(name string) bool {
	return strings.EqualFold(name, qAlgorithm) || strings.EqualFold(name, qCredential) ||
		strings.EqualFold(name, qSignature)
}

// malformed is the failure of a signature that does not parse.
func malformed(why string) *httpapi.Error {
	return httpapi.Fail(httpapi.MalformedAuthorization, "the AWS signature is invalid: "+why)
}
