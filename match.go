package mirror

import (
	"encoding/binary"
	"slices"
	"strings"
)

// The lookup (docs/SEMANTICS.md §3, "How the index works") is one walk of
// the key down the packed trie, checking at each node the rules whose
// literal prefix ends there; it is kept apart from the index's builders
// because it is the request path's first step and must allocate nothing.

// Match returns the index of the first rule, in rule order, that covers
// key, and ok false when none does. It walks the key through the index
// once and allocates nothing; what it costs is said in docs/SEMANTICS.md
// §3. Match does not judge the key; Resolve does.
//
// Rules with conditions (docs/SEMANTICS.md §11) are held to a GET miss
// with no headers and no Host: Match(key) is MatchRequest of
// &Request{Key: key}.
func (e *Engine) Match(key string) (rule int, ok bool) {
	var r int32
	if e.conds == 0 {
		r = e.index.lookup(key)
	} else {
		r = e.matchRequest(&Request{Key: key})
	}
	if r == noRule {
		return -1, false
	}
	return int(r), true
}

// MatchRequest returns the index of the first rule, in rule order, that
// covers req.Key and whose conditions (match, on) hold for req, and ok
// false when none does. It does not judge the request; Resolve does. It
// allocates nothing, and costs one walk of the index per rule that covers
// the key and whose conditions fail, plus one.
func (e *Engine) MatchRequest(req *Request) (rule int, ok bool) {
	r := e.matchRequest(req)
	if r == noRule {
		return -1, false
	}
	return int(r), true
}

// matchRequest is MatchRequest: the first covering rule whose conditions
// hold, trying the covering rules in order.
func (e *Engine) matchRequest(req *Request) int32 {
	miss := req.Status == 0 || req.Status == 404
	if e.conds == 0 {
		// No rule has a condition: every rule answers a miss only.
		if !miss {
			return noRule
		}
		return e.index.lookup(req.Key)
	}
	after := int32(-1)
	for {
		r := e.index.lookupFrom(req.Key, after)
		if r == noRule {
			return noRule
		}
		if c := e.compiled[r].cond; c == nil {
			if miss {
				return r
			}
		} else if c.holds(req) {
			return r
		}
		after = r
	}
}

// lookup returns the smallest index of a rule covering key, or noRule.
// It allocates nothing.
func (ix *ruleIndex) lookup(key string) int32 { return ix.lookupFrom(key, -1) }

// lookupFrom returns the smallest index greater than after of a rule
// covering key, or noRule. It allocates nothing.
func (ix *ruleIndex) lookupFrom(key string, after int32) int32 {
	best := int32(noRule)
	d := ix.trie.data
	off, pos := 0, 0
	for {
		rec := d[off:]
		flags := rec[0]
		llen, p := int(rec[1]), 2
		if flags&flLong != 0 {
			llen, p = int(binary.LittleEndian.Uint16(rec[1:])), 3
		}
		nkids := 0
		if flags&flKids != 0 {
			if int32(binary.LittleEndian.Uint32(rec[p+1:])) >= best {
				return best
			}
			nkids, p = int(rec[p])+1, p+5
		}
		if llen > 0 {
			// The first byte was matched by the parent's firsts.
			end := pos + llen
			if end > len(key) || key[pos+1:end] != string(rec[p:p+llen-1]) {
				return best
			}
			pos, p = end, p+llen-1
		}
		kind := flags & flKind
		if kind != ekNone {
			rule := int32(binary.LittleEndian.Uint32(rec[p:]))
			p += 4
			switch kind {
			case ekExact:
				if pos == len(key) && rule < best && rule > after {
					best = rule
				}
			case ekStar:
				n := int(binary.LittleEndian.Uint16(rec[p:]))
				if rule < best && rule > after && len(key)-pos >= n && key[len(key)-n:] == string(rec[p+2:p+2+n]) {
					best = rule
				}
				p += 2 + n
			case ekNoSlash:
				if rule < best && rule > after && strings.IndexByte(key[pos:], '/') < 0 {
					best = rule
				}
			case ekAny:
				if rule < best && rule > after {
					best = rule
				}
			case ekRef:
				best = ix.entryBest(uint32(rule), key, pos, best, after)
			}
		}
		if nkids == 0 || pos == len(key) {
			return best
		}
		firsts := rec[p : p+nkids]
		k := -1
		c := key[pos]
		for i, f := range firsts {
			if f == c {
				k = i
				break
			}
		}
		if k < 0 {
			return best
		}
		off = int(binary.LittleEndian.Uint32(rec[p+nkids+4*k:]))
	}
}

// entryBest checks the rules of an entry that is not inline: its exact
// rule, and the rules of its suffix trie.
func (ix *ruleIndex) entryBest(ref uint32, key string, pos int, best, after int32) int32 {
	en := &ix.entries[ref]
	if pos == len(key) && en.exact >= 0 {
		if r := ix.firstAfter(en.exact, en.sameLo, en.sameHi, after); r < best {
			best = r
		}
	}
	if en.suffixRoot >= 0 {
		best = ix.bestSuffix(en.suffixRoot, key, pos, best, after)
	}
	return best
}

// firstAfter returns the smallest rule greater than after among those
// sharing one pattern: first, and same[lo:hi] when there are several.
func (ix *ruleIndex) firstAfter(first, lo, hi, after int32) int32 {
	if first > after {
		return first
	}
	if lo == hi {
		return noRule
	}
	l := ix.same[lo:hi]
	j, _ := slices.BinarySearch(l, after+1)
	if j == len(l) {
		return noRule
	}
	return l[j]
}

// bestSuffix walks the reversed-suffix trie at root from the key's end,
// never into key[:pos] (the literal prefix already matched there, and a
// covered key holds its prefix and suffix side by side), and returns the
// smallest rule that covers the key, or best.
func (ix *ruleIndex) bestSuffix(root int32, key string, pos int, best, after int32) int32 {
	t := &ix.suffixes
	n := &t.nodes[root]
	end := len(key)
	for n.min < best {
		if n.val >= 0 {
			best = ix.tailBest(n.val, key[pos:], best, after)
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
func (ix *ruleIndex) tailBest(ti int32, rest string, best, after int32) int32 {
	tl := &ix.tails[ti]
	if tl.star >= 0 {
		if r := ix.firstAfter(tl.star, tl.sameLo, tl.sameHi, after); r < best {
			best = r
		}
	}
	for c := tl.cplxLo; c < tl.cplxHi; c++ {
		cx := &ix.complex[c]
		if cx.rule >= best {
			break
		}
		if cx.rule > after && cx.m.Match(rest) {
			return cx.rule
		}
	}
	return best
}
