// Package tossig checks Volcengine TOS's request signature,
// TOS4-HMAC-SHA256 (TOS's "V4"), as
// github.com/volcengine/ve-tos-golang-sdk/v2's SignV4 computes it
// (tos/sign_v4.go): in the Authorization header (SignHeader) or in a
// presigned URL's query (SignQuery, PreSignedURL). It is SigV4's shape
// with TOS's words: X-Tos-* for X-Amz-*, the service "tos", the scope
// ending in "request", and a signing key that starts from the bare
// secret.
//
//	signing key = HMAC(HMAC(HMAC(HMAC(SK, DATE), REGION), "tos"), "request")
//	signature   = hex(HMAC(signing key, "TOS4-HMAC-SHA256" "\n" TIME "\n" DATE/REGION/tos/request "\n" hex(sha256(CANONICAL REQUEST))))
//
// It only verifies: Verify returns the access key that signed, and what
// that key may do is the caller's to judge.
//
// **Choice:** the algorithm is implemented here, not recomputed with the
// SDK's signer: tos.SignV4 signs only at the wall clock (its clock is an
// unexported field set to time.Now, and Request.RequestDate moves the
// X-Tos-Date header but not the scope or the string to sign), so it can
// not recompute a signature made at another instant; it picks the signed
// headers by its own rule (Content-Type and x-tos-*) rather than the
// request's SignedHeaders; and it would bring the whole SDK (logrus and
// its transport) into the gateway for two dozen lines of HMAC. The tests
// hold this package to the SDK's own signer.
package tossig

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtext"
)

// Algorithm is the one algorithm accepted: the Authorization header's
// first word and X-Tos-Algorithm.
const Algorithm = "TOS4-HMAC-SHA256"

// Service and Terminator end every credential scope:
// DATE/REGION/tos/request.
const (
	Service    = "tos"
	Terminator = "request"
)

// MaxExpires is the longest X-Tos-Expires a presigned URL may carry,
// TOS's own limit (1 to 604800 s, and the SDK's maxPreSignExpires).
const MaxExpires = 7 * 24 * time.Hour

// ContentSHA256 is the header whose value ends the canonical request: the
// body's hex SHA-256, or UNSIGNED-PAYLOAD.
const ContentSHA256 = "X-Tos-Content-Sha256"

// emptySHA256 is the payload hash of a header-signed request without
// X-Tos-Content-Sha256, whatever its body (the SDK's choice: a body it
// sends without that header is not covered); unsignedPayload that of a
// presigned URL without it.
const (
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// The presigned query's parameters, spelt as the SDK and TOS spell them.
const (
	qAlgorithm     = "X-Tos-Algorithm"
	qCredential    = "X-Tos-Credential"
	qDate          = "X-Tos-Date"
	qExpires       = "X-Tos-Expires"
	qSignedHeaders = "X-Tos-SignedHeaders"
	qSignature     = "X-Tos-Signature"
)

// timeFormat is X-Tos-Date's and the string to sign's; dateFormat the
// scope's day.
const (
	timeFormat = "20060102T150405Z"
	dateFormat = "20060102"
)

// Claims reports whether r is signed in TOS's scheme: an Authorization
// header starting "TOS4-", or a query naming X-Tos-Algorithm,
// X-Tos-Credential or X-Tos-Signature in any case. It judges nothing
// else: Verify says whether the signature is good. The query is read
// name by name from the raw text, each name decoded where it decodes, so
// that a query url.ParseQuery would refuse still shows its signature.
func Claims(r *http.Request) bool {
	for _, a := range r.Header.Values("Authorization") {
		if strings.HasPrefix(a, "TOS4-") {
			return true
		}
	}
	for rest := r.URL.RawQuery; rest != ""; {
		var pair string
		if i := strings.IndexAny(rest, "&;"); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			pair, rest = rest, ""
		}
		name, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		if isPresignParam(name) {
			return true
		}
	}
	return false
}

// Verify checks r's TOS4-HMAC-SHA256 signature, in the Authorization
// header or in a presigned URL's query, and returns the access key that
// signed it. secret gives an access key's secret. It fails with
//
//   - AccessDenied: no signature at all;
//   - MalformedAuthorization: an Authorization header or X-Tos-*
//     parameters that do not parse, an algorithm other than
//     TOS4-HMAC-SHA256, a presigned parameter spelt in another case
//     than TOS's (X-Tos-Signature), a query that does not parse, a second signature
//     (header and query, or two headers), host or the time's header not
//     signed, a scope that is not DATE/REGION/tos/request with DATE the
//     day of the request's time, X-Tos-Expires not 1 to 604800, an
//     X-Tos-Content-Sha256 that is neither a lower-case hex SHA-256 nor
//     UNSIGNED-PAYLOAD;
//   - InvalidAccessKeyID: a key secret does not know;
//   - RequestExpired: the header form's time (X-Tos-Date, else Date) more
//     than httpapi.MaxClockSkew from now; a presigned URL used before its
//     X-Tos-Date less httpapi.MaxClockSkew or after X-Tos-Date +
//     X-Tos-Expires;
//   - SignatureDoesNotMatch: the signature is not the one the secret
//     gives.
//
// The checks run in that order, so only a request that parses learns
// whether its key exists. The work is linear in the request's size, but
// for sorting the query's names.
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	query, queryErr := url.ParseQuery(r.URL.RawQuery)
	presigned := false
	for name := range query {
		presigned = presigned || isPresignParam(name)
	}
	if queryErr != nil && !presigned {
		// A query that does not parse may have lost its X-Tos-* on the
		// way (url.ParseQuery stops at too many parameters).
		presigned = Claims(&http.Request{URL: &url.URL{RawQuery: r.URL.RawQuery}})
	}
	auths := r.Header.Values("Authorization")
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
		c, e = fromQuery(r, query)
	default:
		c, e = fromHeader(r, auths[0])
	}
	if e != nil {
		return "", e
	}
	sk, known := secret(c.accessKey)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist")
	}
	if e := c.inWindow(now); e != nil {
		return "", e
	}
	want := signature(sk, c, canonicalRequest(r, query, c))
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.signature)) != 1 {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch,
			"the request signature we calculated does not match the signature you provided")
	}
	return c.accessKey, nil
}

// CoversBody reports whether the signature of a request Verify accepted
// covers its body: X-Tos-Content-Sha256 holds a hex SHA-256 (the
// canonical request ends with it; the caller must then hold the body to
// it), or the header form signs a Content-MD5 the request carries (the
// caller holds the body to that). ve-tos-golang-sdk sends neither on
// PutBucketMirrorBack: its Content-MD5 is not a signed header, and
// without X-Tos-Content-Sha256 it signs the empty body's hash.
func CoversBody(r *http.Request) bool {
	if v := r.Header.Values(ContentSHA256); len(v) == 1 && isHex64(v[0]) {
		return true
	}
	if r.Header.Get("Content-Md5") == "" {
		return false
	}
	rest, ok := strings.CutPrefix(r.Header.Get("Authorization"), Algorithm+" ")
	if !ok {
		return false
	}
	for _, field := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(field), "SignedHeaders="); ok {
			for _, name := range strings.Split(v, ";") {
				if name == "content-md5" {
					return true
				}
			}
		}
	}
	return false
}

// A claim is what a request says about its own signature: everything
// Verify needs besides the request and the secret.
type claim struct {
	accessKey, date, region string
	// stamp is the signing time, UTC; its text in the string to sign is
	// stamp.Format(timeFormat).
	stamp time.Time
	// signedHeaders are the signed names, lower case, sorted, each once;
	// signedText is them as the client wrote them.
	signedHeaders []string
	signedText    string
	signature     string // 64 lower-case hex digits
	payloadHash   string
	presigned     bool
	expires       time.Duration
}

// inWindow checks the claim's time against now (internal/sigtext).
func (c *claim) inWindow(now time.Time) *httpapi.Error {
	return sigtext.Window(c.stamp, c.presigned, c.expires, now)
}

// fromHeader reads "TOS4-HMAC-SHA256 Credential=AK/DATE/REGION/tos/request,
// SignedHeaders=a;b,Signature=HEX": the three fields in any order, with
// or without spaces after the commas, each once. The time is X-Tos-Date,
// else Date (the SDK sends both, alike, and signs both), and the header it
// came from must be signed.
func fromHeader(r *http.Request, auth string) (claim, *httpapi.Error) {
	rest, ok := strings.CutPrefix(auth, Algorithm+" ")
	if !ok {
		return claim{}, malformed("the Authorization header does not start with " + Algorithm)
	}
	var v [3]string
	var seen [3]bool
	for n := 0; rest != ""; n++ {
		if n == 3 {
			return claim{}, malformed("the Authorization header has more than Credential, SignedHeaders and Signature")
		}
		var field string
		field, rest, _ = strings.Cut(rest, ",")
		name, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		i := -1
		switch name {
		case "Credential":
			i = 0
		case "SignedHeaders":
			i = 1
		case "Signature":
			i = 2
		default:
			return claim{}, malformed("the Authorization header has a field " + quote(name))
		}
		if seen[i] {
			return claim{}, malformed("the Authorization header has " + name + " twice")
		}
		seen[i], v[i] = true, value
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return claim{}, malformed("the Authorization header is not Credential=…, SignedHeaders=…, Signature=…")
	}
	c := claim{signedText: v[1], signature: v[2]}

	timeHeader, stamp := "x-tos-date", r.Header.Values("X-Tos-Date")
	if len(stamp) == 0 {
		timeHeader, stamp = "date", r.Header.Values("Date")
	}
	if len(stamp) != 1 {
		return claim{}, malformed("the request needs one X-Tos-Date or Date header")
	}
	var err error
	if c.stamp, err = parseStamp(stamp[0]); err != nil && timeHeader == "date" {
		c.stamp, err = http.ParseTime(stamp[0])
	}
	if err != nil {
		return claim{}, malformed("the " + timeHeader + " header is not a time")
	}
	c.stamp = c.stamp.UTC()
	if why := c.parseScope(v[0]); why != "" {
		return claim{}, malformed(why)
	}
	var why string
	if c.signedHeaders, why = parseSignedHeaders(v[1], timeHeader); why != "" {
		return claim{}, malformed(why)
	}
	if !isHex64(c.signature) {
		return claim{}, malformed("the signature is not 64 lower-case hex digits")
	}
	if c.payloadHash, why = payloadHash(r, emptySHA256); why != "" {
		return claim{}, malformed(why)
	}
	return c, nil
}

// fromQuery reads a presigned URL's X-Tos-* parameters, each exactly
// once and spelt as TOS spells them.
func fromQuery(r *http.Request, q url.Values) (claim, *httpapi.Error) {
	params := []string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature}
	for name := range q {
		for _, p := range params {
			if name != p && strings.EqualFold(name, p) {
				// Another spelling would be signed as a parameter of
				// its own, or (X-Tos-Signature's) left out unsigned.
				return claim{}, malformed("the query has " + quote(name) + ", not spelt " + p)
			}
		}
	}
	var v [6]string
	for i, name := range params {
		values := q[name]
		if len(values) != 1 || values[0] == "" {
			return claim{}, malformed("a presigned URL needs one non-empty " + name)
		}
		v[i] = values[0]
	}
	if v[0] != Algorithm {
		return claim{}, malformed("X-Tos-Algorithm is " + quote(v[0]) + ", not " + Algorithm)
	}
	c := claim{signedText: v[4], signature: v[5], presigned: true}
	var err error
	if c.stamp, err = parseStamp(v[2]); err != nil {
		return claim{}, malformed("X-Tos-Date is not YYYYMMDDThhmmssZ")
	}
	seconds, ok := parseExpires(v[3])
	if !ok {
		return claim{}, malformed("X-Tos-Expires is not 1 to 604800 seconds")
	}
	c.expires = time.Duration(seconds) * time.Second
	if why := c.parseScope(v[1]); why != "" {
		return claim{}, malformed(why)
	}
	var why string
	if c.signedHeaders, why = parseSignedHeaders(v[4], ""); why != "" {
		return claim{}, malformed(why)
	}
	if !isHex64(c.signature) {
		return claim{}, malformed("X-Tos-Signature is not 64 lower-case hex digits")
	}
	if c.payloadHash, why = payloadHash(r, unsignedPayload); why != "" {
		return claim{}, malformed(why)
	}
	return c, nil
}

// payloadHash is X-Tos-Content-Sha256, else otherwise (the SDK's rule).
func payloadHash(r *http.Request, otherwise string) (string, string) {
	values := r.Header.Values(ContentSHA256)
	switch {
	case len(values) == 0:
		return otherwise, ""
	case len(values) > 1 || values[0] != unsignedPayload && !isHex64(values[0]):
		return "", "X-Tos-Content-Sha256 must be one " + unsignedPayload + " or the body's lower-case hex SHA-256"
	}
	return values[0], ""
}

// parseScope reads a credential, ACCESS-KEY/DATE/REGION/tos/request, into
// c and checks its day against c.stamp's. The access key is what precedes
// the last four parts, so a key holding "/" still reads. Any region is
// taken: the gateway is one endpoint for all, and the region is signed.
func (c *claim) parseScope(credential string) string {
	var parts [4]string
	rest := credential
	for i := 3; i >= 0; i-- {
		cut := strings.LastIndexByte(rest, '/')
		if cut < 0 {
			return "the credential is not ACCESS-KEY/DATE/REGION/tos/request"
		}
		parts[i], rest = rest[cut+1:], rest[:cut]
	}
	c.accessKey, c.date, c.region = rest, parts[0], parts[1]
	switch day := c.stamp.Format(dateFormat); {
	case c.accessKey == "" || c.region == "":
		return "the credential is not ACCESS-KEY/DATE/REGION/tos/request"
	case parts[2] != Service:
		return "the credential's service is " + quote(parts[2]) + ", not tos"
	case parts[3] != Terminator:
		return "the credential does not end in request"
	case c.date != day:
		return "the credential's date is not the day of the request's time, " + day
	}
	return ""
}

// parseSignedHeaders reads SignedHeaders (internal/sigtext).
var parseSignedHeaders = sigtext.SignedHeaders

// signature is the hex signature of a canonical request under secret,
// within c's scope and at c's time.
func signature(secret string, c claim, canonical string) string {
	key := hmacSHA256([]byte(secret), c.date)
	key = hmacSHA256(key, c.region)
	key = hmacSHA256(key, Service)
	key = hmacSHA256(key, Terminator)
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(hmacSHA256(key, Algorithm+"\n"+c.stamp.Format(timeFormat)+"\n"+
		c.date+"/"+c.region+"/"+Service+"/"+Terminator+"\n"+hex.EncodeToString(sum[:])))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// parseStamp reads the request's time exactly (internal/sigtext).
var parseStamp = sigtext.Stamp

// parseExpires reads the expiry of a presigned URL: 1 to MaxExpires
// seconds (internal/sigtext).
func parseExpires(s string) (int, bool) { return sigtext.Expires(s, MaxExpires) }

// isPresignParam says whether a query name, in any case, is one only a
// presigned URL carries: a name spelt otherwise than TOS spells it then
// makes the request malformed, where overlooking it would make it look
// unsigned.
func isPresignParam(name string) bool {
	return strings.EqualFold(name, qAlgorithm) || strings.EqualFold(name, qCredential) ||
		strings.EqualFold(name, qSignature)
}

// isHex64: 64 lower-case hex digits (internal/sigtext).
var isHex64 = sigtext.Hex64

// malformed is the failure of a signature that does not parse.
func malformed(why string) *httpapi.Error {
	return httpapi.Fail(httpapi.MalformedAuthorization, "the TOS signature is invalid: "+why)
}

// quote quotes a client's text for a message (internal/sigtext).
var quote = sigtext.Quote
