package mirror

import (
	"bytes"
	"slices"
)

// radix is a path-compressed trie over byte strings, flattened into one
// slice of nodes that hold no pointers: the garbage collector never walks
// it, a node is 24 bytes, and a walk touches one node per edge. It holds
// the index's suffix tries (the literal prefixes are in the packed trie of
// trie.go): one radix holds them all, and each build returns a root.
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
