// Package sigtext holds what the two V4-shaped signature schemes, AWS
// Signature V4 (internal/sigv4) and Volcengine's TOS4-HMAC-SHA256
// (internal/tossig), judge alike: the lexical checks of a signature's
// parts and the window of time a signature is good for. One copy of each,
// so that the two verifiers can not drift apart on them.
package sigtext

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// TimeFormat is the form of X-Amz-Date and X-Tos-Date.
const TimeFormat = "20060102T150405Z"

// HeaderName reports whether s is a lower-case HTTP token, as a signed
// header's name must be.
func HeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Hex64 reports whether s is 64 lower-case hex digits: a signature, or a
// SHA-256.
func Hex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Expires reads a presigned URL's expiry: decimal digits only, 1 to max
// in seconds.
func Expires(s string, max time.Duration) (int, bool) {
	if s == "" || len(s) > 7 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= int(max/time.Second)
}

// Window checks a signature's time against now. A header signature's
// time may be httpapi.MaxClockSkew either side of now. A presigned URL is
// good from its time less the skew (the signer's clock may run ahead of
// ours) until its time + expires, with no skew added at the end: the
// signer chose that instant.
func Window(stamp time.Time, presigned bool, expires time.Duration, now time.Time) *httpapi.Error {
	notBefore, notAfter := stamp.Add(-httpapi.MaxClockSkew), stamp.Add(httpapi.MaxClockSkew)
	if presigned {
		notAfter = stamp.Add(expires)
	}
	switch {
	case now.Before(notBefore):
		return httpapi.Fail(httpapi.RequestExpired, "the request is not yet valid: it was signed at "+
			stamp.Format(TimeFormat)+", more than 15 minutes ahead of the gateway's clock")
	case now.After(notAfter) && presigned:
		return httpapi.Fail(httpapi.RequestExpired, "the presigned URL has expired: it was good until "+
			notAfter.Format(TimeFormat))
	case now.After(notAfter):
		return httpapi.Fail(httpapi.RequestExpired, "the request time "+stamp.Format(TimeFormat)+
			" is more than 15 minutes from the gateway's clock")
	}
	return nil
}

// Quote quotes a client's text for a message, at most 32 bytes of it.
func Quote(s string) string {
	const max = 32
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// errNotCanonical is a time that parses but is not written as its format
// writes it.
var errNotCanonical = errors.New("not in canonical form")

// Stamp reads X-Amz-Date or X-Tos-Date exactly: the string to sign
// repeats the time, and a loose reading would sign another text than the
// client's.
func Stamp(s string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, s)
	if err == nil && t.Format(TimeFormat) != s {
		err = errNotCanonical
	}
	return t, err
}

// SignedHeaders reads SignedHeaders: lower-case names, sorted, each once,
// as every signer writes them (the canonical request lists the headers in
// this order, so a list out of order could not have been signed by a
// conforming client). host must be among them: it is what binds a
// virtual-host request to its bucket. So must need, the header the time
// came from, when not "". The second result says what is wrong.
func SignedHeaders(text, need string) ([]string, string) {
	if text == "" {
		return nil, "SignedHeaders is empty"
	}
	names := strings.Split(text, ";")
	hasHost, hasNeed := false, need == ""
	for i, name := range names {
		if !HeaderName(name) {
			return nil, "SignedHeaders has " + Quote(name) + ", not a lower-case header name"
		}
		if i > 0 && names[i-1] >= name {
			return nil, "SignedHeaders is not sorted, each name once"
		}
		hasHost = hasHost || name == "host"
		hasNeed = hasNeed || name == need
	}
	if !hasHost {
		return nil, "host must be a signed header"
	}
	if !hasNeed {
		return nil, need + " must be a signed header"
	}
	return names, ""
}
