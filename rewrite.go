package mirror

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The rewrite stage (docs/SEMANTICS.md §4, §5, §8): the request checks in
// their order, the origin key of the winning rule, and the origin URL
// written byte by byte from the rule's canonical base. Request is defined
// here, where it is first checked; decision.go makes a Decision of what
// this stage prepares, and nothing here knows a Decision, so that
// AppendURL is the rewrite alone.

// Request is what the storage did not find: the object key exactly as
// stored (no leading "/" added or removed), the raw query string without
// "?", and the client's request headers. The other fields matter only
// to rules of the extended model (docs/SEMANTICS.md §11); their zero
// values are a GET miss with no Host.
type Request struct {
	Key      string
	RawQuery string
	Header   http.Header
	// Method is the client's method; "" is GET.
	Method string
	// Host is the client's Host header (a port in it is ignored by
	// match.hosts; a redirect to the request's host keeps it).
	Host string
	// Scheme is "http" or "https", the scheme the client used; "" is
	// http.
	Scheme string
	// Status is what the store answered for the key: 0 (or 404) is a
	// miss; another status 100 to 599 reaches only the rules whose "on"
	// takes it.
	Status int
}

// prepared is a request that passed every check: its rule, origin key and
// the query to forward ("" for none).
type prepared struct {
	rule  *compiledRule
	index int32
	key   originKey
	query string
	tls   bool       // the request's scheme is https
	obuf  [2]*origin // origins' storage for a rule of the BOS model
	goal  *origin    // a redirect's target built from the request
}

// prepare runs the request checks in their order: InvalidKey, no rule,
// UnsafeKey, InvalidQuery.
func (e *Engine) prepare(req *Request) (p prepared, err error) {
	if reason := keyReason(req.Key); reason != "" {
		return p, &requestError{ErrInvalidKey, reason}
	}
	if reason := requestReason(req); reason != "" {
		return p, &requestError{ErrInvalidRequest, reason}
	}
	p.tls = equalFoldASCII(req.Scheme, "https")
	p.index = e.matchRequest(req)
	if p.index == noRule {
		return p, ErrNoRule
	}
	p.rule = &e.compiled[p.index]
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
	if x := p.rule.ext; x != nil && x.target != nil {
		var reason string
		if p.goal, reason = x.target.origin(req, p.tls); reason != "" {
			return p, &requestError{ErrInvalidRequest, reason}
		}
	}
	return p, nil
}

// requestReason says why a request's status or scheme can not be used,
// or "".
func requestReason(req *Request) string {
	switch {
	case req.Status != 0 && (req.Status < 100 || req.Status > 599):
		return fmt.Sprintf("status %d is not 0 (a miss) or 100 to 599", req.Status)
	case req.Scheme != "" && !equalFoldASCII(req.Scheme, "http") && !equalFoldASCII(req.Scheme, "https"):
		return fmt.Sprintf("scheme %q is not http or https", req.Scheme)
	}
	return ""
}

// origins are the origins the decision has URLs for: the primary, and in
// fetch mode the backup when the rule has one; for a rule of the
// extended model, its primaries then its backups (a redirect: the first
// primary, or the target).
func (p *prepared) origins() []*origin {
	r := p.rule
	if x := r.ext; x != nil {
		if p.goal != nil {
			p.obuf[0] = p.goal
			return p.obuf[:1]
		}
		list := x.origins
		if x.fromRequest && p.tls {
			list = x.tls
		}
		if r.mode == ModeRedirect {
			return list[:1]
		}
		return list
	}
	p.obuf[0] = r.primary
	if r.mode == ModeFetch && r.backup != nil {
		p.obuf[1] = r.backup
		return p.obuf[:2]
	}
	return p.obuf[:1]
}

// origin is the redirect target's origin for req.
func (t *redirectTarget) origin(req *Request, tls bool) (*origin, string) {
	https := tls
	if t.scheme != "" {
		https = t.scheme == "https"
	}
	if t.http != nil {
		if https {
			return t.https, ""
		}
		return t.http, ""
	}
	if req.Host == "" {
		return nil, "the rule redirects to the request's host, and the request has none"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	host, port, reason := parseAuthority(req.Host, true)
	if reason != "" || strings.ContainsAny(req.Host, "/?#@\\") {
		return nil, fmt.Sprintf("the request's host %q can not be a redirect's host", req.Host)
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	o := &origin{scheme: scheme, host: host, port: port, hostport: host, path: "/"}
	if port != "" {
		o.hostport += ":" + port
	}
	o.raw = scheme + "://" + o.hostport
	o.base = o.raw + "/"
	return o, ""
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

// originKey is the origin key as up to five parts, which are checked and
// encoded in turn instead of being joined into a new string.
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
	if x := r.ext; x != nil && (x.rewrite != nil || x.collapse) {
		if x.rewrite != nil {
			rw := x.rewrite
			k.add(rw.addPrefix)
			k.add(rw.apply(key, r.resource[:r.crop]))
			k.add(rw.addSuffix)
		} else {
			r.bosKey(k, key)
		}
		if x.collapse {
			s := collapseSlashes(strings.Join(k.parts[:k.n], ""))
			*k = originKey{}
			k.add(s)
		}
		return
	}
	r.bosKey(k, key)
}

// bosKey sets k to the origin key of key under r's BOS fields.
func (r *compiledRule) bosKey(k *originKey, key string) {
	if r.fixedKey != "" {
		k.add(r.fixedKey)
		return
	}
	k.add(r.prefix)
	if r.v2() {
		rest := key[r.crop:]
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
	if unsafeSegment(k.parts[:k.n]...) {
		return `the origin key has a segment made of "." and white space (after NFKC), which an origin may resolve as "." or ".."`
	}
	return ""
}

// appendURL writes o's base, the encoded origin key and the query. Bytes
// are written, never URLs joined or resolved, so nothing in the key can
// change the scheme, host, port or base path. A bos:// or s3:// origin
// gets no query: a client's ?acl must not become a request signed by the
// owner.
func appendURL(dst []byte, o *origin, k *originKey, query string) []byte {
	dst = append(dst, o.base...)
	for _, p := range k.parts[:k.n] {
		dst = appendEncoded(dst, p)
	}
	if query != "" && !o.signed() {
		dst = appendQuery(dst, query)
	}
	return dst
}

// AppendURL appends the primary origin URL for req to dst and returns the
// extended buffer and the rule index: in fetch mode the URL to fetch
// first, in redirect mode the Location. It checks the request exactly as
// Resolve does, and returns dst unchanged, rule -1 and the error when
// Resolve would fail. With a buffer of enough capacity it allocates
// nothing, which suits a proxy that builds its outbound request line
// itself; Resolve gives the backup URL, headers and storage class too.
func (e *Engine) AppendURL(dst []byte, req *Request) ([]byte, int, error) {
	if out, rule, ok := e.appendURLFast(dst, req); ok {
		return out, rule, nil
	}
	p, err := e.prepare(req)
	if err != nil {
		return dst, -1, err
	}
	return appendURL(dst, p.origins()[0], &p.key, p.query), int(p.index), nil
}

// appendURLFast is AppendURL for the common request, whose key is checked
// while it is encoded, in one pass (docs/SEMANTICS.md §7 lists the
// checks): it answers ok only for a key of printable ASCII whose origin
// key's every "." has an ordinary character beside it, where prepare
// would find nothing to refuse. For anything else, and for every error,
// it answers !ok and the caller takes prepare's way, which gives the
// errors in their order.
func (e *Engine) appendURLFast(dst []byte, req *Request) ([]byte, int, bool) {
	key := req.Key
	if key == "" || len(key) > maxFieldLen {
		return dst, -1, false
	}
	if (req.Status != 0 && req.Status != 404) || (req.Scheme != "" && req.Scheme != "http" && req.Scheme != "https") {
		return dst, -1, false
	}
	i := e.index.lookup(key)
	if i == noRule {
		return dst, -1, false
	}
	r := &e.compiled[i]
	if r.ext != nil || r.cond != nil {
		return dst, -1, false // the extended model: prepare's way
	}
	if r.fixedKey != "" {
		return dst, -1, false // the key is not in the URL, so not checked there
	}
	var k originKey
	r.originKey(&k, key)
	if k.n == 0 {
		return dst, -1, false
	}
	query := ""
	if r.passQuery && req.RawQuery != "" {
		if queryReason(req.RawQuery) != "" {
			return dst, -1, false
		}
		query = req.RawQuery
	}
	start := len(dst)
	dst = append(dst, r.primary.base...)
	for _, part := range k.parts[:k.n] {
		var ok bool
		if dst, ok = appendEncodedChecked(dst, part); !ok {
			return dst[:start], -1, false
		}
	}
	if query != "" && !r.primary.signed() {
		dst = appendQuery(dst, query)
	}
	return dst, int(i), true
}

// Byte classes of appendEncodedChecked.
const (
	fastCopy   = iota // unreserved: written as is
	fastDot           // ".": written as is, if a neighbour is ordinary
	fastEscape        // printable ASCII written as %XX
	fastStop          // a control byte, DEL or not ASCII: the slow way
)

var fastClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c < ' ' || c >= 0x7f:
			t[c] = fastStop
		case c == '.':
			t[c] = fastDot
		case unreserved[c]:
			t[c] = fastCopy
		default:
			t[c] = fastEscape
		}
	}
	return t
}()

// appendEncodedChecked is appendEncoded that reports false, having
// written part of s, at the first byte the one-pass check can not
// decide: see appendURLFast.
func appendEncodedChecked(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		run := i
		for run < len(s) && fastClass[s[run]] == fastCopy {
			run++
		}
		dst = append(dst, s[i:run]...)
		if run == len(s) {
			break
		}
		switch c := s[run]; fastClass[c] {
		case fastDot:
			// plainDots' test: an ordinary character beside it, in the
			// same part.
			if !(run > 0 && segClass[s[run-1]] == segOther) && !(run+1 < len(s) && s[run+1] < utf8.RuneSelf && segClass[s[run+1]] == segOther) {
				return dst, false
			}
			dst = append(dst, '.')
		case fastEscape:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		default:
			return dst, false
		}
		i = run + 1
	}
	return dst, true
}
