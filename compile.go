package mirror

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Compiler holds the options rules are compiled with, the way
// gobwas/glob's Compiler does; its zero value compiles with the safe
// defaults. The serving packages are configured the same way, by fields
// of a struct whose zero value is safe.
type Compiler struct {
	// AllowPrivateOrigins lets origins be loopback, private, link-local
	// or other non-routable addresses, and names such as localhost
	// (NonRoutable has the table). Without it such origins are compile
	// errors, so that a bucket owner's rule can not make the storage
	// server fetch from its own network; tests against a server on
	// 127.0.0.1 need it.
	AllowPrivateOrigins bool
}

// Compile validates rules as a native document and compiles them with the
// zero Compiler's options.
func Compile(rules []Rule) (*Engine, error) {
	return Compiler{}.Compile(rules)
}

// Compile validates rules as a native document and compiles them. The
// error is a *CompileError naming each problem as "rules[i].field".
func (c Compiler) Compile(rules []Rule) (*Engine, error) {
	b := newEngineBuilder(c, FormatNative)
	b.count(len(rules), len(rules))
	for i, r := range rules {
		b.add(r, i, nil)
	}
	return b.finish()
}

// Load reads, validates and compiles a rules document with the zero
// Compiler's options.
func Load(data []byte, format Format) (*Engine, error) {
	return Compiler{}.Load(data, format)
}

// Load reads, validates and compiles a rules document. A document that is
// not JSON, has values of the wrong JSON types, or rules that do not
// validate gives one *CompileError listing the problems of all three
// steps, in document order.
//
// Field names match case-insensitively and the last of two equal names
// wins, as with encoding/json, so both passQuerystring (BOS's Go SDK) and
// passQueryString (its Java SDK) are read. null, missing and "" fields are
// unset; unknown fields are ignored.
func (c Compiler) Load(data []byte, format Format) (*Engine, error) {
	if importers[format] != nil {
		return c.importProvider(data, format) // providers.go
	}
	if format == FormatAuto || format == "" {
		f, ok, err := detectProvider(data)
		if err != nil {
			return nil, err
		}
		if ok {
			return c.importProvider(data, f)
		}
	}
	b := newEngineBuilder(c, FormatNative)
	top, ok := readTop(data, format, &b.probs)
	if !ok {
		return nil, b.probs.err()
	}
	b.setFormat(top.format)
	if top.format == FormatQingStor {
		r := Rule{Mode: ModeFetch, SourceURL: top.site, Resource: "*"}
		var unset fieldSet
		if top.badSite {
			unset = fieldSet{"sourceUrl": true}
		}
		b.count(1, 1)
		b.add(r, 0, unset)
		return b.finish()
	}
	// A list item can be as short as "1,": the build is sized by what the
	// document can hold as rules, not by the item count alone.
	b.count(top.items, min(top.items, len(data)/32))
	eachItem(top.list, func(i int, item json.RawMessage) {
		var r Rule
		unset := parseRule(item, top.format, &r, i, &b.probs)
		b.add(r, i, unset)
	})
	return b.finish()
}

// BOS's own limits (docs/SEMANTICS.md §1).
const (
	bosMaxRules   = 20
	bosMaxHeaders = 10
)

var storageClasses = []string{"STANDARD", "STANDARD_IA", "COLD", "ARCHIVE", "MAZ_STANDARD", "MAZ_STANDARD_IA"}

// engineBuilder compiles one rule set, rule after rule, so that a
// document is read, validated and compiled in one pass and its problems
// come out in document order.
type engineBuilder struct {
	c        Compiler
	format   Format
	probs    problems
	origins  map[string]*origin // parsed origins by their text: rules share them
	overlaps bool               // BOS: check every new rule against the earlier ones
	compiled []compiledRule
	pats     []pattern
	globs    globCache
	// templates are the distinct templates of the rules so far.
	templates    map[ruleTemplate]*ruleTemplate
	lastTemplate map[*origin]*ruleTemplate // the last template of each origin
	plans        map[planKey]*headerPlan
	conds        map[string]*condition
	exts         map[string]*extension
}

func newEngineBuilder(c Compiler, f Format) *engineBuilder {
	b := &engineBuilder{c: c, origins: map[string]*origin{}, globs: globCache{}, templates: map[ruleTemplate]*ruleTemplate{}, lastTemplate: map[*origin]*ruleTemplate{}, plans: map[planKey]*headerPlan{},
		conds: map[string]*condition{}, exts: map[string]*extension{}}
	b.setFormat(f)
	return b
}

func (b *engineBuilder) setFormat(f Format) {
	b.format = f
	b.probs.at = namerFor(f)
}

// count checks the number of rules and sizes the build for up to reserve
// of them.
func (b *engineBuilder) count(n, reserve int) {
	if b.format == FormatBOS {
		if n < 1 || n > bosMaxRules {
			// Over the limit there is no overlap check: it is quadratic,
			// and the document is refused anyway.
			b.probs.add(-1, "", fmt.Sprintf("BOS takes 1 to %d rules, the document has %d", bosMaxRules, n))
		}
		b.overlaps = n <= bosMaxRules
	}
	b.compiled = make([]compiledRule, 0, reserve)
	b.pats = make([]pattern, 0, reserve)
}

// add validates and compiles rule i. Once the set has a problem it is only
// validated: nothing more is kept, so that a large refused document costs
// no more memory than a small one.
func (b *engineBuilder) add(r Rule, i int, unset fieldSet) {
	var cr compiledRule
	var p pattern
	if !unset[wholeRule] {
		p = b.rule(&r, i, unset, &cr)
	}
	if b.overlaps && p.kind != patNone {
		for j := range b.pats {
			if q := &b.pats[j]; q.kind != patNone && overlaps(q, &p) {
				b.probs.add(i, "resource", fmt.Sprintf("%q covers keys that %s (%q) covers too; BOS does not allow rules whose prefixes and suffixes include each other",
					r.Resource, b.probs.at.path(j, "resource"), b.compiled[j].resource))
			}
		}
	}
	if b.probs.failed() && !b.overlaps {
		b.compiled, b.pats = nil, nil
		return
	}
	b.compiled = append(b.compiled, cr)
	b.pats = append(b.pats, p)
}

func (b *engineBuilder) finish() (*Engine, error) {
	if err := b.probs.err(); err != nil {
		return nil, err
	}
	ix, err := buildIndex(b.pats)
	if err != nil {
		return nil, err
	}
	e := &Engine{format: b.format, compiled: b.compiled, index: ix}
	for i := range e.compiled {
		if e.compiled[i].cond != nil {
			e.conds++
		}
	}
	e.hits = firesOnHits(e.compiled) // hits.go
	return e, nil
}

// rule validates r, rule i, into cr and returns its pattern (kind
// patNone when the resource is invalid). It writes the canonical storage
// class back into r.
func (b *engineBuilder) rule(r *Rule, i int, unset fieldSet, cr *compiledRule) pattern {
	add := func(field, reason string) { b.probs.add(i, field, reason) }
	var t ruleTemplate
	defer func() { cr.ruleTemplate = b.template(&t) }()
	ext := b.format == FormatNative && r.extended()
	switch {
	case unset["mode"]:
	case r.Mode == "":
		add("mode", "is required: fetch or redirect")
	case r.Mode == ModeRedirectFetch && b.format == FormatNative:
	case r.Mode != ModeFetch && r.Mode != ModeRedirect:
		add("mode", fmt.Sprintf("%q is not fetch or redirect", string(r.Mode)))
	}
	t.mode = r.Mode
	if ext {
		b.extendedRule(r, i, unset, &t)
	} else if !unset["sourceUrl"] {
		switch {
		case r.SourceURL == "":
			add("sourceUrl", "is required")
		default:
			t.primary = b.origin("sourceUrl", r.SourceURL, i)
		}
	}
	if o := t.primary; o != nil && o.signed() && !ext {
		switch {
		case b.format == FormatQingStor:
			add("sourceUrl", "a QingStor source_site must be http or https")
		case r.Mode == ModeRedirect:
			add("sourceUrl", "a redirect rule's origin must be http or https: a client can not follow "+o.scheme+"://")
		}
	}
	if !unset["backSourceUrl"] && r.BackSourceURL != "" && !ext {
		t.backup = b.origin("backSourceUrl", r.BackSourceURL, i)
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"prefix", r.Prefix}, {"suffix", r.Suffix}, {"fixedKey", r.FixedKey}, {"prefixReplace", r.PrefixReplace}} {
		if reason := textReason(f.v); reason != "" && !unset[f.name] {
			add(f.name, reason)
		}
	}
	if unsafeSegment(r.FixedKey) {
		add("fixedKey", `has a segment made of "." and white space, which an origin may resolve as "." or ".."`)
	}
	t.prefix, t.suffix, t.fixedKey, t.replace = r.Prefix, r.Suffix, r.FixedKey, r.PrefixReplace
	if v := slices.Index(versions, r.Version); v >= 0 {
		t.version = uint8(v)
	} else {
		add("version", fmt.Sprintf("%q is not v1 or v2", r.Version))
	}
	if r.StorageClass != "" {
		sc := canonicalStorageClass(r.StorageClass)
		if sc == "" {
			add("storageClass", fmt.Sprintf("%q is not one of %s", r.StorageClass, strings.Join(storageClasses, ", ")))
		} else {
			r.StorageClass = sc
		}
	}
	t.storageClass = r.StorageClass
	t.passQuery = r.PassQueryString
	switch r.RedirectCode {
	case 0:
	case 301, 302, 303, 307, 308:
		t.redirectCode = uint16(r.RedirectCode)
	default:
		add("redirectCode", redirectCodeReason(r.RedirectCode))
	}
	limit := 0
	if b.format == FormatBOS {
		limit = bosMaxHeaders
	}
	t.headers = b.headerPlan(r, i, limit, t.primary, t.backup, unset)
	cr.resource = r.Resource
	if s := slices.Index(syntaxes, r.ResourceSyntax); s >= 0 {
		t.syntax = uint8(s)
	}
	if unset["resource"] || unset["resourceSyntax"] {
		return pattern{}
	}
	if ext && r.Match != nil && r.Match.Prefix != "" {
		if r.Resource != "" {
			add("match.prefix", "give resource or match.prefix, not both")
			return pattern{}
		}
		if textReason(r.Match.Prefix) != "" {
			return pattern{} // reported by the condition's checks
		}
		// The rule covers every key that starts with the prefix: the
		// index walks on it, and a "*" in it is a literal.
		cr.resource, cr.byPrefix, cr.crop = r.Match.Prefix, true, int32(len(r.Match.Prefix))
		return pattern{kind: patStar, lit: r.Match.Prefix}
	}
	if ext && r.Match != nil && r.Resource == "" {
		cr.resource, cr.byPrefix = "", true
		return pattern{kind: patStar}
	}
	p, reason := compilePattern(r.Resource, r.ResourceSyntax, b.format == FormatBOS, b.globs)
	if reason != "" {
		field := "resource"
		if strings.HasPrefix(reason, "resourceSyntax") {
			field, reason = "resourceSyntax", strings.TrimPrefix(reason, "resourceSyntax ")
		}
		add(field, reason)
		return pattern{}
	}
	cr.crop = int32(len(p.lit))
	return p
}

// headerPlan compiles r's header lists, once per distinct lists: rules
// with the same lists and origins share the plan (and its checks).
func (b *engineBuilder) headerPlan(r *Rule, i, limit int, primary, backup *origin, unset fieldSet) *headerPlan {
	if len(r.PassHeaders) == 0 && len(r.IgnoreHeaders) == 0 && len(r.CustomHeaders) == 0 {
		return emptyPlan
	}
	key, ok := newPlanKey(r, limit, primary, backup, unset)
	if ok {
		if p, found := b.plans[key]; found {
			return p
		}
	}
	n := len(b.probs.list) + b.probs.more
	p := compileHeaders(r, i, limit, primary, backup, unset, &b.probs)
	if ok && len(b.probs.list)+b.probs.more == n {
		// Only a plan without problems is shared: a rule repeating
		// refused lists gets its own problems.
		b.plans[key] = p
	}
	return p
}

// template returns the build's template equal to t, made on first use.
func (b *engineBuilder) template(t *ruleTemplate) *ruleTemplate {
	// Most rules share their template with the last rule of the same
	// origin: a pointer is quicker to hash than the template.
	if last := b.lastTemplate[t.primary]; last != nil && *last == *t {
		return last
	}
	shared, ok := b.templates[*t]
	if !ok {
		shared = new(ruleTemplate)
		*shared = *t
		b.templates[*t] = shared
	}
	b.lastTemplate[t.primary] = shared
	return shared
}

// origin parses an origin URL once per distinct text.
func (b *engineBuilder) origin(field, raw string, i int) *origin {
	if o, ok := b.origins[raw]; ok {
		return o
	}
	o, reason := parseOrigin(raw, b.c.AllowPrivateOrigins)
	if reason != "" {
		b.probs.add(i, field, reason)
		return nil
	}
	b.origins[raw] = o
	return o
}

// canonicalStorageClass matches s ASCII case-insensitively against the
// storage classes and returns the upper-case name, or "".
func canonicalStorageClass(s string) string {
	for _, c := range storageClasses {
		if equalFoldASCII(s, c) {
			return c
		}
	}
	return ""
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
