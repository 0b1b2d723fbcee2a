package mirror

import "slices"

// Engine is a compiled rule set. It is immutable: any number of
// goroutines may call its methods at once.
//
// A request flows through it as the files are named: rule.go and
// document.go read the rules, compile.go validates them into an Engine,
// index.go and trie.go find the first rule that covers a key, rewrite.go,
// query.go and headers.go work out the origin request, and decision.go
// hands it out.
type Engine struct {
	format   Format
	compiled []compiledRule
	index    ruleIndex
}

// Len returns the number of rules.
func (e *Engine) Len() int { return len(e.compiled) }

// Format returns the format of the document the engine was compiled from
// (FormatNative for Compile), never FormatAuto.
func (e *Engine) Format() Format { return e.format }

// Rule returns rule i as the engine compiled it: as read from the
// document, with the defaults the format fills in (a BOS rule without a
// resource covers "*") and the storage class in upper case. i must be in
// [0, Len()), like a slice index.
func (e *Engine) Rule(i int) Rule {
	c := &e.compiled[i]
	r := Rule{
		Mode:            c.mode,
		SourceURL:       c.primary.raw,
		Resource:        c.resource,
		Prefix:          c.prefix,
		Suffix:          c.suffix,
		FixedKey:        c.fixedKey,
		Version:         versions[c.version],
		PrefixReplace:   c.replace,
		PassQueryString: c.passQuery,
		StorageClass:    c.storageClass,
		PassHeaders:     slices.Clone(c.headers.raw.pass),
		IgnoreHeaders:   slices.Clone(c.headers.raw.ignore),
		CustomHeaders:   slices.Clone(c.headers.raw.custom),
		RedirectCode:    int(c.redirectCode),
		ResourceSyntax:  syntaxes[c.syntax],
	}
	if c.backup != nil {
		r.BackSourceURL = c.backup.raw
	}
	return r
}

// Origins returns rule i's origin bases in canonical form (scheme and host
// lower-cased, default port dropped, path re-encoded, ending in "/"); backup
// is "" when the rule has none. Every URL of rule i starts with one of
// these. i must be in [0, Len()), like a slice index.
func (e *Engine) Origins(i int) (primary, backup string) {
	r := &e.compiled[i]
	if r.backup != nil {
		backup = r.backup.base
	}
	return r.primary.base, backup
}

// Match returns the index of the first rule, in rule order, that covers
// key, and ok false when none does. It walks the key through the index
// once and allocates nothing; what it costs is said in docs/SEMANTICS.md
// §3. Match does not judge the key; Resolve does.
func (e *Engine) Match(key string) (rule int, ok bool) {
	r := e.index.lookup(key)
	if r == noRule {
		return -1, false
	}
	return int(r), true
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
	return newDecision(&p, req), nil
}

// ResolveTo is Resolve for a caller that reuses memory, such as a proxy
// that keeps one Decision per worker: it fills d, reusing the memory of
// its slices, and once they have grown to size it allocates nothing.
// It differs from Resolve in two ways:
//   - the headers are in d.Fields, as name/value pairs, and d.Header is
//     nil (HeaderMap makes an http.Header of them when one is needed);
//   - the strings of d.URLs and d.Origins are views of a buffer d keeps,
//     which the next ResolveTo into d overwrites: copy (strings.Clone)
//     what must outlive that, and do not copy d while it is in use.
//
// The header values and the rule's strings are shared, as with Resolve.
// On error d is left holding no decision (Rule -1) and the error is
// Resolve's. What still allocates: a request header name that is not in
// canonical form (net/http's server gives canonical ones) is
// canonicalised into a new string, and a refused key gets an error value
// that says why.
func (e *Engine) ResolveTo(d *Decision, req *Request) error {
	p, err := e.prepare(req)
	if err != nil {
		*d = Decision{Rule: -1, URLs: d.URLs[:0], Origins: d.Origins[:0], Fields: d.Fields[:0], buf: d.buf[:0]}
		return err
	}
	d.resolveInto(&p, req)
	return nil
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
	return appendURL(dst, p.rule.primary, &p.key, p.query), int(p.index), nil
}
