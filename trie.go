package mirror

import (
	"encoding/binary"
	"math"
)

// packedTrie is the index's trie of literal prefixes, laid out for a walk
// that is bound by memory latency: one variable-length record per node, in
// one byte slice, in depth-first order. A record holds everything a step
// of the walk reads (the label, the entry, the children's first bytes and
// offsets), so a step costs about one cache miss where three separate
// arrays cost three. The entry of a literal whose rules are simple (an
// exact resource, one "lit*suffix", one glob ending in "*" or "**") is in
// the record itself; others point into the index's entries.
//
// A record:
//
//	flags     1 byte   entry kind (bits 0-2; 0: no entry), flKids, flLong
//	llen      1 byte, or 2 with flLong: the label's length
//	nkids     1 byte (nkids-1), with flKids only
//	min       4 bytes, with flKids only: the smallest rule index in the
//	          subtree, which the walk prunes on (a leaf's is its entry's
//	          rule, which the entry check compares anyway)
//	label     the label but its first byte, which the parent's firsts
//	          hold (the root's label is empty)
//	entry     kind-dependent: a rule (4 bytes), for ekStar also the
//	          suffix's length (2) and bytes; for ekRef an entries index (4)
//	firsts    nkids bytes, sorted, with flKids only
//	offsets   nkids × 4 bytes, the children's records, with flKids only
//
// Most records are leaves, 7 bytes and a label: a trie of 100,000 tenants'
// rules takes about 100 bytes a rule.
type packedTrie struct {
	data []byte
}

// Entry kinds.
const (
	ekNone    = iota
	ekExact   // the key ends here
	ekStar    // the key ends with suffix, after this node
	ekNoSlash // the rest of the key holds no "/"
	ekAny     // any rest
	ekRef     // index.entries[ref]
)

// Record flags, above the entry kind.
const (
	flKind = 0x07
	flKids = 0x08 // the node has children: nkids, min, firsts, offsets
	flLong = 0x10 // the label's length takes 2 bytes
)

// recordHeader bounds a record's fixed part: flags, a long label's
// length, nkids and min.
const recordHeader = 8

// noRule is the index's "no rule" answer: larger than any rule index, it
// is also the smallest rule of a subtree that has none, so that the walks
// prune on it as on any rule.
const noRule = math.MaxInt32

// packedEntry is a literal's entry, as the build writes it.
type packedEntry struct {
	kind   uint8
	rule   int32  // ekExact, ekStar, ekNoSlash, ekAny; ekRef: the entries index
	suffix string // ekStar
	min    int32  // smallest rule of the entry
}

// trieItem is one literal of one rule while the trie is built. The build
// is a most-significant-byte-first radix sort that writes the records as
// it goes: each node buckets its items by the byte after its path, then
// builds a child from each bucket. The items hold no pointers (the
// literals are in one arena), so that the garbage collector neither scans
// them nor puts a barrier on each move; cache holds lit[cpos:cpos+8], so
// that a pass reads the items one after the other instead of chasing each
// literal's bytes, a cache miss each once the items are reordered.
type trieItem struct {
	cache uint64 // lit[cpos:cpos+8], big-endian, zero-padded
	off   uint32 // the literal is arena[off : off+n]
	n     uint16
	cpos  int16
	rule  int32
	b     byte // the byte the current node buckets on
	// alone is the literal's entry kind if this item is its only one and
	// that can be told without reading the rule's pattern (ekNone: it
	// can not).
	alone uint8
}

// maxArena bounds the literals' total length and the trie's size: their
// offsets are 32 bits.
const maxArena = math.MaxUint32

// trieBuilder writes a packed trie.
type trieBuilder struct {
	arena []byte // the items' literals
	data  []byte
	runs  []int32 // scratch: a stack of the runs of the nodes being built
	// entry works out the entry of one literal from its items, in any
	// order (it may reorder them).
	entry func(items []trieItem) packedEntry
}

// lit returns an item's literal.
func (b *trieBuilder) lit(it *trieItem) []byte {
	return b.arena[it.off : it.off+uint32(it.n)]
}

// byteAt returns the item's literal's byte i, which must exist,
// refreshing the cache when i is outside it.
func (b *trieBuilder) byteAt(it *trieItem, i int) byte {
	o := i - int(it.cpos)
	if o < 0 || o >= 8 {
		lit := b.lit(it)[i:]
		var v uint64
		if len(lit) >= 8 {
			v = binary.BigEndian.Uint64(lit)
		} else {
			for j, c := range lit {
				v |= uint64(c) << (56 - 8*j)
			}
		}
		it.cache, it.cpos, o = v, int16(i), 0
	}
	return byte(it.cache >> (56 - 8*o))
}

// build writes the trie of the items' literals, which are in arena. items
// and tmp (as long) are scratch space, left in any order; size is an upper
// bound of the trie's size (the sum of nodeSizeBound), so that the buffer
// never grows.
func (b *trieBuilder) build(items, tmp []trieItem, size int) packedTrie {
	for i := range items {
		items[i].cpos = -8 // nothing cached
	}
	b.data = make([]byte, 0, size)
	b.node(items, tmp, 0, 0)
	return packedTrie{data: append([]byte(nil), b.data...)} // no spare capacity
}

// nodeSizeBound bounds what one literal adds to the trie: at most two
// nodes (its own and a branch), each with a header and its first byte and
// offset in its parent, its label bytes and an entry with a suffix.
func nodeSizeBound(litLen int, suffix string) int {
	return 2*(recordHeader+5) + litLen + 10 + len(suffix)
}

// node writes the record of the node whose path is the items' common
// prefix lit[:end], reached by the label lit[start:end], then its
// children's records; it returns the record's offset and the smallest
// rule below it. tmp is as long as items.
func (b *trieBuilder) node(items, tmp []trieItem, start, end int) (int, int32) {
	var label []byte
	if end > start {
		label = b.lit(&items[0])[start:end]
	}
	// One pass puts the items whose literal is the path itself, which
	// make the entry, first, and reads the others' next byte.
	k := 0
	for i := range items {
		it := &items[i]
		if int(it.n) == end {
			items[i], items[k] = items[k], items[i]
			k++
			continue
		}
		it.b = b.byteAt(it, end)
	}
	ent := packedEntry{min: noRule}
	if k > 0 {
		ent = b.entry(items[:k])
	}
	items, tmp = b.bucket(items[k:], tmp[k:])
	base := len(b.runs) // b.runs[base:] are this node's runs' starts
	for i := range items {
		if i == 0 || items[i].b != items[i-1].b {
			b.runs = append(b.runs, int32(i))
		}
	}
	nkids := len(b.runs) - base
	b.runs = append(b.runs, int32(len(items)))

	off, minAt := b.record(&ent, label, nkids)
	for g := 0; g < nkids; g++ {
		b.data = append(b.data, items[b.runs[base+g]].b)
	}
	offsets := len(b.data)
	b.data = append(b.data, make([]byte, 4*nkids)...)
	minRule := ent.min
	for g := 0; g < nkids; g++ {
		lo, hi := b.runs[base+g], b.runs[base+g+1]
		run := items[lo:hi]
		var kid int
		var kidMin int32
		if len(run) == 1 {
			// A leaf, most nodes: its path is its literal.
			var e packedEntry
			if it := &run[0]; it.alone != ekNone {
				e = packedEntry{kind: it.alone, rule: it.rule, min: it.rule}
			} else {
				e = b.entry(run)
			}
			kid, _ = b.record(&e, b.lit(&run[0])[end:], 0)
			kidMin = e.min
		} else {
			kid, kidMin = b.node(run, tmp[lo:hi], end, b.commonEnd(run, end+1))
		}
		binary.LittleEndian.PutUint32(b.data[offsets+4*g:], uint32(kid))
		minRule = min(minRule, kidMin)
	}
	b.runs = b.runs[:base]
	if minAt >= 0 {
		binary.LittleEndian.PutUint32(b.data[minAt:], uint32(minRule))
	}
	return off, minRule
}

// record writes a record's header, label and entry, and returns its
// offset and where its min is (-1 for a leaf: the caller patches it);
// the children's first bytes and offsets come next.
func (b *trieBuilder) record(ent *packedEntry, label []byte, nkids int) (off, minAt int) {
	off, minAt = len(b.data), -1
	flags := ent.kind
	if nkids > 0 {
		flags |= flKids
	}
	if len(label) > 0xff {
		flags |= flLong
	}
	b.data = append(b.data, flags)
	if flags&flLong != 0 {
		b.data = binary.LittleEndian.AppendUint16(b.data, uint16(len(label)))
	} else {
		b.data = append(b.data, byte(len(label)))
	}
	if nkids > 0 {
		b.data = append(b.data, byte(nkids-1)) // at most 256 kids
		minAt = len(b.data)
		b.data = binary.LittleEndian.AppendUint32(b.data, uint32(ent.min))
	}
	if len(label) > 0 {
		b.data = append(b.data, label[1:]...)
	}
	if ent.kind != ekNone {
		b.data = binary.LittleEndian.AppendUint32(b.data, uint32(ent.rule))
		if ent.kind == ekStar {
			b.data = binary.LittleEndian.AppendUint16(b.data, uint16(len(ent.suffix)))
			b.data = append(b.data, ent.suffix...)
		}
	}
	return off, minAt
}

// bucket orders items by b and returns them ordered and the other,
// scratch, slice: an insertion sort for a few items, else a counting sort
// into tmp over the range of bytes they have.
func (b *trieBuilder) bucket(items, tmp []trieItem) (sorted, scratch []trieItem) {
	if len(items) <= 8 {
		for j := 1; j < len(items); j++ {
			for k := j; k > 0 && items[k].b < items[k-1].b; k-- {
				items[k], items[k-1] = items[k-1], items[k]
			}
		}
		return items, tmp
	}
	lo, hi := items[0].b, items[0].b
	for j := range items {
		lo, hi = min(lo, items[j].b), max(hi, items[j].b)
	}
	var counts [256]int32
	count := counts[:int(hi-lo)+1]
	for j := range items {
		count[items[j].b-lo]++
	}
	var at int32
	for c, n := range count {
		count[c] = at
		at += n
	}
	for j := range items {
		c := items[j].b - lo
		tmp[count[c]] = items[j]
		count[c]++
	}
	return tmp, items
}

// commonEnd returns the end of the longest common prefix of the run's
// literals, which share lit[:from].
func (b *trieBuilder) commonEnd(run []trieItem, from int) int {
	first := b.lit(&run[0])
	end := len(first)
	for i := 1; i < len(run) && end > from; i++ {
		it := &run[i]
		end = min(end, int(it.n))
		for p := from; p < end; p++ {
			if b.byteAt(it, p) != first[p] {
				end = p
			}
		}
	}
	return end
}
