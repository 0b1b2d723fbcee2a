package sigv4

import (
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
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

// inWindow checks the claim's time against now. The header form's time
// may be httpapi.MaxClockSkew either side of now, as S3 allows. A
// presigned URL is good from its X-Amz-Date less the skew (the signer's
// clock may run ahead of ours) until X-Amz-Date + X-Amz-Expires, with no
// skew added at the end: the signer chose that instant.
func (c *claim) inWindow(now time.Time) *httpapi.Error {
	notBefore := c.stamp.Add(-httpapi.MaxClockSkew)
	notAfter := c.stamp.Add(httpapi.MaxClockSkew)
	if c.presigned {
		notAfter = c.stamp.Add(c.expires)
	}
	switch {
	case now.Before(notBefore):
		return httpapi.Fail(httpapi.RequestExpired, "the request is not yet valid: it was signed at "+
			c.stamp.Format(timeFormat)+", more than 15 minutes ahead of the gateway's clock")
	case now.After(notAfter) && c.presigned:
		return httpapi.Fail(httpapi.RequestExpired, "the presigned URL has expired: it was good until "+
			notAfter.Format(timeFormat))
	case now.After(notAfter):
		return httpapi.Fail(httpapi.RequestExpired, "the request time "+c.stamp.Format(timeFormat)+
			" is more than 15 minutes from the gateway's clock")
	}
	return nil
}
