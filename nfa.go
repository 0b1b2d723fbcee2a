package mirror

import (
	"math/bits"
	"slices"
	"unicode/utf8"
)

// program is a glob's tree (glob.go) as a Thompson automaton, simulated
// over the key one character at a time with a bit set of live states: the
// cost is at most len(key) × len(program) bit operations, and no key can
// make it backtrack.
//
// Every instruction that does not consume a character jumps forward
// (to a higher pc), so one ascending pass over the live set closes it.
type program struct {
	insts   []inst
	classes []class
	targets []uint16 // the jump lists of the splits
}

type inst struct {
	op  uint8
	sep bool   // opStar: stops at "/"
	n   uint16 // opSplit: number of targets
	arg uint32 // opRune: the rune; opClass: class index; opJump: target; opSplit: first target
}

const (
	opMatch  = iota // the key is covered when this state is live at its end
	opRune          // one character, this rune
	opSingle        // one character but "/" ("?")
	opClass         // one character of a class ("[...]")
	opStar          // any characters, but "/" when sep; then on
	opSplit         // each of the targets
	opJump          // the target
)

// class is "[lo-hi]" or "[set]", negated when not. Like gobwas's, it
// matches "/" like any other character.
type class struct {
	not    bool
	lo, hi rune
	set    []rune // sorted; nil for a range
}

func (c *class) has(r rune) bool {
	in := c.lo <= r && r <= c.hi
	if c.set != nil {
		_, in = slices.BinarySearch(c.set, r)
	}
	return in != c.not
}

// maxInsts bounds a program; a 1024-byte glob needs about 2,100.
const maxInsts = 4096

// compileProgram turns the nodes of a sequence into a program.
func compileProgram(nodes []*gnode) *program {
	p := &program{}
	for _, n := range nodes {
		p.emit(n)
	}
	p.insts = append(p.insts, inst{op: opMatch})
	return p
}

func (p *program) emit(n *gnode) {
	switch n.kind {
	case gText:
		for _, r := range n.text {
			p.insts = append(p.insts, inst{op: opRune, arg: uint32(r)})
		}
	case gStar:
		p.insts = append(p.insts, inst{op: opStar, sep: n.sep})
	case gSingle:
		p.insts = append(p.insts, inst{op: opSingle})
	case gRange, gSet:
		p.insts = append(p.insts, inst{op: opClass, arg: uint32(len(p.classes))})
		p.classes = append(p.classes, class{not: n.not, lo: n.lo, hi: n.hi, set: n.set})
	case gSeq:
		for _, k := range n.kids {
			p.emit(k)
		}
	case gAlt:
		first := len(p.targets)
		p.insts = append(p.insts, inst{op: opSplit, n: uint16(len(n.kids)), arg: uint32(first)})
		p.targets = append(p.targets, make([]uint16, len(n.kids))...)
		var jumps []int
		for i, k := range n.kids {
			p.targets[first+i] = uint16(len(p.insts))
			if k.kind == gVoid {
				jumps = append(jumps, -1-first-i) // a target to patch, not a jump
				continue
			}
			p.emit(k)
			jumps = append(jumps, len(p.insts))
			p.insts = append(p.insts, inst{op: opJump})
		}
		end := uint32(len(p.insts))
		for _, j := range jumps {
			if j < 0 {
				p.targets[-1-j] = uint16(end)
			} else {
				p.insts[j].arg = end
			}
		}
	}
}

// setWords is the size of a live set of the largest program.
const setWords = maxInsts / 64

// Match reports whether the program covers s, the key after the literal
// prefix the index has already matched.
func (p *program) Match(s string) bool {
	var a, b [setWords]uint64
	nw := (len(p.insts) + 63) / 64
	cur, next := a[:nw], b[:nw]
	cur[0] = 1
	p.close(cur)
	for len(s) > 0 {
		r, w := utf8.DecodeRuneInString(s)
		lit := r // what a literal rune compares with: an invalid byte is no rune
		if r == utf8.RuneError && w == 1 {
			lit = -1
		}
		s = s[w:]
		clear(next)
		live := false
		for wi, word := range cur {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &= word - 1
				pc := wi*64 + b
				in := &p.insts[pc]
				to := -1
				switch in.op {
				case opRune:
					if lit == rune(in.arg) {
						to = pc + 1
					}
				case opSingle:
					if r != '/' {
						to = pc + 1
					}
				case opClass:
					if p.classes[in.arg].has(r) {
						to = pc + 1
					}
				case opStar:
					if !in.sep || r != '/' {
						to = pc
					}
				}
				if to >= 0 {
					next[to>>6] |= 1 << (to & 63)
					live = true
				}
			}
		}
		if !live {
			return false
		}
		p.close(next)
		cur, next = next, cur
	}
	end := len(p.insts) - 1
	return cur[end>>6]&(1<<(end&63)) != 0
}

// close adds to set every state reachable from it without consuming a
// character. The jumps all go forward, so one ascending pass suffices.
func (p *program) close(set []uint64) {
	for wi := range set {
		done := uint64(0)
		for {
			word := set[wi] &^ done
			if word == 0 {
				break
			}
			b := bits.TrailingZeros64(word)
			done |= 1 << b
			pc := wi*64 + b
			switch in := &p.insts[pc]; in.op {
			case opSplit:
				for _, t := range p.targets[in.arg : in.arg+uint32(in.n)] {
					set[t>>6] |= 1 << (t & 63)
				}
			case opJump:
				set[in.arg>>6] |= 1 << (in.arg & 63)
			case opStar:
				set[(pc+1)>>6] |= 1 << ((pc + 1) & 63)
			}
		}
	}
}
