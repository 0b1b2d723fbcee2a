package mirror

import (
	"fmt"
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
	kind   int
	lit    string  // every covered key starts with it
	suffix string  // every covered key ends with it, after lit
	m      matcher // patComplex: decides key[len(lit):]
	// crop is the length of the literal prefix as written, which a v2
	// rule's prefixReplace replaces (docs/SEMANTICS.md §4).
	crop int
}

// matcher decides the part of a key after its pattern's literal prefix.
type matcher interface {
	Match(rest string) bool
}

// resourcePattern compiles a rule's resource, or says why it is refused.
// bos holds it to BOS's one "*".
func resourcePattern(res, syntax string, bos bool) (pattern, string) {
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
			return pattern{kind: patExact, lit: res, crop: len(res)}, ""
		case stars == 1:
			return pattern{kind: patStar, lit: res[:first], suffix: res[first+1:], crop: first}, ""
		}
		w := newWildcard(res[first:])
		return pattern{kind: patComplex, lit: res[:first], suffix: w.last, m: w, crop: first}, ""
	case "glob":
		g, reason := compileGlob(res)
		if reason != "" {
			return pattern{}, reason
		}
		crop := strings.IndexAny(res, globMeta)
		if crop < 0 {
			crop = len(res)
		}
		if g.exact {
			return pattern{kind: patExact, lit: g.lit, crop: crop}, ""
		}
		return pattern{kind: patComplex, lit: g.lit, suffix: g.suffix, m: g.m, crop: crop}, ""
	}
	return pattern{}, fmt.Sprintf("resourceSyntax %q is not wildcard or glob", syntax)
}

// covers reports whether the pattern covers key; the index answers the
// same for all patterns at once.
func (p *pattern) covers(key string) bool {
	switch p.kind {
	case patExact:
		return key == p.lit
	case patStar:
		return len(key) >= len(p.lit)+len(p.suffix) && strings.HasPrefix(key, p.lit) && strings.HasSuffix(key, p.suffix)
	case patComplex:
		return strings.HasPrefix(key, p.lit) && p.m.Match(key[len(p.lit):])
	}
	return false
}

// overlaps reports, as BOS does, whether two BOS resources cover a common
// key. They have at most one "*", and p1*s1, p2*s2 share a key exactly
// when one prefix extends the other and one suffix extends the other: the
// key "longer prefix + longer suffix" is covered by both.
func overlaps(a, b *pattern) bool {
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
