package mirror

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
)

// Explain tells the story behind a decision (docs/SEMANTICS.md §10). It is
// off the hot path and written to be read, not to be fast: it checks the
// rules one by one with their patterns, builds the origin key by joining
// strings, and classifies every query piece and header on its own, and
// only then asks Resolve for the decision. The tests hold the two to the
// same answer.

// Explanation is the whole story of one request: which rules were looked
// at and why each did or did not cover the key, how the origin key was
// built, what became of each query piece and header, and the decision
// or error Resolve gives. Each part is filled as far as Resolve's checks
// go: a refused key has no rules, an unsafe origin key no query.
type Explanation struct {
	// Key is the request's key.
	Key string `json:"key"`
	// Rules are every rule, in rule order, with why each does or does not
	// cover the key; nil when the key is refused before matching.
	Rules []RuleCheck `json:"rules"`
	// Rule is the first rule that covers the key, -1 when none does.
	Rule int `json:"rule"`
	// OriginKey is how rule Rule turned the key into the origin key; nil
	// when no rule covers it.
	OriginKey *KeyBuild `json:"originKey,omitempty"`
	// Query is what became of each piece of the query string, in order.
	Query []QueryCheck `json:"query,omitempty"`
	// Headers are, in fetch mode, what became of each request header
	// value (by canonical name, then name as sent), then the headers the
	// rule sets. A redirect sends no headers to the origin.
	Headers []HeaderCheck `json:"headers,omitempty"`
	// Decision and Err are what Resolve returns for the request.
	Decision *Decision `json:"-"`
	Err      error     `json:"-"`
}

// RuleCheck is one rule's verdict on the key.
type RuleCheck struct {
	Rule     int    `json:"rule"`
	Resource string `json:"resource"`
	// Covers is true for every rule whose resource covers the key; only
	// the first of them decides.
	Covers bool `json:"covers"`
	// Reason says why: where the key leaves the resource, which of its
	// conditions fails, or that an earlier rule decides first.
	Reason string `json:"reason"`
	// Failed is, for a rule that covers the key but does not decide
	// because of its conditions (docs/SEMANTICS.md §11), the condition
	// that fails ("match.headers", "on", ...); "" otherwise.
	Failed string `json:"failed,omitempty"`
}

// KeyBuild is the origin key and the steps that built it.
type KeyBuild struct {
	Steps []string `json:"steps"`
	Key   string   `json:"key"`
}

// QueryCheck is one piece of the query string ("name=value", as sent).
type QueryCheck struct {
	Piece  string `json:"piece"`
	Kept   bool   `json:"kept"`
	Reason string `json:"reason"`
}

// HeaderCheck is one header value: from the request, sent on or
// dropped, or set by the rule.
type HeaderCheck struct {
	// Name is the name as the request has it, or the canonical name of a
	// header the rule sets. The origin receives it in canonical form.
	Name   string `json:"name"`
	Value  string `json:"value"`
	Sent   bool   `json:"sent"`
	Reason string `json:"reason"`
}

// Explain resolves req and tells why, step by step. Its Decision and Err
// are exactly what Resolve returns. It allocates freely and looks at every
// rule, so it is for people and tools (mirror explain), not for the
// request path.
func (e *Engine) Explain(req *Request) *Explanation {
	x := &Explanation{Key: req.Key, Rule: -1}
	x.Decision, x.Err = e.Resolve(req)
	if keyReason(req.Key) != "" || requestReason(req) != "" {
		return x
	}
	var pat pattern
	x.Rules = make([]RuleCheck, len(e.compiled))
	globs := globCache{}
	for i := range e.compiled {
		c := &e.compiled[i]
		p := e.rulePattern(i, globs)
		check := RuleCheck{Rule: i, Resource: c.resource, Covers: p.covers(req.Key)}
		if c.byPrefix {
			check.Resource = c.resource + "*"
		}
		why := ""
		if check.Covers {
			why = c.conditionWhy(req)
		}
		switch {
		case why != "":
			check.Failed, _, _ = strings.Cut(why, ":")
			check.Reason = "covers the key, but " + why
		case check.Covers && x.Rule < 0:
			x.Rule, pat = i, p
			check.Reason = "covers the key: this rule decides"
		case check.Covers:
			check.Reason = fmt.Sprintf("covers the key too, but rule %d comes first", x.Rule)
		default:
			check.Reason = p.whyNot(req.Key, syntaxes[c.syntax])
		}
		x.Rules[i] = check
	}
	if x.Rule < 0 {
		return x
	}
	r := &e.compiled[x.Rule]
	x.OriginKey = r.explainKey(req.Key, len(pat.lit))
	if x.Err != nil && errors.Is(x.Err, ErrInvalidRequest) && r.ext != nil && r.ext.target != nil {
		return x
	}
	if k := x.OriginKey.Key; k == "" || unsafeSegment(k) {
		return x
	}
	if req.RawQuery != "" {
		if r.passQuery && queryReason(req.RawQuery) != "" {
			return x
		}
		x.Query = explainQuery(req.RawQuery, r.passQuery)
	}
	if r.mode != ModeRedirect {
		x.Headers = r.headers.explain(req.Header)
	}
	return x
}

// rulePattern is rule i's pattern, compiled again (for tools, not the
// request path): a rule without a resource covers its match.prefix
// followed by anything, "*" in it a literal.
func (e *Engine) rulePattern(i int, globs globCache) pattern {
	c := &e.compiled[i]
	if c.byPrefix {
		return pattern{kind: patStar, lit: c.resource}
	}
	p, _ := compilePattern(c.resource, syntaxes[c.syntax], false, globs)
	return p
}

// conditionWhy says which condition of rule c fails for req (as
// "field: reason"), or "".
func (c *compiledRule) conditionWhy(req *Request) string {
	if c.cond != nil {
		return c.cond.why(req)
	}
	if req.Status != 0 && req.Status != 404 {
		return "on: the rule answers a miss only, and the request is " + statusText(req.Status)
	}
	return ""
}

// whyNot says where key leaves a pattern that does not cover it.
func (p *pattern) whyNot(key, syntax string) string {
	if !strings.HasPrefix(key, p.lit) {
		n := 0
		for n < len(key) && key[n] == p.lit[n] {
			n++
		}
		if n == len(key) {
			return fmt.Sprintf("the key ends at byte %d, inside the literal prefix %q", n, p.lit)
		}
		// Name the characters, not the bytes, where they differ.
		c := n
		for c > 0 && !utf8.RuneStart(key[c]) {
			c--
		}
		k, _ := utf8.DecodeRuneInString(key[c:])
		l, _ := utf8.DecodeRuneInString(p.lit[c:])
		return fmt.Sprintf("the literal prefix %q differs at byte %d: the key has %q, the prefix %q", p.lit, c, string(k), string(l))
	}
	rest := key[len(p.lit):]
	headed := len(p.heads) == 0
	for _, h := range p.heads {
		headed = headed || strings.HasPrefix(rest, h)
	}
	switch {
	case p.kind == patExact && len(p.heads) == 0:
		return fmt.Sprintf("the resource is exact, and the key goes on after it, at byte %d", len(p.lit))
	case p.kind == patExact:
		return fmt.Sprintf("after the literal prefix %q the key has %q, none of the glob's alternatives %s", p.lit, rest, quoteAll(p.heads))
	case !headed:
		return fmt.Sprintf("after the literal prefix %q the key goes on with none of the glob's alternatives %s", p.lit, quoteAll(p.heads))
	case !strings.HasSuffix(rest, p.suffix):
		return fmt.Sprintf("after the literal prefix %q the key does not end with the suffix %q", p.lit, p.suffix)
	case syntax == "glob" && strings.Contains(rest, "/"):
		return fmt.Sprintf("the glob does not match %q, the key after the literal prefix %q (a * or ? does not cross \"/\")", rest, p.lit)
	case syntax == "glob":
		return fmt.Sprintf("the glob does not match %q, the key after the literal prefix %q", rest, p.lit)
	}
	w, _ := p.m.(*wildcard)
	if w == nil {
		return "the resource does not cover the key"
	}
	return fmt.Sprintf("the middle parts %s do not occur in this order in %q, between the literal prefix %q and the suffix %q",
		quoteAll(w.middle), rest[:len(rest)-len(w.last)], p.lit, w.last)
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// explainKey builds the origin key of key step by step, as
// docs/SEMANTICS.md §4 says; crop is the length of the resource's literal
// prefix.
func (r *compiledRule) explainKey(key string, crop int) *KeyBuild {
	x := r.ext
	if x == nil || (x.rewrite == nil && !x.collapse) {
		return r.explainBOSKey(key, crop)
	}
	var b *KeyBuild
	if x.rewrite != nil {
		b = &KeyBuild{}
		step := func(format string, args ...any) { b.Steps = append(b.Steps, fmt.Sprintf(format, args...)) }
		b.Key = x.rewrite.explain(key, r.resource[:r.crop], step)
		if len(b.Steps) == 0 {
			step("the key is the origin key, unchanged")
		}
	} else {
		b = r.explainBOSKey(key, crop)
	}
	if c := collapseSlashes(b.Key); c != b.Key {
		b.Key = c
		b.Steps = append(b.Steps, fmt.Sprintf(`keepSlashes false: each run of "/" becomes one: %q`, c))
	}
	return b
}

// explainBOSKey is explainKey for the BOS fields.
func (r *compiledRule) explainBOSKey(key string, crop int) *KeyBuild {
	b := &KeyBuild{}
	step := func(format string, args ...any) { b.Steps = append(b.Steps, fmt.Sprintf(format, args...)) }
	if r.fixedKey != "" {
		step("fixedKey: the origin key is %q, whatever the key", r.fixedKey)
		for _, f := range []struct{ name, v string }{{"prefix", r.prefix}, {"suffix", r.suffix}, {"prefixReplace", r.replace}} {
			if f.v != "" {
				step("%s %q is not used beside fixedKey", f.name, f.v)
			}
		}
		b.Key = r.fixedKey
		return b
	}
	k := key
	switch {
	case r.v2():
		k = key[crop:]
		step("v2: the resource's literal prefix %q is cut off: %q", key[:crop], k)
		if strings.HasPrefix(k, "/") {
			k = k[1:]
			step(`its leading "/" is dropped: %q`, k)
		}
		switch {
		case r.replace != "" && k != "" && !strings.HasSuffix(r.replace, "/"):
			k = r.replace + "/" + k
			step(`prefixReplace %q is put in its place, with a "/" between: %q`, r.replace, k)
		case r.replace != "":
			k = r.replace + k
			step("prefixReplace %q is put in its place: %q", r.replace, k)
		}
	case r.replace != "":
		step("prefixReplace %q does nothing: it acts in version v2 only", r.replace)
	}
	if r.prefix != "" {
		k = r.prefix + k
		step("prefix %q is put in front: %q", r.prefix, k)
	}
	if r.suffix != "" {
		k += r.suffix
		step("suffix %q is appended: %q", r.suffix, k)
	}
	if len(b.Steps) == 0 {
		step("the key is the origin key, unchanged")
	}
	b.Key = k
	return b
}

// explainQuery classifies each piece of a query that passed queryReason
// (or, when the rule does not pass queries, any query).
func explainQuery(q string, pass bool) []QueryCheck {
	var out []QueryCheck
	for _, piece := range strings.Split(q, "&") {
		c := QueryCheck{Piece: piece, Kept: true, Reason: "passed on (passQuerystring)"}
		switch {
		case !pass:
			c.Kept, c.Reason = false, "the rule does not pass the query string on (passQuerystring is false)"
		case piece == "":
			c.Kept, c.Reason = false, "empty: an extra \"&\""
		case credentialParam(piece):
			c.Kept, c.Reason = false, credentialWhy(piece)
		}
		out = append(out, c)
	}
	return out
}

// credentialWhy names the credential a piece's name is, for a piece that
// credentialParam refuses.
func credentialWhy(piece string) string {
	name, _, _ := strings.Cut(piece, "=")
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '%' {
			c = unhex(name[i+1])<<4 | unhex(name[i+2])
			i += 2
		}
		b.WriteByte(lower(c))
	}
	decoded := b.String()
	for _, p := range credentialParamPrefixes {
		if strings.HasPrefix(decoded, p) {
			return fmt.Sprintf("%q is in %q, a storage vendor's namespace of signed-URL parameters: the client's credentials never reach an origin", name, p)
		}
	}
	return fmt.Sprintf("%q is the credential parameter %q: the client's credentials never reach an origin", name, decoded)
}

// explain classifies every request header value for the pass step, then
// lists the headers the set step adds (docs/SEMANTICS.md §6).
func (p *headerPlan) explain(req http.Header) []HeaderCheck {
	type named struct{ key, name string }
	names := make([]named, 0, len(req))
	for name := range req {
		names = append(names, named{http.CanonicalHeaderKey(name), name})
	}
	slices.SortFunc(names, func(a, b named) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	hop := connectionTokens(req)
	customIndex := make(map[string]bool, len(p.custom))
	for _, h := range p.custom {
		customIndex[h.Name] = true
	}
	var out []HeaderCheck
	for _, n := range names {
		why := ""
		switch c := classify(n.name); {
		case c != nil:
			why = fmt.Sprintf("never forwarded from a client: it is %s", c.why)
		case slices.Contains(p.ignore, n.key):
			why = "in ignoreHeaders"
		case customIndex[n.key]:
			why = "the rule sets it (customHeaders), which replaces the client's value"
		case !p.passAll && len(p.pass) == 0:
			why = "the rule passes no headers (no passHeaders)"
		case !p.passAll && !slices.Contains(p.pass, n.key):
			why = "not in passHeaders"
		case hop.has(n.name):
			why = "named by the request's Connection header, so hop-by-hop"
		}
		values := req[n.name]
		if len(values) == 0 {
			out = append(out, HeaderCheck{Name: n.name, Reason: "no value"})
		}
		for _, v := range values {
			c := HeaderCheck{Name: n.name, Value: v, Reason: why}
			switch {
			case why != "":
			case !httpguts.ValidHeaderFieldValue(v):
				c.Reason = "the value holds a control byte"
			case p.passAll:
				c.Sent, c.Reason = true, `passHeaders "*"`
			default:
				c.Sent, c.Reason = true, "in passHeaders"
			}
			out = append(out, c)
		}
	}
	for _, h := range p.custom {
		out = append(out, HeaderCheck{Name: h.Name, Value: h.Value, Sent: true, Reason: "set by the rule (customHeaders)"})
	}
	return out
}
