package qs

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// maxPresignAhead is how far ahead a presigned URL's expires may be: one
// week, S3's limit for its presigned URLs, plus httpapi.MaxClockSkew for a
// signer whose clock runs ahead of ours. qingstor-sdk-go sets no limit;
// a URL good for years is a credential nobody can take back short of
// retiring the key, so the gateway draws the same line for every scheme.
const maxPresignAhead = 7*24*time.Hour + httpapi.MaxClockSkew

// VerifyRequest checks a request signed either way qingstor-sdk-go v3
// signs: "Authorization: QS AK:SIG", exactly as Verify checks it, or a
// presigned URL (its signer's WriteQuerySignature, as Request.SignQuery
// uses it): access_key_id, expires (unix seconds) and signature in the
// query, the signature being the header form's with expires in place of
// the Date. The object path (docs/SERVING.md §1) takes both; the
// configuration API keeps to Verify.
//
// A presigned URL is refused once now is past expires, with no clock
// skew allowed (its signer chose that instant), and when expires is more
// than a week and httpapi.MaxClockSkew ahead. Each of the three
// parameters must come once and the query must parse; a parameter named like one of them in
// another case makes the request malformed, not unsigned. As in the header
// form, QingStor's signature covers only the path and the sub-resources
// (acl, response-content-type, …), never the rest of the query. A request
// carrying both the header and the query signature is refused as
// malformed: it is not for the gateway to pick which one counts.
func VerifyRequest(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	inQuery := false
	for name := range query {
		inQuery = inQuery || strings.EqualFold(name, "signature") || strings.EqualFold(name, "access_key_id")
	}
	if err != nil && !inQuery {
		// url.ParseQuery stops at too many parameters: one that does
		// not parse may have hidden the signature.
		raw := strings.ToLower(r.URL.RawQuery)
		inQuery = strings.Contains(raw, "signature") || strings.Contains(raw, "access_key_id")
	}
	malformed := func(why string) (string, *httpapi.Error) {
		return "", httpapi.Fail(httpapi.MalformedAuthorization, why)
	}
	switch {
	case !inQuery:
		return Verify(r, secret, now)
	case len(r.Header.Values("Authorization")) > 0:
		return malformed("the request is signed both in the Authorization header and in the query")
	case err != nil:
		return malformed("the query string does not parse")
	}
	var v [3]string
	for i, name := range []string{"access_key_id", "expires", "signature"} {
		values := query[name]
		if len(values) != 1 || values[0] == "" {
			return malformed("a presigned URL carries one access_key_id, one expires and one signature")
		}
		v[i] = values[0]
	}
	ak, expiresText, sig := v[0], v[1], v[2]
	expires, err := strconv.ParseInt(expiresText, 10, 64)
	if err != nil || expires <= 0 || strconv.FormatInt(expires, 10) != expiresText {
		return malformed("expires is not a time in unix seconds")
	}
	sk, known := secret(ak)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist")
	}
	switch at := time.Unix(expires, 0); {
	case now.After(at):
		return "", httpapi.Fail(httpapi.RequestExpired, "the presigned URL has expired")
	case at.Sub(now) > maxPresignAhead:
		return "", httpapi.Fail(httpapi.RequestExpired, "the presigned URL expires more than 7 days ahead")
	}
	if !matches(sk, stringToSign(r, expiresText), sig) {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "the signature does not match")
	}
	return ak, nil
}
