package mirror

import (
	"cmp"
	"fmt"
	"slices"
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
	trie     packedTrie // literal prefixes, their simple entries inline
	entries  []refEntry // the other entries
	suffixes radix      // reversed literal suffixes; val indexes tails
	tails    []tail     // the rules at one literal prefix and suffix
	complex  []complexRule
	// same holds, for an exact or one-"*" pattern that several rules
	// share, all those rules in order: the first decides unless it has
	// conditions that do not hold (lookupFrom).
	same []int32
}

// refEntry is the entry of a literal whose rules a trie record can not
// decide alone (ekRef): its exact rule and its suffix trie.
type refEntry struct {
	exact      int32 // first rule whose resource is exactly this path, -1
	suffixRoot int32 // root in suffixes, -1 when only exact rules are here
	// same[sameLo:sameHi] are all the exact rules, when more than one.
	sameLo, sameHi int32
}

type tail struct {
	star           int32 // first one-"*" rule, -1
	cplxLo, cplxHi int32 // complex[cplxLo:cplxHi], in rule order
	// same[sameLo:sameHi] are all the one-"*" rules, when more than one.
	sameLo, sameHi int32
}

type complexRule struct {
	rule int32
	m    matcher
}

// buildIndex indexes the valid patterns; pats[i] is rule i's. It fails
// only when the literals add up to more than maxArena bytes.
func buildIndex(pats []pattern) (ruleIndex, error) {
	// n literals of total bytes, and a bound of the trie's size: offsets
	// in both are 32 bits.
	n, total, size := 0, 0, recordHeader
	for i := range pats {
		p := &pats[i]
		n += p.nlits()
		for h := range p.nlits() {
			litLen := len(p.lit) + len(p.head(h))
			total += litLen
			size += nodeSizeBound(litLen, p.suffix)
		}
	}
	if int64(size) > maxArena {
		return ruleIndex{}, fmt.Errorf("mirror: the rules' literal prefixes and suffixes add up to about %d bytes, more than an index holds (%d)", size, uint64(maxArena))
	}
	ib := indexBuilder{pats: pats}
	tb := trieBuilder{entry: ib.entry, arena: make([]byte, 0, total)}
	items := make([]trieItem, 0, n)
	for i := range pats {
		p := &pats[i]
		alone := aloneKind(p)
		for h := range p.nlits() {
			head := p.head(h)
			items = append(items, trieItem{off: uint32(len(tb.arena)), n: uint16(len(p.lit) + len(head)), rule: int32(i), alone: alone})
			tb.arena = append(append(tb.arena, p.lit...), head...)
		}
	}
	ix := &ib.ix
	ix.trie = tb.build(items, make([]trieItem, len(items)), size)
	ix.suffixes.finish()
	ix.entries = slices.Clip(ix.entries)
	ix.tails = slices.Clip(ix.tails)
	ix.complex = slices.Clip(ix.complex)
	ix.same = slices.Clip(ix.same)
	return *ix, nil
}

// indexBuilder works out the entries of the trie's literals.
type indexBuilder struct {
	ix   ruleIndex
	pats []pattern
	// Scratch space: one literal's distinct suffixes, reversed, their
	// tails and the first rule of each.
	keys        []string
	vals, tmins []int32
}

// entry works out the entry of one literal from its rules' items: inline
// when its rules are simple, else an entries index with the exact rule
// and a suffix trie.
func (b *indexBuilder) entry(items []trieItem) packedEntry {
	if len(items) == 1 && items[0].alone != ekNone {
		r := items[0].rule
		return packedEntry{kind: items[0].alone, rule: r, min: r}
	}
	pats := b.pats
	suffix := func(r int32) string {
		if pats[r].kind == patExact {
			return ""
		}
		return pats[r].suffix
	}
	// Exact rules first, then by reversed suffix, then in rule order.
	if len(items) > 1 {
		slices.SortFunc(items, func(x, y trieItem) int {
			if ex, ey := pats[x.rule].kind == patExact, pats[y.rule].kind == patExact; ex != ey {
				if ex {
					return -1
				}
				return 1
			}
			if c := compareReversed(suffix(x.rule), suffix(y.rule)); c != 0 {
				return c
			}
			return cmp.Compare(x.rule, y.rule)
		})
	}
	ix := &b.ix
	exact, lowest := int32(-1), int32(noRule)
	i := 0
	if pats[items[0].rule].kind == patExact {
		exact, lowest = items[0].rule, items[0].rule
	}
	for i < len(items) && pats[items[i].rule].kind == patExact {
		i++
	}
	var sameLo, sameHi int32
	if i > 1 {
		sameLo = int32(len(ix.same))
		for _, it := range items[:i] {
			ix.same = append(ix.same, it.rule)
		}
		sameHi = int32(len(ix.same))
	}
	if i == len(items) && i == 1 {
		return packedEntry{kind: ekExact, rule: exact, min: lowest}
	}
	if i == len(items) {
		ref := int32(len(ix.entries))
		ix.entries = append(ix.entries, refEntry{exact: exact, suffixRoot: -1, sameLo: sameLo, sameHi: sameHi})
		return packedEntry{kind: ekRef, rule: ref, min: lowest}
	}
	b.keys, b.vals, b.tmins = b.keys[:0], b.vals[:0], b.tmins[:0]
	firstTail, firstComplex := len(ix.tails), len(ix.complex)
	var sufs []string
	for i < len(items) {
		s := suffix(items[i].rule)
		t := tail{star: -1, cplxLo: int32(len(ix.complex))}
		first := items[i].rule
		nstar := 0
		for ; i < len(items) && suffix(items[i].rule) == s; i++ {
			r := items[i].rule
			if p := &pats[r]; p.kind == patStar {
				if t.star < 0 {
					t.star = r
				}
				nstar++
				if nstar == 2 {
					t.sameLo = int32(len(ix.same))
					ix.same = append(ix.same, t.star)
				}
				if nstar >= 2 {
					ix.same = append(ix.same, r)
					t.sameHi = int32(len(ix.same))
				}
			} else {
				ix.complex = append(ix.complex, complexRule{r, p.m})
			}
		}
		t.cplxHi = int32(len(ix.complex))
		sufs = append(sufs, s)
		b.vals = append(b.vals, int32(len(ix.tails)))
		b.tmins = append(b.tmins, first)
		ix.tails = append(ix.tails, t)
	}
	if pe := inlineEntry(exact, sufs, ix.tails[firstTail:], ix.complex[firstComplex:]); pe.kind != ekNone && sameHi == 0 {
		// What was noted for the suffix tries is not needed.
		ix.tails = ix.tails[:firstTail]
		ix.complex = ix.complex[:firstComplex]
		return pe
	}
	// Not simple: the rules go to the entries and the suffix tries.
	for _, s := range sufs {
		b.keys = append(b.keys, reverse(s))
	}
	en := refEntry{exact: exact, suffixRoot: ix.suffixes.build(b.keys, b.vals, b.tmins), sameLo: sameLo, sameHi: sameHi}
	ref := int32(len(ix.entries))
	ix.entries = append(ix.entries, en)
	return packedEntry{kind: ekRef, rule: ref, min: min(lowest, ix.suffixes.nodes[en.suffixRoot].min)}
}

// aloneKind is the inline entry kind of a literal that only p has, when
// the trie's record can decide it without a suffix: see inlineEntry.
func aloneKind(p *pattern) uint8 {
	switch p.kind {
	case patExact:
		return ekExact
	case patComplex:
		if p.suffix == "" {
			switch p.m.(type) {
			case noSlash:
				return ekNoSlash
			case anyRest:
				return ekAny
			}
		}
	}
	return ekNone
}

// compareReversed compares a and b read from their ends.
func compareReversed(a, b string) int {
	for i, j := len(a)-1, len(b)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if a[i] != b[j] {
			return cmp.Compare(a[i], b[j])
		}
	}
	return cmp.Compare(len(a), len(b))
}

// inlineEntry returns the inline entry of a literal whose rules are simple
// enough to be decided in the trie's record (kind ekNone when they are
// not): no exact rule, and one rule, "lit*suffix" or a glob ending in "*"
// or "**".
func inlineEntry(exact int32, suffixes []string, tails []tail, complex []complexRule) packedEntry {
	if exact >= 0 || len(tails) != 1 {
		return packedEntry{}
	}
	t := tails[0]
	switch {
	case t.star >= 0 && t.cplxLo == t.cplxHi && t.sameHi == t.sameLo:
		return packedEntry{kind: ekStar, rule: t.star, suffix: suffixes[0], min: t.star}
	case t.star < 0 && len(complex) == 1 && suffixes[0] == "":
		switch complex[0].m.(type) {
		case noSlash:
			return packedEntry{kind: ekNoSlash, rule: complex[0].rule, min: complex[0].rule}
		case anyRest:
			return packedEntry{kind: ekAny, rule: complex[0].rule, min: complex[0].rule}
		}
	}
	return packedEntry{}
}
