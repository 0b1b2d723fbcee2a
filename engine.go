package mirror

import "slices"

// Engine is a compiled rule set. It is immutable: any number of
// goroutines may call its methods at once.
//
// A request flows through it as the files are named: document.go reads a
// document into the rules of rule.go; compile.go validates them into an
// Engine, which keeps each rule as engine.go says, and its index
// (index.go, trie.go, radix.go); match.go finds the first rule that
// covers a key; rewrite.go, query.go and headers.go work out the origin
// request; and decision.go hands it out.
type Engine struct {
	format   Format
	compiled []compiledRule
	index    ruleIndex
	conds    int  // rules with a condition
	hits     bool // a rule fires on a hit (hits.go)
}

// compiledRule is what Resolve needs of a rule, worked out once, and what
// Engine.Rule gives back: every field as written, except that the origins
// are parsed and the header lists planned. What is not the resource is in
// a template that the rules with the same fields share: a tenant's rules
// differ in their resources and a few origins, and an engine of 100,000
// rules keeps 32 bytes for each and a template for each distinct origin
// and rewrite.
type compiledRule struct {
	resource string // as written, BOS's default filled in
	crop     int32  // length of the resource's literal prefix (v2)
	// byPrefix: the rule has no resource; resource holds its match.prefix,
	// and it covers every key starting with it.
	byPrefix bool
	*ruleTemplate
}

// ruleTemplate is a compiled rule but for its resource. It is comparable:
// the build keys its templates by value.
type ruleTemplate struct {
	mode            Mode
	primary, backup *origin // backup is nil when unset
	prefix, suffix  string  // raw; encoded while the URL is written
	fixedKey        string
	replace         string // prefixReplace as written; it acts in v2 only
	version         uint8  // index in versions
	syntax          uint8  // index in syntaxes
	passQuery       bool
	redirectCode    uint16 // as written; 0 is 302
	storageClass    string // upper case
	headers         *headerPlan
	// The extended model (native only): nil for a rule that uses none of
	// it. cond is nil for a rule that answers every miss of its resource.
	cond *condition
	ext  *extension
}

// versions and syntaxes are the values of Rule.Version and
// Rule.ResourceSyntax, so that a template keeps a byte for each.
var (
	versions = []string{"", "v1", "v2"}
	syntaxes = []string{"", "wildcard", "glob"}
)

func (r *ruleTemplate) v2() bool { return r.version == 2 }

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
	var r Rule
	if c.ext != nil {
		r = c.ext.written
		if r.Match != nil {
			m := *r.Match
			r.Match = &m
		}
		if c.byPrefix {
			if r.Match == nil {
				r.Match = &Match{}
			}
			r.Match.Prefix = c.resource
		}
	}
	r.Mode = c.mode
	r.Resource = c.resource
	if c.byPrefix {
		r.Resource = ""
	}
	old := Rule{
		Prefix: c.prefix,

		Suffix:          c.suffix,
		FixedKey:        c.fixedKey,
		Version:         versions[c.version],
		PrefixReplace:   c.replace,
		PassQueryString: c.passQuery,
		StorageClass:    c.storageClass,
		PassHeaders:     slices.Clone(c.headers.raw.pass),
		IgnoreHeaders:   slices.Clone(c.headers.raw.ignore),
		CustomHeaders:   slices.Clone(c.headers.raw.custom),
		ResourceSyntax:  syntaxes[c.syntax],
	}
	r.Prefix, r.Suffix, r.FixedKey, r.Version, r.PrefixReplace = old.Prefix, old.Suffix, old.FixedKey, old.Version, old.PrefixReplace
	r.PassQueryString, r.StorageClass, r.PassHeaders, r.IgnoreHeaders = old.PassQueryString, old.StorageClass, old.PassHeaders, old.IgnoreHeaders
	r.CustomHeaders, r.ResourceSyntax = old.CustomHeaders, old.ResourceSyntax
	if c.ext == nil || c.ext.written.Redirect == nil || c.ext.written.Redirect.Code == 0 {
		r.RedirectCode = int(c.redirectCode)
	}
	if c.ext == nil {
		r.SourceURL = c.primary.raw
		if c.backup != nil {
			r.BackSourceURL = c.backup.raw
		}
	}
	return r
}

// Origins returns rule i's origin bases in canonical form (scheme and host
// lower-cased, default port dropped, path re-encoded, ending in "/"); backup
// is "" when the rule has none. Every URL of rule i starts with one of
// these. i must be in [0, Len()), like a slice index.
func (e *Engine) Origins(i int) (primary, backup string) {
	r := &e.compiled[i]
	if r.ext != nil {
		// The extended model: the first primary and the first backup.
		if x := r.ext; len(x.origins) > 0 {
			primary = x.origins[0].base
			if len(x.origins) > x.nPrimary {
				backup = x.origins[x.nPrimary].base
			}
		}
		return primary, backup
	}
	if r.backup != nil {
		backup = r.backup.base
	}
	return r.primary.base, backup
}
