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
	p, err := e.prepare(req)
	if err != nil {
		return nil, err
	}
	r := p.rule
	box := &decisionBox{}
	d := &box.d
	d.Rule, d.Mode = int(p.index), r.mode
	// Both URLs are written into one buffer, on the stack when they fit,
	// and become one string.
	var stack [512]byte
	buf := appendURL(stack[:0], r.primary, &p.key, p.query)
	n := len(buf)
	if r.mode == ModeFetch && r.backup != nil {
		buf = appendURL(buf, r.backup, &p.key, p.query)
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

// AppendURL appends the primary origin URL for req to dst and returns the
// extended buffer and the rule index: in fetch mode the URL to fetch
// first, in redirect mode the Location. It checks the request exactly as
// Resolve does, and returns dst unchanged, rule -1 and the error when
// Resolve would fail. With a buffer of enough capacity it allocates
// nothing, which suits a proxy that builds its outbound request line
// itself; Resolve gives the backup URL, headers and storage class too.
func (e *Engine) AppendURL(dst []byte, req *Request) ([]byte, int, error) {
	p, err := e.prepare(req)
	if err != nil {
		return dst, -1, err
	}
	return appendURL(dst, p.rule.primary, &p.key, p.query), int(p.index), nil
}

// prepared is a request that passed every check: its rule, origin key and
// the query to forward ("" for none).
type prepared struct {
	rule  *compiledRule
	index int32
	key   originKey
	query string
}

// prepare runs the request checks of SPEC §8 in their order.
func (e *Engine) prepare(req *Request) (p prepared, err error) {
	if reason := keyReason(req.Key); reason != "" {
		return p, &requestError{ErrInvalidKey, reason}
	}
	p.index = e.index.lookup(req.Key)
	if p.index == noRule {
		return p, ErrNoRule
	}
	p.rule = &e.rules[p.index]
	p.rule.originKey(&p.key, req.Key)
	if reason := p.key.unsafe(); reason != "" {
		return p, &requestError{ErrUnsafeKey, reason}
	}
	if p.rule.passQuery && req.RawQuery != "" {
		if reason := queryReason(req.RawQuery); reason != "" {
			return p, &requestError{ErrInvalidQuery, reason}
		}
		p.query = req.RawQuery
	}
	return p, nil
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
	if dotSegment(k.parts[:k.n]) {
		return `the origin key has a "." or ".." segment`
	}
	return ""
}

// dotSegment reports whether parts, read as one string, have a segment
// that is exactly "." or "..". Segments are split on "/" and on "\",
// which Windows-backed origins split on too. It jumps from dot to dot: a
// usual key has one or two, in file extensions.
func dotSegment(parts []string) bool {
	prev := byte('/') // the text starts a segment
	for pi, p := range parts {
		for i := strings.IndexByte(p, '.'); i >= 0; {
			before := prev
			if i > 0 {
				before = p[i-1]
			}
			if isSep(before) {
				c1, c2 := peek(parts, pi, i+1), peek(parts, pi, i+2)
				if c1 < 0 || isSep(byte(c1)) || (c1 == '.' && (c2 < 0 || isSep(byte(c2)))) {
					return true
				}
			}
			next := strings.IndexByte(p[i+1:], '.')
			if next < 0 {
				break
			}
			i += 1 + next
		}
		if p != "" {
			prev = p[len(p)-1]
		}
	}
	return false
}

// peek returns the byte at offset i of parts[pi:] read as one string, or
// -1 past its end.
func peek(parts []string, pi, i int) int {
	for ; pi < len(parts); pi++ {
		if i < len(parts[pi]) {
			return int(parts[pi][i])
		}
		i -= len(parts[pi])
	}
	return -1
}

func isSep(c byte) bool { return c == '/' || c == '\\' }

func hasDotSegment(s string) bool { return dotSegment([]string{s}) }

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
	for i := 0; i < len(s); {
		run := i
		for run < len(s) && unreserved[s[run]] {
			run++
		}
		dst = append(dst, s[i:run]...)
		if run == len(s) {
			break
		}
		c := s[run]
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		i = run + 1
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
	for i := 0; i < len(q); i++ {
		c := q[i]
		if !queryBytes[c] {
			return fmt.Sprintf("the query holds byte %q at offset %d", c, i)
		}
		if c == '%' && (i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2])) {
			return fmt.Sprintf("the %% at offset %d is not followed by two hex digits", i)
		}
	}
	// More than 1000 non-empty pieces need at least 2001 bytes.
	if len(q) > 2*maxQueryPieces {
		pieces := 0
		for i := 0; i < len(q); i++ {
			if q[i] != '&' && (i == 0 || q[i-1] == '&') {
				pieces++
			}
		}
		if pieces > maxQueryPieces {
			return fmt.Sprintf("the query has %d parameters, more than %d", pieces, maxQueryPieces)
		}
	}
	return ""
}

// appendQuery appends "?" and the query's pieces that may reach an
// origin, in order, byte for byte; nothing when none is left.
func appendQuery(dst []byte, q string) []byte {
	sep := byte('?')
	for q != "" {
		piece := q
		if i := strings.IndexByte(q, '&'); i >= 0 {
			piece, q = q[:i], q[i+1:]
		} else {
			q = ""
		}
		if piece == "" || credentialParam(piece) {
			continue
		}
		dst = append(dst, sep)
		dst = append(dst, piece...)
		sep = '&'
	}
	return dst
}

// credentialParamPrefixes are the vendors' signed-URL namespaces;
// credentialParam holds the full names. None of it may reach an origin.
var credentialParamPrefixes = []string{"x-amz-", "x-bce-", "x-oss-", "x-cos-", "x-obs-", "x-tos-",
	"x-goog-", "x-ms-", "x-qs-"}

// credentialParam reports whether a piece's name, percent-decoded and
// lower-cased, carries the client's credentials for the bucket. The query
// was validated, so every "%" has two hex digits, and they lie within the
// name.
func credentialParam(piece string) bool {
	// Every credential name starts with a, s, o, g, q or x: most
	// parameters are let through on their first byte.
	switch piece[0] | 0x20 {
	case 'a', 's', 'o', 'g', 'q', 'x', '%':
	default:
		return false
	}
	end := strings.IndexByte(piece, '=')
	if end < 0 {
		end = len(piece)
	}
	var buf [32]byte
	n, full := 0, 0
	for i := 0; i < end; i++ {
		c := piece[i]
		if c == '%' {
			c = unhex(piece[i+1])<<4 | unhex(piece[i+2])
			i += 2
		}
		if n < len(buf) {
			buf[n] = lower(c)
			n++
		}
		full++
	}
	d := buf[:n]
	if full == n {
		switch string(d) {
		case "authorization", "signature", "awsaccesskeyid", "ossaccesskeyid", "accesskeyid", "access_key_id",
			"googleaccessid", "security-token", "q-ak", "q-signature", "q-sign-algorithm", "q-sign-time",
			"q-key-time", "q-header-list", "q-url-param-list":
			return true
		}
	}
	if len(d) < 5 || d[0] != 'x' || d[1] != '-' {
		return false
	}
	for _, p := range credentialParamPrefixes {
		if len(d) >= len(p) && string(d[:len(p)]) == p {
			return true
		}
	}
	return false
}
