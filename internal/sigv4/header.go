package sigv4

import (
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtext"
)

// timeFormat is X-Amz-Date's, and the string to sign's; dateFormat is
// the credential scope's day.
const (
	timeFormat = "20060102T150405Z"
	dateFormat = "20060102"
)

// fromHeader reads "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/s3/aws4_request,
// SignedHeaders=a;b, Signature=HEX". The three fields may come in any order
// and with or without spaces after the commas; each must come once.
//
// The time is X-Amz-Date, else Date (S3's rule), and the header it came
// from must be signed: otherwise anyone could replay the signature with a
// fresh time. The payload hash is x-amz-content-sha256, which S3
// requires on every header-signed request; the object path reads no body,
// so the hash is taken as signed, not checked against one.
func fromHeader(r *http.Request, auth string) (claim, *httpapi.Error) {
	rest, ok := strings.CutPrefix(auth, Algorithm+" ")
	if !ok {
		return claim{}, malformed("the Authorization header does not start with " + Algorithm)
	}
	var credential, signedText, sig string
	var seen [3]bool
	var field string
	for n := 0; rest != ""; n++ {
		if n == 3 {
			return claim{}, malformed("the Authorization header has more than Credential, SignedHeaders and Signature")
		}
		field, rest, _ = strings.Cut(rest, ",")
		name, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		var i int
		var into *string
		switch name {
		case "Credential":
			i, into = 0, &credential
		case "SignedHeaders":
			i, into = 1, &signedText
		case "Signature":
			i, into = 2, &sig
		default:
			return claim{}, malformed("the Authorization header has a field " + quote(name))
		}
		if seen[i] {
			return claim{}, malformed("the Authorization header has " + name + " twice")
		}
		seen[i], *into = true, value
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return claim{}, malformed("the Authorization header is not Credential=…, SignedHeaders=…, Signature=…")
	}

	c := claim{signedText: signedText, signature: sig}
	timeHeader := "x-amz-date"
	stamp := r.Header.Values("X-Amz-Date")
	if len(stamp) == 0 {
		timeHeader, stamp = "date", r.Header.Values("Date")
	}
	if len(stamp) != 1 {
		return claim{}, malformed("the request needs one X-Amz-Date or Date header")
	}
	var err error
	if timeHeader == "date" {
		c.stamp, err = http.ParseTime(stamp[0])
	} else {
		c.stamp, err = parseStamp(stamp[0])
	}
	if err != nil {
		return claim{}, malformed("the " + timeHeader + " header is not a time")
	}
	c.stamp = c.stamp.UTC()

	var why string
	if c.scope, why = parseScope(credential, c.stamp.Format(dateFormat)); why != "" {
		return claim{}, malformed(why)
	}
	if c.signedHeaders, why = parseSignedHeaders(signedText, timeHeader); why != "" {
		return claim{}, malformed(why)
	}
	if !isHex64(sig) {
		return claim{}, malformed("the signature is not 64 lower-case hex digits")
	}
	hash := r.Header.Values("X-Amz-Content-Sha256")
	if len(hash) != 1 || (hash[0] != unsignedPayload && !isHex64(hash[0])) {
		return claim{}, malformed("the request needs one x-amz-content-sha256 header, " +
			unsignedPayload + " or the hex SHA-256 of the body")
	}
	c.payloadHash = hash[0]
	return c, nil
}

// parseStamp reads the request's time exactly (internal/sigtext).
var parseStamp = sigtext.Stamp

// parseSignedHeaders reads SignedHeaders (internal/sigtext).
var parseSignedHeaders = sigtext.SignedHeaders

// isHex64: 64 lower-case hex digits (internal/sigtext).
var isHex64 = sigtext.Hex64
