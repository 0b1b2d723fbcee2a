package mirror

import (
	"bytes"
	"slices"
	"strings"
)

// radix is a path-compressed trie over byte strings, flattened into one
// slice of nodes that hold no pointers: the garbage collector never walks
// it, a node is 24 bytes, and a walk touches one node per edge.
//
// One radix can hold several tries (each build returns its root): the
// suffix tries of all trie nodes live in one radix.
type radix struct {
	nodes  []rnode
	first  []byte // first[n] is the first byte of nodes[n]'s label
	labels []byte // all labels, back to back
	groups []int  // scratch space of build, a stack shared by fill's calls
}

type rnode struct {
	label uint32 // offset of this node's edge label in labels
	llen  uint16 // length of the label (keys are at most 1024 bytes)
	nkids uint16 // children: nodes[kids : kids+nkids], sorted by first byte
	kids  int32
	val   int32 // payload of the string ending here, -1 when none
	min   int32 // smallest rule index in this subtree: the walk prunes on it
}

// build adds a trie over keys (sorted, distinct) with payload vals and
// subtree minimum mins, and returns its root.
func (t *radix) build(keys []string, vals, mins []int32) int32 {
	root := t.alloc(1)
	t.fill(root, keys, vals, mins, 0, "")
	return root
}

// reserve sizes the arrays for about n nodes and label bytes.
func (t *radix) reserve(nodes, labels int) {
	t.nodes = make([]rnode, 0, nodes)
	t.first = make([]byte, 0, nodes)
	t.labels = make([]byte, 0, labels)
}

// finish drops the scratch space and the arrays' spare capacity: an
// engine lives long, and what it keeps should be what it uses.
func (t *radix) finish() {
	t.groups = nil
	t.nodes = slices.Clone(t.nodes)
	t.first = slices.Clone(t.first)
	t.labels = slices.Clone(t.labels)
}

func (t *radix) alloc(n int) int32 {
	at := len(t.nodes)
	t.nodes = append(t.nodes, make([]rnode, n)...)
	t.first = append(t.first, make([]byte, n)...)
	return int32(at)
}

// fill makes node n the node of path keys[0][:depth], reached by label.
func (t *radix) fill(n int32, keys []string, vals, mins []int32, depth int, label string) {
	node := rnode{label: uint32(len(t.labels)), llen: uint16(len(label)), val: -1, min: noRule}
	t.labels = append(t.labels, label...)
	if label != "" {
		t.first[n] = label[0]
	}
	if len(keys) > 0 && len(keys[0]) == depth {
		node.val, node.min = vals[0], mins[0]
		keys, vals, mins = keys[1:], vals[1:], mins[1:]
	}
	// The start of each group of keys sharing byte depth, on the shared
	// stack: t.groups[base:] is this call's, deeper calls push above it.
	base := len(t.groups)
	for i := range keys {
		if i == 0 || keys[i][depth] != keys[i-1][depth] {
			t.groups = append(t.groups, i)
		}
	}
	t.groups = append(t.groups, len(keys))
	nkids := len(t.groups) - base - 1
	if nkids > 0 {
		node.kids, node.nkids = t.alloc(nkids), uint16(nkids)
	}
	for g := 0; g < nkids; g++ {
		lo, hi := t.groups[base+g], t.groups[base+g+1]
		end := commonPrefixLen(keys[lo], keys[hi-1]) // > depth: they share byte depth
		kid := node.kids + int32(g)
		t.fill(kid, keys[lo:hi], vals[lo:hi], mins[lo:hi], end, keys[lo][depth:end])
		node.min = min(node.min, t.nodes[kid].min)
	}
	t.groups = t.groups[:base]
	t.nodes[n] = node
}

// commonPrefixLen is the length of the longest common prefix of a and b.
func commonPrefixLen(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// child returns n's child whose label starts with c, or -1. Most nodes
// have a few children, where a plain loop beats bytealg's setup.
func (t *radix) child(n *rnode, c byte) int32 {
	kids := t.first[n.kids : n.kids+int32(n.nkids)]
	if len(kids) > 16 {
		if i := bytes.IndexByte(kids, c); i >= 0 {
			return n.kids + int32(i)
		}
		return -1
	}
	for i, k := range kids {
		if k == c {
			return n.kids + int32(i)
		}
	}
	return -1
}

// ruleIndex answers "which is the first rule that covers this key" by
// walking the key once through a trie of the rules' literal prefixes. At
// each trie node on the way it checks only the rules whose literal prefix
// is exactly that node's path:
//   - exact resources, when the key ends there;
//   - one-"*" resources lit*suffix, through a trie of their reversed
//     suffixes walked from the key's end, so that 10,000 "*.ext" rules
//     at one node cost one suffix walk, not 10,000 checks;
//   - the few multi-"*" and glob resources, in rule order.
//
// Every node keeps the smallest rule index below it, and the walk stops as
// soon as nothing below can beat the best rule found so far.
type ruleIndex struct {
	trie     radix   // over literal prefixes; val indexes entries
	entries  []entry // what the rules with one literal prefix need checked
	suffixes radix   // reversed suffixes of one-"*" rules; val is a rule index
	complex  []complexRule
}

type entry struct {
	exact          int32 // first rule whose resource is exactly this path, -1
	suffixRoot     int32 // root in suffixes, -1 when no one-"*" rule is here
	cplxLo, cplxHi int32 // complex[cplxLo:cplxHi], in rule order
}

type complexRule struct {
	rule int32
	m    matcher
}

// buildIndex indexes the valid patterns; pats[i] is rule i's.
func buildIndex(pats []pattern) ruleIndex {
	type star struct {
		rsuffix string // reversed
		rule    int32
	}
	type lit struct {
		text  string
		exact int32
		stars []star
		cplx  []complexRule
	}
	lits := make([]lit, 0, len(pats))
	byText := make(map[string]int32, len(pats))
	nstars, litBytes := 0, 0
	for i, p := range pats {
		if p.kind == patNone {
			continue
		}
		at, ok := byText[p.lit]
		if !ok {
			at = int32(len(lits))
			byText[p.lit] = at
			lits = append(lits, lit{text: p.lit, exact: -1})
			litBytes += len(p.lit)
		}
		l := &lits[at]
		switch p.kind {
		case patExact:
			if l.exact < 0 {
				l.exact = int32(i)
			}
		case patStar:
			l.stars = append(l.stars, star{reverse(p.suffix), int32(i)})
			nstars++
		case patComplex:
			l.cplx = append(l.cplx, complexRule{int32(i), p.m})
		}
	}
	// Sort small (text, index) pairs rather than the lits themselves.
	type ref struct {
		text string
		at   int32
	}
	order := make([]ref, len(lits))
	for i := range lits {
		order[i] = ref{lits[i].text, int32(i)}
	}
	slices.SortFunc(order, func(a, b ref) int { return strings.Compare(a.text, b.text) })
	var ix ruleIndex
	// A radix trie has fewer than two nodes per key.
	ix.trie.reserve(2*len(lits)+1, litBytes)
	ix.suffixes.reserve(2*nstars+len(lits), 0)
	ix.entries = make([]entry, len(lits))
	texts := make([]string, len(lits))
	vals := make([]int32, len(lits))
	mins := make([]int32, len(lits))
	var keys []string // scratch: one literal's distinct reversed suffixes
	var rules []int32
	for n, o := range order {
		l := &lits[o.at]
		en := entry{exact: l.exact, suffixRoot: -1, cplxLo: int32(len(ix.complex))}
		lowest := int32(noRule)
		if l.exact >= 0 {
			lowest = l.exact
		}
		if len(l.stars) > 0 {
			// Sorted by suffix, then rule: the first of equal suffixes wins.
			slices.SortFunc(l.stars, func(a, b star) int {
				if c := strings.Compare(a.rsuffix, b.rsuffix); c != 0 {
					return c
				}
				return int(a.rule - b.rule)
			})
			keys, rules = keys[:0], rules[:0]
			for k, st := range l.stars {
				if k > 0 && st.rsuffix == l.stars[k-1].rsuffix {
					continue
				}
				keys = append(keys, st.rsuffix)
				rules = append(rules, st.rule)
			}
			en.suffixRoot = ix.suffixes.build(keys, rules, rules)
			lowest = min(lowest, ix.suffixes.nodes[en.suffixRoot].min)
		}
		ix.complex = append(ix.complex, l.cplx...) // already in rule order
		en.cplxHi = int32(len(ix.complex))
		if len(l.cplx) > 0 {
			lowest = min(lowest, l.cplx[0].rule)
		}
		ix.entries[n] = en
		texts[n], vals[n], mins[n] = l.text, int32(n), lowest
	}
	ix.trie.build(texts, vals, mins)
	ix.trie.finish()
	ix.suffixes.finish()
	return ix
}

// lookup returns the smallest index of a rule covering key, or noRule.
// It allocates nothing.
func (ix *ruleIndex) lookup(key string) int32 {
	best := int32(noRule)
	t := &ix.trie
	n := &t.nodes[0]
	pos := 0
	for n.min < best {
		if n.val >= 0 {
			en := &ix.entries[n.val]
			if pos == len(key) && en.exact >= 0 && en.exact < best {
				best = en.exact
			}
			if en.suffixRoot >= 0 {
				best = ix.suffixes.bestSuffix(en.suffixRoot, key, pos, best)
			}
			for c := en.cplxLo; c < en.cplxHi; c++ {
				cx := &ix.complex[c]
				if cx.rule >= best {
					break
				}
				if cx.m.Match(key) {
					best = cx.rule
					break
				}
			}
		}
		if pos == len(key) {
			break
		}
		k := t.child(n, key[pos])
		if k < 0 {
			break
		}
		// The child's first byte matched: compare the rest of its label.
		n = &t.nodes[k]
		end := pos + int(n.llen)
		if end > len(key) || (n.llen > 1 && key[pos+1:end] != string(t.labels[n.label+1:n.label+uint32(n.llen)])) {
			break
		}
		pos = end
	}
	return best
}

// bestSuffix walks the reversed-suffix trie at root from the key's end,
// never into key[:pos] (the literal prefix already matched there, and a
// key must be at least as long as prefix and suffix together), and
// returns the smallest rule index whose suffix ends the key, or best.
func (t *radix) bestSuffix(root int32, key string, pos int, best int32) int32 {
	n := &t.nodes[root]
	end := len(key)
	for n.min < best {
		if n.val >= 0 && n.val < best {
			best = n.val
		}
		if end == pos {
			break
		}
		k := t.child(n, key[end-1])
		if k < 0 {
			break
		}
		n = &t.nodes[k]
		if end-pos < int(n.llen) {
			break
		}
		for j, c := range t.labels[n.label+1 : n.label+uint32(n.llen)] {
			if key[end-2-j] != c {
				return best
			}
		}
		end -= int(n.llen)
	}
	return best
}

func reverse(s string) string {
	if len(s) < 2 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := len(s) - 1; i >= 0; i-- {
		b.WriteByte(s[i])
	}
	return b.String()
}
