package mirror

import (
	"fmt"
	"slices"
	"strings"
)

// Reachability, for Lint (docs/SEMANTICS.md §10): is every key a rule
// covers covered by an earlier rule, so that the rule never decides?
//
// A resource is described by its alternatives: sequences of literals with
// a gap, any run of characters, between each two. A wildcard a*b*c is one
// alternative, "a" gap "b" gap "c", with exactly its keys; an exact
// resource is one literal; a glob is one alternative per head, either
// exact (lit+head) or the superset lit+head, gap, suffix. An alternative
// without a gap is one key, and covers() says exactly which rule takes
// it. For one with gaps, wildcards decide exactly: a wildcard covers every
// key of the alternative exactly when it matches the alternative with its
// gaps as characters only a "*" can take; and if no single earlier
// wildcard covers the alternative, no set of them does (fill each gap with
// a long run of a character none of their literals holds: a pattern
// covering that key must span each run with a "*", so it covers every
// key of the alternative). Globs are not held to this: where one takes
// part, the rule is only tried on sample keys, and "may be" unreachable.

// reachability holds the rules' patterns and an index of them by literal
// prefix and suffix, so that a rule is checked against the few earlier
// rules that could cover it.
type reachability struct {
	e     *Engine
	pats  []pattern
	parts [][]string // a wildcard's literals between its "*"; nil for a glob
	byLit map[string]map[string][]int
}

func newReachability(e *Engine) *reachability {
	r := &reachability{e: e, pats: make([]pattern, len(e.compiled)), parts: make([][]string, len(e.compiled)),
		byLit: map[string]map[string][]int{}}
	globs := globCache{}
	for i := range e.compiled {
		c := &e.compiled[i]
		p := e.rulePattern(i, globs)
		r.pats[i] = p
		switch {
		case c.byPrefix:
			r.parts[i] = []string{c.resource, ""}
		case !r.glob(i):
			r.parts[i] = strings.Split(c.resource, "*")
		}
		m := r.byLit[p.lit]
		if m == nil {
			m = map[string][]int{}
			r.byLit[p.lit] = m
		}
		m[p.suffix] = append(m[p.suffix], i)
	}
	return r
}

func (r *reachability) glob(i int) bool { return syntaxes[r.e.compiled[i].syntax] == "glob" }

// alternatives of rule j: literals with a gap between each two.
func (r *reachability) alternatives(j int) [][]string {
	p := &r.pats[j]
	if r.parts[j] != nil {
		return [][]string{r.parts[j]}
	}
	alts := make([][]string, p.nlits())
	for i := range alts {
		if p.kind == patExact {
			alts[i] = []string{p.lit + p.head(i)}
		} else {
			alts[i] = []string{p.lit + p.head(i), p.suffix}
		}
	}
	return alts
}

// candidates calls visit for each rule before j whose literal prefix
// starts first and whose literal suffix ends last: the only rules that
// can cover a key or an alternative that starts and ends so.
func (r *reachability) candidates(first, last string, j int, visit func(i int)) {
	for n := 0; n <= len(first); n++ {
		m := r.byLit[first[:n]]
		if m == nil {
			continue
		}
		each := func(rules []int) {
			for _, i := range rules {
				if i >= j {
					break
				}
				// A rule with conditions does not take every key it
				// covers (docs/SEMANTICS.md §11).
				if r.e.compiled[i].cond == nil {
					visit(i)
				}
			}
		}
		if len(m) <= len(last)+1 {
			for suffix, rules := range m {
				if strings.HasSuffix(last, suffix) {
					each(rules)
				}
			}
			continue
		}
		for k := 0; k <= len(last); k++ {
			each(m[last[k:]])
		}
	}
}

// firstCover is the first rule before j that covers key, or -1.
func (r *reachability) firstCover(key string, j int) int {
	best := -1
	r.candidates(key, key, j, func(i int) {
		if (best < 0 || i < best) && r.pats[i].covers(key) {
			best = i
		}
	})
	return best
}

// sampleFillers are what the gaps of an alternative are filled with when
// a glob takes part.
var sampleFillers = []string{"", "a", "b", "x", "z", "A", "0", "1", "-", "_", ".", "é",
	"aa", "ab", "ba", "xx", "a0", "aaa", "abc", "x.y", "x/y", "a/b", "x/y/z", "a-1_b"}

// check adds a warning when no key can reach rule j, or may not.
func (r *reachability) check(j int, w *warnings) {
	if c := r.e.compiled[j].cond; c != nil && !c.on.missOnly() {
		return // it answers statuses no rule without conditions answers
	}
	var by []int
	maybe := false
	for _, alt := range r.alternatives(j) {
		if len(alt) == 1 {
			if keyReason(alt[0]) != "" {
				continue // no key has this form
			}
			i := r.firstCover(alt[0], j)
			if i < 0 {
				return
			}
			by = append(by, i)
			continue
		}
		best, text := -1, gapText(alt)
		r.candidates(alt[0], alt[len(alt)-1], j, func(i int) {
			if r.parts[i] != nil && (best < 0 || i < best) && starCovers(r.parts[i], text) {
				best = i
			}
		})
		if best >= 0 {
			by = append(by, best)
			continue
		}
		// No wildcard covers the alternative alone, so no set of
		// wildcards does: only a glob, among the coverers or as rule j,
		// leaves the question open.
		tried, globs := 0, r.glob(j)
		for _, fill := range sampleFillers {
			key := strings.Join(alt, fill)
			if keyReason(key) != "" || !r.pats[j].covers(key) {
				continue
			}
			i := r.firstCover(key, j)
			if i < 0 {
				return
			}
			tried++
			globs = globs || r.glob(i)
			by = append(by, i)
		}
		if tried == 0 || !globs {
			return
		}
		maybe = true
	}
	if len(by) == 0 {
		return // every alternative is an impossible key: not this check's business
	}
	slices.Sort(by)
	by = slices.Compact(by)
	names := make([]string, len(by))
	for k, i := range by {
		res := r.e.compiled[i].resource
		if r.e.compiled[i].byPrefix {
			res += "*"
		}
		names[k] = fmt.Sprintf("%s (%q)", w.at.path(i, ""), res)
	}
	verb := "covers"
	if len(by) > 1 {
		verb = "cover"
	}
	list := strings.Join(names, ", ")
	if maybe {
		w.add(j, "resource", fmt.Sprintf("may be unreachable: %s %s every key tried (with globs the check is not exact)", list, verb))
		return
	}
	w.add(j, "resource", fmt.Sprintf("no key can reach this rule: %s %s every key it covers", list, verb))
}

// gapText is an alternative with its gaps as NUL, which no resource
// holds: a character only a "*" can take.
func gapText(alt []string) string { return strings.Join(alt, "\x00") }

// starCovers reports whether the wildcard whose literals between "*" are
// parts covers every key of an alternative, given as its gapText. The
// wildcard is matched as wildcard.Match does: prefix, suffix, then each
// middle part at its first occurrence, which is exact for "*"-only
// patterns and linear in the text.
func starCovers(parts []string, text string) bool {
	if len(parts) == 1 {
		return text == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(text, first) {
		return false
	}
	text = text[len(first):]
	if !strings.HasSuffix(text, last) {
		return false
	}
	text = text[:len(text)-len(last)]
	for _, m := range parts[1 : len(parts)-1] {
		i := strings.Index(text, m)
		if i < 0 {
			return false
		}
		text = text[i+len(m):]
	}
	return true
}
