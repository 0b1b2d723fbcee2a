package sigv4

import (
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtext"
)

// A claim is what a request says about its own signature, parsed from the
// Authorization header or from a presigned query: everything Verify needs
// besides the request itself and the secret.
type claim struct {
	scope scope
	// stamp is the signing time (X-Amz-Date, or the Date header), UTC.
	stamp time.Time
	// signedHeaders is SignedHeaders, lower case and sorted, host among
	// them; signedText is it as the client wrote it, which the
	// canonical request repeats.
	signedHeaders []string
	signedText    string
	// signature is the client's, 64 lower-case hex digits.
	signature string
	// payloadHash ends the canonical request: x-amz-content-sha256 for
	// the header form, UNSIGNED-PAYLOAD for a presigned URL.
	payloadHash string
	// presigned says the claim came from the query; expires is then
	// X-Amz-Expires.
	presigned bool
	expires   time.Duration
}

// inWindow checks the claim's time against now (internal/sigtext).
func (c *claim) inWindow(now time.Time) *httpapi.Error {
	return sigtext.Window(c.stamp, c.presigned, c.expires, now)
}
