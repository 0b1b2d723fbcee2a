package configapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/tossig"
)

// The Volcengine TOS API: PUT|GET|DELETE /BUCKET?mirror (and /?mirror
// with the bucket in the Host under -domain, TOS SDKs' default style), as
// github.com/volcengine/ve-tos-golang-sdk/v2's PutBucketMirrorBack,
// GetBucketMirrorBack and DeleteBucketMirrorBack send them, signed
// TOS4-HMAC-SHA256 (internal/tossig). It shares ?mirror with QingStor's
// External Mirror and takes the requests tosClaims gives it; QingStor
// takes the rest.
//
// The SDK's PUT sends a Content-MD5 it does not sign and no
// X-Tos-Content-Sha256, so its body is not covered (tossig.CoversBody):
// such a write is held to the replay rule (docs/SERVING.md §4.3). A
// client that sends X-Tos-Content-Sha256 has its body held to it.
var tosAPI = &api{
	format: mirror.FormatTOS, dialect: httpapi.TOS, virtualHost: true,
	verify: tossig.Verify, claims: tosClaims, digests: tosDigest,
	name: "TOS PutBucketMirrorBack", subresource: "mirror", jsonBody: true,
	what: "a mirror configuration", none: "the bucket has no mirror configuration", resource: "mirror",
}

// tosClaims takes a ?mirror request for TOS when it is signed in TOS's
// scheme (an Authorization header starting "TOS4-", or a presigned
// X-Tos-* query), and when it carries no Authorization at all but an
// X-Tos-* header (a TOS client's request whose signature is missing: the
// SDK's signer adds X-Tos-Date): TOS's AccessDenied then tells a TOS
// client what is wrong in its own words. A request with neither is
// QingStor's, signed or not.
func tosClaims(r *http.Request) bool {
	if tossig.Claims(r) {
		return true
	}
	if len(r.Header.Values("Authorization")) > 0 {
		return false
	}
	for name := range r.Header {
		if len(name) > 6 && strings.EqualFold(name[:6], "x-tos-") {
			return true
		}
	}
	return false
}

// tosDigest holds a PUT's body to the X-Tos-Content-Sha256 it carries,
// when that is a digest (the signature covers it; tossig.Verify refused
// any value but a lower-case hex SHA-256 or UNSIGNED-PAYLOAD).
func tosDigest(r *http.Request, body []byte) *httpapi.Error {
	want := r.Header.Get(tossig.ContentSHA256)
	if want == "" || want == "UNSIGNED-PAYLOAD" {
		return nil
	}
	sum := sha256.Sum256(body)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) != 1 {
		return httpapi.Fail(httpapi.BadDigest, "the x-tos-content-sha256 you specified did not match what was received")
	}
	return nil
}
