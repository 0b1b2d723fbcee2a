package mirror

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Option changes how rules are compiled.
type Option func(*options)

type options struct {
	allowPrivate bool
}

// AllowPrivateOrigins lets origins be loopback, private, shared,
// link-local, unspecified or NAT64 addresses, or localhost names. Without
// it such origins are compile errors, so that a bucket owner's rule can
// not make the storage server fetch from its own network; tests against
// a server on 127.0.0.1 need it.
func AllowPrivateOrigins() Option {
	return func(o *options) { o.allowPrivate = true }
}

// Engine is a compiled rule set. It is immutable: any number of
// goroutines may call its methods at once.
type Engine struct {
	rules []compiledRule
	index ruleIndex
}

// compiledRule is what Resolve needs of a rule, worked out once.
type compiledRule struct {
	mode            Mode
	primary, backup *origin // backup is nil when unset
	prefix, suffix  string  // raw; encoded while the URL is written
	fixedKey        string
	v2              bool
	replace         string // prefixReplace, v2 only
	litLen          int    // length of the resource's literal prefix (v2 crop)
	passQuery       bool
	storageClass    string
	redirectCode    int
	headers         *headerPlan
}

// Compile validates rules as a native document and compiles them. The
// error is a *CompileError naming each problem as "rules[i].field".
func Compile(rules []Rule, opts ...Option) (*Engine, error) {
	return compile(rules, FormatNative, nil, &problems{at: namerFor(FormatNative)}, opts)
}

// Len returns the number of rules.
func (e *Engine) Len() int { return len(e.rules) }

// Origins returns rule i's origin bases in canonical form (scheme and host
// lower-cased, default port dropped, path re-encoded, ending in "/"); backup
// is "" when the rule has none. Embedders use it to set up one client per
// origin; every URL of rule i starts with one of these. i must be in
// [0, Len()), like a slice index.
func (e *Engine) Origins(i int) (primary, backup string) {
	r := &e.rules[i]
	if r.backup != nil {
		backup = r.backup.base
	}
	return r.primary.base, backup
}

// bosMaxRules and bosMaxHeaders are limits Baidu BOS enforces itself.
const (
	bosMaxRules   = 20
	bosMaxHeaders = 10
)

var storageClasses = []string{"STANDARD", "STANDARD_IA", "COLD", "ARCHIVE", "MAZ_STANDARD", "MAZ_STANDARD_IA"}

func compile(rules []Rule, format Format, unset []fieldSet, probs *problems, opts []Option) (*Engine, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bos := format == FormatBOS
	if bos && (len(rules) < 1 || len(rules) > bosMaxRules) {
		probs.add(-1, "", fmt.Sprintf("BOS takes 1 to %d rules, the document has %d", bosMaxRules, len(rules)))
	}
	c := compiler{opts: o, bos: bos, probs: probs, origins: map[string]*origin{}}
	e := &Engine{rules: make([]compiledRule, len(rules))}
	pats := make([]pattern, len(rules))
	for i := range rules {
		var u fieldSet
		if i < len(unset) {
			u = unset[i]
		}
		if u[wholeRule] {
			continue
		}
		pats[i] = c.rule(&rules[i], i, u, &e.rules[i])
	}
	if bos {
		c.overlaps(rules, pats)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	e.index = buildIndex(pats)
	return e, nil
}

// compiler holds what the rules of one Compile call share.
type compiler struct {
	opts    options
	bos     bool
	probs   *problems
	origins map[string]*origin // parsed origins by their text: rules share them
}

// rule validates rules[i] into cr and returns its pattern (kind none when
// the resource is invalid).
func (c *compiler) rule(r *Rule, i int, unset fieldSet, cr *compiledRule) pattern {
	add := func(field, reason string) { c.probs.add(i, field, reason) }
	switch {
	case unset["mode"]:
	case r.Mode == "":
		add("mode", "is required: fetch or redirect")
	case r.Mode != ModeFetch && r.Mode != ModeRedirect:
		add("mode", fmt.Sprintf("%q is not fetch or redirect", string(r.Mode)))
	}
	cr.mode = r.Mode
	if !unset["sourceUrl"] {
		if r.SourceURL == "" {
			add("sourceUrl", "is required")
		} else if cr.primary = c.origin("sourceUrl", r.SourceURL, i); cr.primary != nil && r.Mode == ModeRedirect && cr.primary.scheme == "bos" {
			add("sourceUrl", "a redirect rule's origin must be http or https: a client can not follow bos://")
		}
	}
	if !unset["backSourceUrl"] && r.BackSourceURL != "" {
		cr.backup = c.origin("backSourceUrl", r.BackSourceURL, i)
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"prefix", r.Prefix}, {"suffix", r.Suffix}, {"fixedKey", r.FixedKey}, {"prefixReplace", r.PrefixReplace}} {
		if reason := textReason(f.v); reason != "" {
			add(f.name, reason)
		}
	}
	if hasDotSegment(r.FixedKey) {
		add("fixedKey", `has a "." or ".." segment, which an origin may resolve to another path`)
	}
	cr.prefix, cr.suffix, cr.fixedKey = r.Prefix, r.Suffix, r.FixedKey
	switch r.Version {
	case "", "v1":
	case "v2":
		cr.v2, cr.replace = true, r.PrefixReplace
	default:
		add("version", fmt.Sprintf("%q is not v1 or v2", r.Version))
	}
	if r.StorageClass != "" && !slices.Contains(storageClasses, r.StorageClass) {
		add("storageClass", fmt.Sprintf("%q is not one of %s", r.StorageClass, strings.Join(storageClasses, ", ")))
	}
	cr.storageClass = r.StorageClass
	cr.passQuery = r.PassQueryString
	switch r.RedirectCode {
	case 0:
		cr.redirectCode = 302
	case 301, 302, 303, 307, 308:
		cr.redirectCode = r.RedirectCode
	default:
		add("redirectCode", fmt.Sprintf("%d is not 301, 302, 303, 307 or 308", r.RedirectCode))
	}
	if cr.mode != ModeRedirect {
		cr.redirectCode = 0
	}
	limit := 0
	if c.bos {
		limit = bosMaxHeaders
	}
	cr.headers = compileHeaders(r, i, limit, cr.primary, cr.backup, unset, c.probs)
	if unset["resource"] || unset["resourceSyntax"] {
		return pattern{}
	}
	p, reason := c.pattern(r)
	if reason != "" {
		field := "resource"
		if strings.HasPrefix(reason, "resourceSyntax") {
			field, reason = "resourceSyntax", strings.TrimPrefix(reason, "resourceSyntax ")
		}
		add(field, reason)
		return pattern{}
	}
	cr.litLen = len(p.lit)
	return p
}

// origin parses an origin URL once per distinct text.
func (c *compiler) origin(field, raw string, i int) *origin {
	if o, ok := c.origins[raw]; ok {
		return o
	}
	o, reason := parseOrigin(raw, c.opts.allowPrivate)
	if reason != "" {
		c.probs.add(i, field, reason)
		return nil
	}
	c.origins[raw] = o
	return o
}

// textReason checks prefix, suffix, fixedKey and prefixReplace: they
// become part of origin keys, so they follow the key's own rules.
func textReason(s string) string {
	switch {
	case len(s) > maxFieldLen:
		return "longer than 1024 bytes"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case hasControl(s):
		return "holds a control byte"
	}
	return ""
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// Pattern kinds, by how the index checks them.
const (
	patNone    = iota // invalid resource: never indexed
	patExact          // the key equals lit
	patStar           // lit*suffix: one "*" (wildcard syntax)
	patComplex        // several "*" or glob syntax: m decides
)

// pattern is a resource taken apart for the index. lit is its literal
// prefix, the text before the first "*" (or glob metacharacter): every
// key it covers starts with lit, which is what the trie walks on.
type pattern struct {
	kind   int
	lit    string
	suffix string
	m      matcher
}

func (c *compiler) pattern(r *Rule) (pattern, string) {
	res := r.Resource
	switch {
	case res == "":
		return pattern{}, "is required"
	case len(res) > maxFieldLen:
		return pattern{}, "longer than 1024 bytes"
	case !utf8.ValidString(res):
		return pattern{}, "not valid UTF-8"
	case hasControl(res):
		return pattern{}, "holds a control byte"
	}
	switch r.ResourceSyntax {
	case "", "wildcard":
		stars := strings.Count(res, "*")
		if c.bos && stars > 1 {
			return pattern{}, fmt.Sprintf("has %d \"*\", BOS allows one", stars)
		}
		first := strings.IndexByte(res, '*')
		switch {
		case first < 0:
			return pattern{kind: patExact, lit: res}, ""
		case stars == 1:
			return pattern{kind: patStar, lit: res[:first], suffix: res[first+1:]}, ""
		}
		return pattern{kind: patComplex, lit: res[:first], m: newWildcard(res)}, ""
	case "glob":
		m, reason := compileGlob(res)
		if reason != "" {
			return pattern{}, reason
		}
		first := strings.IndexAny(res, globMeta)
		if first < 0 {
			return pattern{kind: patExact, lit: res}, ""
		}
		return pattern{kind: patComplex, lit: res[:first], m: m}, ""
	}
	return pattern{}, fmt.Sprintf("resourceSyntax %q is not wildcard or glob", r.ResourceSyntax)
}

// overlaps reports, as BOS does, every pair of rules that cover a common
// key. BOS resources have at most one "*", and p1*s1, p2*s2 share a key
// exactly when one prefix extends the other and one suffix extends the
// other: the key "longer prefix + longer suffix" is covered by both.
func (c *compiler) overlaps(rules []Rule, pats []pattern) {
	for j := range pats {
		for i := 0; i < j; i++ {
			if pats[i].kind == patNone || pats[j].kind == patNone || !overlap(pats[i], pats[j]) {
				continue
			}
			c.probs.add(j, "resource", fmt.Sprintf("%q covers keys that %s (%q) covers too; BOS does not allow rules whose prefixes and suffixes include each other",
				rules[j].Resource, c.probs.at.path(i, "resource"), rules[i].Resource))
		}
	}
}

func overlap(a, b pattern) bool {
	switch {
	case a.kind == patExact && b.kind == patExact:
		return a.lit == b.lit
	case a.kind == patExact:
		return b.covers(a.lit)
	case b.kind == patExact:
		return a.covers(b.lit)
	}
	return (strings.HasPrefix(a.lit, b.lit) || strings.HasPrefix(b.lit, a.lit)) &&
		(strings.HasSuffix(a.suffix, b.suffix) || strings.HasSuffix(b.suffix, a.suffix))
}

// covers reports whether the pattern covers key; the index answers the
// same for all patterns at once.
func (p pattern) covers(key string) bool {
	switch p.kind {
	case patExact:
		return key == p.lit
	case patStar:
		return len(key) >= len(p.lit)+len(p.suffix) && strings.HasPrefix(key, p.lit) && strings.HasSuffix(key, p.suffix)
	case patComplex:
		return p.m.Match(key)
	}
	return false
}

// noRule is the index's "no rule" answer: larger than any rule index.
const noRule = math.MaxInt32
