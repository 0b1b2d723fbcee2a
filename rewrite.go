package mirror

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Request is what the storage did not find: the object key exactly as
// stored (no leading "/" added or removed), the raw query string without
// "?", and the client's request headers.
type Request struct {
	Key      string
	RawQuery string
	Header   http.Header
}

// Decision says where to get a missing object from.
type Decision struct {
	// Rule is the index of the rule that covers the key.
	Rule int
	// Mode is ModeFetch or ModeRedirect.
	Mode Mode
	// URLs are, in fetch mode, the primary origin's URL and then the
	// backup's when the rule has one; in redirect mode, the one Location.
	URLs []string
	// Header holds the headers to send to the origin (fetch mode only),
	// names canonical; nil when there are none. Host is never in it.
	Header http.Header
	// StorageClass is the storage class for the fetched copy ("" unset;
	// fetch mode only).
	StorageClass string
	// RedirectCode is the redirect's status code (redirect mode only).
	RedirectCode int
}

// decisionBox lets a decision and its URL slice be one allocation.
type decisionBox struct {
	d    Decision
	urls [2]string
}

// Resolve answers for a key the storage did not find: the first rule
// covering it, the origin URL(s) and the headers to send. The error wraps
// ErrInvalidKey, ErrNoRule, ErrUnsafeKey or ErrInvalidQuery, checked in
// that order; a decision is never returned with an error. The same engine
// and request always give an identical decision.
func (e *Engine) Resolve(req *Request) (*Decision, error) {
	if reason := keyReason(req.Key); reason != "" {
		return nil, &requestError{ErrInvalidKey, reason}
	}
	ri := e.index.lookup(req.Key)
	if ri == noRule {
		return nil, ErrNoRule
	}
	r := &e.rules[ri]
	var k originKey
	r.originKey(&k, req.Key)
	if reason := k.unsafe(); reason != "" {
		return nil, &requestError{ErrUnsafeKey, reason}
	}
	query := ""
	if r.passQuery && req.RawQuery != "" {
		if reason := queryReason(req.RawQuery); reason != "" {
			return nil, &requestError{ErrInvalidQuery, reason}
		}
		query = req.RawQuery
	}
	box := &decisionBox{}
	d := &box.d
	d.Rule, d.Mode = int(ri), r.mode
	// Both URLs are written into one buffer and become one string.
	buf := make([]byte, 0, 2*(len(r.primary.base)+3*k.len()+len(query)+2))
	buf = appendURL(buf, r.primary, &k, query)
	n := len(buf)
	if r.mode == ModeFetch && r.backup != nil {
		buf = appendURL(buf, r.backup, &k, query)
	}
	s := string(buf)
	box.urls[0] = s[:n]
	d.URLs = box.urls[:1]
	if n < len(s) {
		box.urls[1] = s[n:]
		d.URLs = box.urls[:2]
	}
	if r.mode == ModeRedirect {
		d.RedirectCode = r.redirectCode
		return d, nil
	}
	d.StorageClass = r.storageClass
	d.Header = r.headers.headers(req.Header)
	return d, nil
}

// keyReason says why key can not be an object key, or "".
func keyReason(key string) string {
	switch {
	case key == "":
		return "the key is empty"
	case len(key) > maxFieldLen:
		return fmt.Sprintf("the key is %d bytes, more than 1024", len(key))
	case hasControl(key):
		return "the key holds a control byte"
	case !utf8.ValidString(key):
		return "the key is not valid UTF-8"
	}
	return ""
}

// originKey is the origin key of SPEC §4 as up to five parts, which are
// checked and encoded in turn instead of being joined into a new string.
type originKey struct {
	parts [5]string
	n     int
}

func (k *originKey) add(s string) {
	if s != "" {
		k.parts[k.n] = s
		k.n++
	}
}

func (k *originKey) len() int {
	n := 0
	for _, p := range k.parts[:k.n] {
		n += len(p)
	}
	return n
}

// originKey sets k to the origin key of key under rule r.
func (r *compiledRule) originKey(k *originKey, key string) {
	if r.fixedKey != "" {
		k.add(r.fixedKey)
		return
	}
	k.add(r.prefix)
	if r.v2 {
		rest := key[r.litLen:]
		rest = strings.TrimPrefix(rest, "/")
		k.add(r.replace)
		if r.replace != "" && rest != "" && !strings.HasSuffix(r.replace, "/") {
			k.add("/")
		}
		k.add(rest)
	} else {
		k.add(key)
	}
	k.add(r.suffix)
}

// unsafe says why the origin key may not be fetched, or "".
func (k *originKey) unsafe() string {
	if k.n == 0 {
		return "the origin key is empty (it would fetch the origin's root)"
	}
	var s segments
	for _, p := range k.parts[:k.n] {
		s.feed(p)
	}
	if s.end() {
		return `the origin key has a "." or ".." segment`
	}
	return ""
}

// segments finds "." and ".." segments in text fed in pieces. Segments
// are split on "/" and on "\", which Windows-backed origins split on too.
type segments struct {
	state uint8 // the current segment so far: 0 empty, 1 ".", 2 "..", 3 other
	dot   bool
}

func (s *segments) feed(p string) {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '/' || c == '\\':
			s.dot = s.dot || s.state == 1 || s.state == 2
			s.state = 0
		case c == '.' && s.state < 2:
			s.state++
		default:
			s.state = 3
		}
	}
}

// end reports whether any segment, the last one included, was a dot one.
func (s *segments) end() bool {
	return s.dot || s.state == 1 || s.state == 2
}

func hasDotSegment(p string) bool {
	var s segments
	s.feed(p)
	return s.end()
}

// appendURL writes o's base, the encoded origin key and the query. Bytes
// are written, never URLs joined or resolved, so nothing in the key can
// change the scheme, host, port or base path. A bos:// origin gets no
// query: a client's ?acl must not become a request signed by the owner.
func appendURL(dst []byte, o *origin, k *originKey, query string) []byte {
	dst = append(dst, o.base...)
	for _, p := range k.parts[:k.n] {
		dst = appendEncoded(dst, p)
	}
	if query != "" && o.scheme != "bos" {
		dst = appendQuery(dst, query)
	}
	return dst
}

// unreserved marks the bytes enc keeps: A-Z a-z 0-9 - . _ ~ and "/"
// (AWS SigV4 UriEncode with "/" kept).
var unreserved = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")

// queryBytes are the bytes a forwarded query may hold (with "%" only
// before two hex digits): RFC 3986 query characters less ";".
var queryBytes = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/?%")

func byteSet(s string) (t [256]bool) {
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return t
}

const upperHex = "0123456789ABCDEF"

// appendEncoded appends s with every byte but A-Z a-z 0-9 - . _ ~ / as
// %XX, upper-case.
func appendEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// Query limits (SPEC §5).
const (
	maxQueryLen    = 8192
	maxQueryPieces = 1000
)

// queryReason says why a raw query can not be forwarded, or "".
func queryReason(q string) string {
	if len(q) > maxQueryLen {
		return fmt.Sprintf("the query is %d bytes, more than %d", len(q), maxQueryLen)
	}
	pieces := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		if !queryBytes[c] {
			return fmt.Sprintf("the query holds byte %q at offset %d", c, i)
		}
		if c == '%' && (i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2])) {
			return fmt.Sprintf("the %% at offset %d is not followed by two hex digits", i)
		}
		if c != '&' && (i == 0 || q[i-1] == '&') {
			pieces++
		}
	}
	if pieces > maxQueryPieces {
		return fmt.Sprintf("the query has %d parameters, more than %d", pieces, maxQueryPieces)
	}
	return ""
}

// appendQuery appends "?" and the query's pieces that may reach an
// origin, in order, byte for byte; nothing when none is left.
func appendQuery(dst []byte, q string) []byte {
	sep := byte('?')
	for q != "" {
		var piece string
		piece, q, _ = strings.Cut(q, "&")
		if piece == "" || credentialParam(piece) {
			continue
		}
		dst = append(dst, sep)
		dst = append(dst, piece...)
		sep = '&'
	}
	return dst
}

// credentialParams are query parameters that carry the client's
// credentials for the bucket (lower-cased); credentialParamPrefixes are
// the vendors' signed-URL namespaces. None of it may reach an origin.
var credentialParams = map[string]bool{
	"authorization": true, "signature": true, "awsaccesskeyid": true, "ossaccesskeyid": true,
	"accesskeyid": true, "access_key_id": true, "googleaccessid": true, "security-token": true,
	"q-ak": true, "q-signature": true, "q-sign-algorithm": true, "q-sign-time": true,
	"q-key-time": true, "q-header-list": true, "q-url-param-list": true,
}

var credentialParamPrefixes = []string{"x-amz-", "x-bce-", "x-oss-", "x-cos-", "x-obs-", "x-tos-",
	"x-goog-", "x-ms-", "x-qs-"}

// credentialParam reports whether a piece's name, percent-decoded and
// lower-cased, is a credential parameter. The query was validated, so
// every "%" has two hex digits, and they lie within the name.
func credentialParam(piece string) bool {
	name, _, _ := strings.Cut(piece, "=")
	var buf [32]byte
	n, full := 0, 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '%' {
			c = unhex(name[i+1])<<4 | unhex(name[i+2])
			i += 2
		}
		if n < len(buf) {
			buf[n] = lower(c)
			n++
		}
		full++
	}
	d := buf[:n]
	if full == n && credentialParams[string(d)] {
		return true
	}
	for _, p := range credentialParamPrefixes {
		if len(d) >= len(p) && string(d[:len(p)]) == p {
			return true
		}
	}
	return false
}
