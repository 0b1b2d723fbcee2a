package mirror

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A resource (docs/SEMANTICS.md §3) taken apart for the index: the literal
// every covered key starts with, which the trie walks on; the literal
// every covered key ends with, which the suffix tries walk on; and, when
// those two do not decide, a matcher for what lies between.

// Pattern kinds, by how the index checks them.
const (
	patNone    = iota // invalid resource: never indexed
	patExact          // the key equals lit
	patStar           // lit*suffix: one "*" (wildcard syntax)
	patComplex        // several "*", or a glob: lit, suffix and m decide
)

// pattern is a compiled resource.
type pattern struct {
	kind uint8
	// lit is the literal prefix as written: every covered key starts
	// with it, and it is what a v2 rule's prefixReplace replaces
	// (docs/SEMANTICS.md §4).
	lit string
	// heads, when set, are the literals a glob's leading "{a,b}" groups
	// were expanded to: a covered key goes on with one of them, and the
	// index walks on lit+head. An exact pattern covers exactly the
	// lit+heads.
	heads  []string
	suffix string  // every covered key ends with it, after its literal
	m      matcher // patComplex: decides the key after its literal
}

// nlits is the number of literals the index walks on for the pattern.
func (p *pattern) nlits() int { return max(1, len(p.heads)) }

// head returns the pattern's head i ("" when it has none).
func (p *pattern) head(i int) string {
	if len(p.heads) == 0 {
		return ""
	}
	return p.heads[i]
}

// globCache shares compiled glob rests between the rules of one Compile.
type globCache map[globKey]globEntry

type globKey struct {
	rest  string
	start bool
}

type globEntry struct {
	g      *globRest
	reason string
}

// matcher decides the part of a key after its pattern's literal prefix.
type matcher interface {
	Match(rest string) bool
}

// resourcePattern compiles a rule's resource, or says why it is refused.
// bos holds it to BOS's one "*".
func resourcePattern(res, syntax string, bos bool) (pattern, string) {
	return compilePattern(res, syntax, bos, nil)
}

// compilePattern is resourcePattern with a cache of glob rests (nil: none).
func compilePattern(res, syntax string, bos bool, cache globCache) (pattern, string) {
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
	switch syntax {
	case "", "wildcard":
		stars := strings.Count(res, "*")
		if bos && stars > 1 {
			return pattern{}, fmt.Sprintf("has %d \"*\", BOS allows one", stars)
		}
		first := strings.IndexByte(res, '*')
		switch {
		case first < 0:
			return pattern{kind: patExact, lit: res}, ""
		case stars == 1:
			return pattern{kind: patStar, lit: res[:first], suffix: res[first+1:]}, ""
		}
		w := newWildcard(res[first:])
		return pattern{kind: patComplex, lit: res[:first], suffix: w.last, m: w}, ""
	case "glob":
		crop := indexGlobMeta(res)
		if crop < 0 {
			return pattern{kind: patExact, lit: res}, ""
		}
		key := globKey{res[crop:], crop == 0 || res[crop-1] == '/'}
		e, ok := cache[key]
		if !ok {
			e.g, e.reason = compileGlobRest(key.rest, key.start)
			if cache != nil {
				cache[key] = e
			}
		}
		if e.reason != "" {
			return pattern{}, e.reason
		}
		p := pattern{kind: patComplex, lit: res[:crop], suffix: e.g.suffix, m: e.g.m}
		if e.g.exact {
			p.kind = patExact
		}
		if len(e.g.heads) > 1 || e.g.heads[0] != "" {
			p.heads = e.g.heads // shared by the rules with this rest
		}
		return p, ""
	}
	return pattern{}, fmt.Sprintf("resourceSyntax %q is not wildcard or glob", syntax)
}

// globRest is a glob from its first metacharacter on: what a rule's
// literal prefix is followed by. Rules whose globs differ only in their
// literal prefix (tenant000123/{images,static}/*.png,
// tenant000124/{images,static}/*.png, …) share one, compiled once.
type globRest struct {
	// heads are the literal texts that may come right after the literal
	// prefix: leading "{a,b}" groups of plain text are expanded here, so
	// that the index walks them as literal prefixes. [""] when none.
	heads  []string
	suffix string  // the literal every covered key ends with, after a head
	exact  bool    // nothing follows a head: the glob is a set of literals
	m      matcher // decides what follows a head
}

// compileGlobRest compiles the part of a glob from its first
// metacharacter on. start says whether that part begins a path segment
// (the literal prefix before it is empty or ends with "/"), which decides
// gobwas's globstar rewrite.
func compileGlobRest(rest string, start bool) (*globRest, string) {
	if _, err := globCompiler.Compile(rest); err != nil {
		return nil, "glob does not compile: " + err.Error()
	}
	root, stars, err := parseGlob(rest)
	if err != nil {
		return nil, "glob does not compile: " + err.Error()
	}
	if stars > maxGlobStars {
		return nil, fmt.Sprintf("glob has %d wildcards (runs of \"*\"), more than %d", stars, maxGlobStars)
	}
	if reason := globstarReason(rest, start); reason != "" {
		return nil, reason
	}
	root, _ = globstar(root, start)
	body := []*gnode{root}
	if root.kind == gSeq {
		body = root.kids
	}
	g := &globRest{heads: []string{""}}
	for len(body) > 0 {
		next, ok := expandHeads(g.heads, body[0])
		if !ok {
			break
		}
		g.heads, body = next, body[1:]
	}
	slices.Sort(g.heads)
	g.heads = slices.Compact(g.heads)
	if len(body) == 0 {
		g.exact = true
		return g, ""
	}
	if last := body[len(body)-1]; last.kind == gText && len(body) > 1 {
		g.suffix = last.text
	}
	if g.m = fastMatcher(body); g.m == nil {
		p := compileProgram(body)
		if len(p.insts) > maxInsts {
			return nil, "glob is too complex to match in bounded time"
		}
		g.m = p
	}
	return g, ""
}

// fastMatcher returns a matcher for the common shapes of what follows a
// glob's literal prefix, which need no automaton: a star ("*" or "**")
// alone, or followed by a literal, or by a group of literal alternatives
// ("*{.jpg,.png,}"). nil for any other shape.
func fastMatcher(body []*gnode) matcher {
	if len(body) == 0 || len(body) > 2 || body[0].kind != gStar {
		return nil
	}
	sep := body[0].sep
	tails := []string{""}
	if len(body) == 2 {
		var ok bool
		if tails, ok = expandHeads([]string{""}, body[1]); !ok {
			return nil
		}
	}
	// X*(t1|…|"") is X* when X covers every ti.
	if slices.Contains(tails, "") && (!sep || !slices.ContainsFunc(tails, func(t string) bool { return strings.Contains(t, "/") })) {
		tails = []string{""}
	}
	switch {
	case len(tails) == 1 && tails[0] == "" && sep:
		return noSlash{}
	case len(tails) == 1 && tails[0] == "":
		return anyRest{}
	}
	return &starThen{sep: sep, tails: tails}
}

// covers reports whether the pattern covers key; the index answers the
// same for all patterns at once.
func (p *pattern) covers(key string) bool {
	if !strings.HasPrefix(key, p.lit) {
		return false
	}
	for i := range p.nlits() {
		rest, ok := strings.CutPrefix(key[len(p.lit):], p.head(i))
		if !ok {
			continue
		}
		switch p.kind {
		case patExact:
			if rest == "" {
				return true
			}
		case patStar:
			if strings.HasSuffix(rest, p.suffix) {
				return true
			}
		case patComplex:
			if p.m.Match(rest) {
				return true
			}
		}
	}
	return false
}

// indexGlobMeta returns the index of the first of the characters that end
// a glob's literal prefix as written, `*?[{\` (the v2 crop of
// docs/SEMANTICS.md §4), or -1.
func indexGlobMeta(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '{', '\\':
			return i
		}
	}
	return -1
}

// overlaps reports, as BOS does, whether two BOS resources cover a common
// key. They are wildcards (one literal prefix each) with at most one "*", and p1*s1, p2*s2 share a key exactly
// when one prefix extends the other and one suffix extends the other: the
// key "longer prefix + longer suffix" is covered by both.
func overlaps(a, b *pattern) bool {
	al, bl := a.lit, b.lit
	switch {
	case a.kind == patExact && b.kind == patExact:
		return al == bl
	case a.kind == patExact:
		return b.covers(al)
	case b.kind == patExact:
		return a.covers(bl)
	}
	return (strings.HasPrefix(al, bl) || strings.HasPrefix(bl, al)) &&
		(strings.HasSuffix(a.suffix, b.suffix) || strings.HasSuffix(b.suffix, a.suffix))
}

// wildcard matches the part after the literal prefix of a resource with
// several "*", each covering any run of bytes: "*mid*...*last". Each
// middle part is taken at its first occurrence, left to right, which is
// exact for "*"-only patterns and linear in the key.
type wildcard struct {
	last   string   // text after the last "*"
	middle []string // the non-empty literal parts between
	minLen int
}

func newWildcard(rest string) *wildcard {
	parts := strings.Split(rest, "*") // parts[0] is "": rest starts with "*"
	w := &wildcard{last: parts[len(parts)-1], minLen: len(rest) - strings.Count(rest, "*")}
	for _, p := range parts[1 : len(parts)-1] {
		if p != "" {
			w.middle = append(w.middle, p)
		}
	}
	return w
}

func (w *wildcard) Match(s string) bool {
	if len(s) < w.minLen || !strings.HasSuffix(s, w.last) {
		return false
	}
	s = s[:len(s)-len(w.last)]
	for _, m := range w.middle {
		i := strings.Index(s, m)
		if i < 0 {
			return false
		}
		s = s[i+len(m):]
	}
	return true
}

// noSlash is "*" at the end of a glob: what is left holds no "/".
type noSlash struct{}

func (noSlash) Match(s string) bool { return strings.IndexByte(s, '/') < 0 }

// anyRest is "**" at the end of a glob: anything.
type anyRest struct{}

func (anyRest) Match(string) bool { return true }

// starThen is a star followed by one of some literals: "*.jpg",
// "**{.css,.js}". (A literal is matched byte for byte; in a key, a valid
// UTF-8 literal can only start where a character does.)
type starThen struct {
	sep   bool
	tails []string
}

func (m *starThen) Match(s string) bool {
	for _, t := range m.tails {
		if strings.HasSuffix(s, t) && (!m.sep || strings.IndexByte(s[:len(s)-len(t)], '/') < 0) {
			return true
		}
	}
	return false
}
