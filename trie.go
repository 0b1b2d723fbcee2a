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
	var groups []int // start of each group of keys sharing byte depth
	for i := range keys {
		if i == 0 || keys[i][depth] != keys[i-1][depth] {
			groups = append(groups, i)
		}
	}
	groups = append(groups, len(keys))
	nkids := len(groups) - 1
	if nkids > 0 {
		node.kids, node.nkids = t.alloc(nkids), uint16(nkids)
	}
	for g := 0; g < nkids; g++ {
		lo, hi := groups[g], groups[g+1]
		end := commonPrefixLen(keys[lo], keys[hi-1]) // > depth: they share byte depth
		kid := node.kids + int32(g)
		t.fill(kid, keys[lo:hi], vals[lo:hi], mins[lo:hi], end, keys[lo][depth:end])
		node.min = min(node.min, t.nodes[kid].min)
	}
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

// child returns n's child whose label starts with c, or -1.
func (t *radix) child(n *rnode, c byte) int32 {
	if n.nkids == 0 {
		return -1
	}
	i := bytes.IndexByte(t.first[n.kids:n.kids+int32(n.nkids)], c)
	if i < 0 {
		return -1
	}
	return n.kids + int32(i)
}

func (t *radix) label(n *rnode) []byte {
	return t.labels[n.label : n.label+uint32(n.llen)]
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
		exact int32
		stars []star
		cplx  []complexRule
	}
	byLit := map[string]*lit{}
	for i, p := range pats {
		if p.kind == patNone {
			continue
		}
		l := byLit[p.lit]
		if l == nil {
			l = &lit{exact: -1}
			byLit[p.lit] = l
		}
		switch p.kind {
		case patExact:
			if l.exact < 0 {
				l.exact = int32(i)
			}
		case patStar:
			l.stars = append(l.stars, star{reverse(p.suffix), int32(i)})
		case patComplex:
			l.cplx = append(l.cplx, complexRule{int32(i), p.m})
		}
	}
	lits := make([]string, 0, len(byLit))
	for s := range byLit {
		lits = append(lits, s)
	}
	slices.Sort(lits)
	var ix ruleIndex
	ix.entries = make([]entry, len(lits))
	vals := make([]int32, len(lits))
	mins := make([]int32, len(lits))
	for n, s := range lits {
		l := byLit[s]
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
			var keys []string
			var rules []int32
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
		vals[n], mins[n] = int32(n), lowest
	}
	ix.trie.build(lits, vals, mins)
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
		n = &t.nodes[k]
		lab := t.label(n)
		if len(key)-pos < len(lab) || key[pos:pos+len(lab)] != string(lab) {
			break
		}
		pos += len(lab)
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
		lab := t.label(n)
		if end-pos < len(lab) {
			break
		}
		for j, c := range lab {
			if key[end-1-j] != c {
				return best
			}
		}
		end -= len(lab)
	}
	return best
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
