package sigv4

import (
	"net/url"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtext"
)

// fromQuery reads a presigned URL's X-Amz-* parameters, each exactly once.
// Its payload is UNSIGNED-PAYLOAD, as every presigner signs a URL (there
// is no body to hash when the URL is made); the time is X-Amz-Date, which
// the canonical query covers.
func fromQuery(q url.Values) (claim, *httpapi.Error) {
	var v [6]string
	for i, name := range []string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature} {
		values := q[name]
		if len(values) != 1 || values[0] == "" {
			return claim{}, malformed("a presigned URL needs one non-empty " + name)
		}
		v[i] = values[0]
	}
	algorithm, credential, stamp, expires, signedText, sig := v[0], v[1], v[2], v[3], v[4], v[5]
	if algorithm != Algorithm {
		return claim{}, httpapi.Fail(httpapi.AccessDenied, "unsupported signature scheme: X-Amz-Algorithm "+quote(algorithm))
	}
	c := claim{signedText: signedText, signature: sig, payloadHash: unsignedPayload, presigned: true}
	var err error
	if c.stamp, err = parseStamp(stamp); err != nil {
		return claim{}, malformed("X-Amz-Date is not YYYYMMDDThhmmssZ")
	}
	seconds, ok := parseExpires(expires)
	if !ok {
		return claim{}, malformed("X-Amz-Expires is not 1 to 604800 seconds")
	}
	c.expires = time.Duration(seconds) * time.Second
	var why string
	if c.scope, why = parseScope(credential, c.stamp.Format(dateFormat)); why != "" {
		return claim{}, malformed(why)
	}
	if c.signedHeaders, why = parseSignedHeaders(signedText, ""); why != "" {
		return claim{}, malformed(why)
	}
	if !isHex64(sig) {
		return claim{}, malformed("X-Amz-Signature is not 64 lower-case hex digits")
	}
	return c, nil
}

// parseExpires reads the expiry of a presigned URL: 1 to MaxExpires
// seconds (internal/sigtext).
func parseExpires(s string) (int, bool) { return sigtext.Expires(s, MaxExpires) }
