package mirror

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// ruleIndex answers "which is the first rule that covers this key" by
// walking the key once through a trie of the rules' literal prefixes
// (docs/SEMANTICS.md §3, "How the index works"). At each trie node on the
// way it looks only at the rules whose literal prefix is exactly that
// node's path:
//   - exact resources, when the key ends there;
//   - every other resource through a trie of the reversed literal
//     suffixes of the rules at that node, walked from the key's end. A
//     suffix node holds its one-"*" rules, decided by the walk alone, and
//     its several-"*" and glob rules, which run their matcher in rule
//     order until one covers the key.
//
// So 10,000 "*.extN" or "img/*/*.extN" rules at one node cost one suffix
// walk. What is left to check one by one are the several-"*" and glob
// rules that share both the literal prefix and the literal suffix the key
// has. Every node keeps the smallest rule index below it, and the walks
// stop as soon as nothing below can beat the best rule found so far.
type ruleIndex struct {
	trie     radix   // literal prefixes; val indexes entries
	entries  []entry // the rules at one literal prefix
	suffixes radix   // reversed literal suffixes; val indexes tails
	tails    []tail  // the rules at one literal prefix and suffix
	complex  []complexRule
}

type entry struct {
	exact      int32 // first rule whose resource is exactly this path, -1
	suffixRoot int32 // root in suffixes, -1 when only exact rules are here
}

type tail struct {
	star           int32 // first one-"*" rule, -1
	cplxLo, cplxHi int32 // complex[cplxLo:cplxHi], in rule order
}

type complexRule struct {
	rule int32
	m    matcher
}

// noRule is the index's "no rule" answer: larger than any rule index.
const noRule = math.MaxInt32

// buildIndex indexes the valid patterns; pats[i] is rule i's.
func buildIndex(pats []pattern) ruleIndex {
	// One sort puts every rule where the index needs it: by literal
	// prefix, exact rules first, then by reversed suffix, then rule order.
	type item struct {
		lit, rsuffix string
		rule         int32
		exact        bool
	}
	items := make([]item, 0, len(pats))
	lits, litBytes := 0, 0
	for i := range pats {
		p := &pats[i]
		if p.kind == patNone {
			continue
		}
		it := item{lit: p.lit, rule: int32(i), exact: p.kind == patExact}
		if !it.exact {
			it.rsuffix = reverse(p.suffix)
		}
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := strings.Compare(a.lit, b.lit); c != 0 {
			return c
		}
		if a.exact != b.exact {
			if a.exact {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.rsuffix, b.rsuffix); c != 0 {
			return c
		}
		return cmp.Compare(a.rule, b.rule)
	})
	for i := range items {
		if i == 0 || items[i].lit != items[i-1].lit {
			lits++
			litBytes += len(items[i].lit)
		}
	}
	var ix ruleIndex
	ix.trie.reserve(2*lits+1, litBytes) // a radix trie has fewer than two nodes per key
	ix.suffixes.reserve(2*(len(items)-lits)+lits, 0)
	ix.entries = make([]entry, 0, lits)
	texts := make([]string, 0, lits)
	mins := make([]int32, 0, lits)
	var keys []string // scratch: one literal's distinct reversed suffixes
	var vals, tmins []int32
	for i := 0; i < len(items); {
		lit := items[i].lit
		en := entry{exact: -1, suffixRoot: -1}
		lowest := int32(noRule)
		if items[i].exact {
			en.exact, lowest = items[i].rule, items[i].rule
		}
		for i < len(items) && items[i].lit == lit && items[i].exact {
			i++
		}
		keys, vals, tmins = keys[:0], vals[:0], tmins[:0]
		for i < len(items) && items[i].lit == lit {
			rs := items[i].rsuffix
			t := tail{star: -1, cplxLo: int32(len(ix.complex))}
			first := items[i].rule
			for ; i < len(items) && items[i].lit == lit && items[i].rsuffix == rs; i++ {
				r := items[i].rule
				if p := &pats[r]; p.kind == patStar {
					if t.star < 0 {
						t.star = r
					}
				} else {
					ix.complex = append(ix.complex, complexRule{r, p.m})
				}
			}
			t.cplxHi = int32(len(ix.complex))
			keys = append(keys, rs)
			vals = append(vals, int32(len(ix.tails)))
			tmins = append(tmins, first)
			ix.tails = append(ix.tails, t)
		}
		if len(keys) > 0 {
			en.suffixRoot = ix.suffixes.build(keys, vals, tmins)
			lowest = min(lowest, ix.suffixes.nodes[en.suffixRoot].min)
		}
		texts = append(texts, lit)
		mins = append(mins, lowest)
		ix.entries = append(ix.entries, en)
	}
	vals = make([]int32, len(texts))
	for i := range vals {
		vals[i] = int32(i)
	}
	ix.trie.build(texts, vals, mins)
	ix.trie.finish()
	ix.suffixes.finish()
	ix.tails = slices.Clip(ix.tails)
	ix.complex = slices.Clip(ix.complex)
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
				best = ix.bestSuffix(en.suffixRoot, key, pos, best)
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
// covered key holds its prefix and suffix side by side), and returns the
// smallest rule that covers the key, or best.
func (ix *ruleIndex) bestSuffix(root int32, key string, pos int, best int32) int32 {
	t := &ix.suffixes
	n := &t.nodes[root]
	end := len(key)
	for n.min < best {
		if n.val >= 0 {
			best = ix.tailBest(n.val, key[pos:], best)
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

// tailBest checks the rules of one (prefix, suffix) pair against rest,
// the key after the prefix.
func (ix *ruleIndex) tailBest(ti int32, rest string, best int32) int32 {
	tl := &ix.tails[ti]
	if tl.star >= 0 && tl.star < best {
		best = tl.star
	}
	for c := tl.cplxLo; c < tl.cplxHi; c++ {
		cx := &ix.complex[c]
		if cx.rule >= best {
			break
		}
		if cx.m.Match(rest) {
			return cx.rule
		}
	}
	return best
}
