package mirror

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gobwas/glob"
	"github.com/gobwas/glob/syntax"
)

// Glob resources (docs/SEMANTICS.md §3) mean exactly what
// github.com/gobwas/glob v1.1.0 says, compiled with "/" as the separator
// and globstar on. gobwas matches by backtracking, which takes seconds on
// a hostile key ("*a*a*a[a]" on 1 KB of "a": 16 s), so the engine reads
// the pattern with gobwas's own lexer, rebuilds the tree gobwas's parser
// builds (the same simplification, the same globstar rewrite), and runs
// that tree as an automaton (nfa.go) in time linear in key × pattern.
// gobwas itself only decides which patterns compile. This file reads a
// glob into its tree and nothing more, so that the automaton and the
// resource patterns (pattern.go, which takes a glob apart into literals
// and a matcher) build on the tree without being called back.

// globCompiler is the syntax of docs/SEMANTICS.md §3.
var globCompiler = glob.Compiler{Separators: []rune{'/'}, Globstar: true}

// maxGlobStars bounds the wildcards of a glob: runs of unescaped "*"
// outside "[...]", "**" counting once.
const maxGlobStars = 3

// gnode is a node of a glob's tree, as gobwas builds it.
type gnode struct {
	kind   uint8
	text   string   // gText
	sep    bool     // gStar: stops at "/" ("*"); false for "**"
	not    bool     // gRange, gSet: negated class
	lo, hi rune     // gRange
	set    []rune   // gSet, sorted
	kids   []*gnode // gSeq, gAlt
}

const (
	gVoid   = iota // the empty string: an empty alternative, "{}"
	gText          // a literal, escapes resolved
	gStar          // "*" or "**"
	gSingle        // "?": one character but "/"
	gRange         // "[a-z]", "[!a-z]": one character
	gSet           // "[abc]", "[!abc]": one character
	gSeq           // one after the other
	gAlt           // one of
)

// maxGlobHeads bounds the literal prefixes one glob expands into.
const maxGlobHeads = 16

// expandHeads appends a literal, or a group of literal alternatives, to
// every head, while the heads stay at most maxGlobHeads.
func expandHeads(heads []string, n *gnode) ([]string, bool) {
	var alts []string
	switch n.kind {
	case gText:
		alts = []string{n.text}
	case gAlt:
		for _, k := range n.kids {
			switch k.kind {
			case gText:
				alts = append(alts, k.text)
			case gVoid:
				alts = append(alts, "")
			default:
				return nil, false
			}
		}
	default:
		return nil, false
	}
	if len(heads)*len(alts) > maxGlobHeads {
		return nil, false
	}
	out := make([]string, 0, len(heads)*len(alts))
	for _, h := range heads {
		for _, a := range alts {
			out = append(out, h+a)
		}
	}
	return out, true
}

// globstarReason refuses a "**" that is not a whole path segment (not
// after the start or a "/", or not before a "/" or the end: "a**/b",
// "a/**b", "***") or that stands inside "{...}". gobwas gives those
// readings of its own, and its matcher is not even consistent about them:
// a "**" that stores a restart point drops the pending ones of an earlier
// "*" it should keep, so "*{*/,}/**[/]b" does not match "a//b" although
// its own tree says it should. The contract lets the engine refuse these
// globs, and it does, rather than give them another meaning.
//
// start says whether str begins a path segment: it is the part of a glob
// after its literal prefix, and that prefix is empty or ends with "/".
func globstarReason(str string, start bool) string {
	lex := syntax.NewLexer(str)
	prev := syntax.Token{Type: syntax.Text, Data: "/"}
	if !start {
		prev.Data = "x"
	}
	depth := 0
	pending := false // the last token was a "**" whose next token decides
	for {
		tok := lex.Next()
		if pending {
			if tok.Type != syntax.EOF && !(tok.Type == syntax.Text && strings.HasPrefix(tok.Data, "/")) {
				return `a "**" must be a whole path segment, followed by "/" or the end ("a/**/b", "a/**"); gobwas reads other "**" its own way`
			}
			pending = false
		}
		switch tok.Type {
		case syntax.EOF, syntax.Error:
			return ""
		case syntax.TermsOpen:
			depth++
		case syntax.TermsClose:
			depth--
		case syntax.Super:
			if depth > 0 {
				return `a "**" inside "{...}" is refused: gobwas decides whether it is a whole segment within its own branch; write the alternatives out`
			}
			if !(prev.Type == syntax.Text && strings.HasSuffix(prev.Data, "/")) {
				return `a "**" must be a whole path segment, after the start or "/" ("**/x", "a/**/b"); gobwas reads other "**" its own way`
			}
			pending = true
		}
		prev = tok
	}
}

// parseGlob builds the tree of a pattern gobwas compiles, with gobwas's
// lexer and the same stack-based parse as gobwas's Compiler.Compile, and
// counts its wildcards.
func parseGlob(str string) (*gnode, int, error) {
	type operator struct {
		terms bool // the group; false: one alternative of it
		index int
	}
	var (
		stack     []*gnode
		operators []operator
		stars     int
		lastStar  bool // the previous token was a star: a run counts once
	)
	lex := syntax.NewLexer(str)
	for {
		tok := lex.Next()
		isStar := tok.Type == syntax.Any || tok.Type == syntax.Super
		if isStar && !lastStar {
			stars++
		}
		lastStar = isStar
		switch tok.Type {
		case syntax.EOF:
			if len(operators) != 0 {
				return nil, 0, fmt.Errorf("unclosed {")
			}
			return simplify(&gnode{kind: gSeq, kids: stack}), stars, nil
		case syntax.Error:
			return nil, 0, fmt.Errorf("%s", tok.Data)
		case syntax.Single:
			stack = append(stack, &gnode{kind: gSingle})
		case syntax.Text:
			stack = append(stack, &gnode{kind: gText, text: tok.Data})
		case syntax.Any:
			stack = append(stack, &gnode{kind: gStar, sep: true})
		case syntax.Super:
			stack = append(stack, &gnode{kind: gStar})
		case syntax.RangeOpen:
			n, err := parseClass(lex)
			if err != nil {
				return nil, 0, err
			}
			stack = append(stack, n)
		case syntax.TermsOpen:
			operators = append(operators, operator{true, len(stack)}, operator{false, len(stack)})
		case syntax.TermSeparator:
			k := len(operators) - 1
			if k < 0 {
				return nil, 0, fmt.Errorf("unexpected ,")
			}
			x := operators[k]
			if !x.terms {
				operators = operators[:k]
			}
			if i := x.index; i == len(stack) {
				stack = append(stack, &gnode{kind: gVoid})
			} else {
				stack[i] = &gnode{kind: gSeq, kids: slices.Clone(stack[i:])}
				stack = stack[:i+1]
			}
			operators = append(operators, operator{false, len(stack)})
		case syntax.TermsClose:
			for {
				k := len(operators) - 1
				if k < 0 {
					return nil, 0, fmt.Errorf("unexpected }")
				}
				x := operators[k]
				operators = operators[:k]
				n := &gnode{kind: gSeq, kids: slices.Clone(stack[x.index:])}
				if x.terms {
					n.kind = gAlt
				}
				if x.index == len(stack) {
					stack = append(stack, n)
				} else {
					stack = stack[:x.index+1]
					stack[x.index] = n
				}
				if x.terms {
					break
				}
			}
		default:
			return nil, 0, fmt.Errorf("unexpected token %s", tok)
		}
	}
}

// parseClass reads a character class after its "[", as gobwas's
// parseRange does.
func parseClass(lex *syntax.Lexer) (*gnode, error) {
	n := &gnode{lo: -1, hi: -1}
	var chars []rune
	isSet := false
	for {
		tok := lex.Next()
		switch tok.Type {
		case syntax.EOF:
			return nil, fmt.Errorf("unclosed [")
		case syntax.Error:
			return nil, fmt.Errorf("%s", tok.Data)
		case syntax.Not:
			n.not = true
		case syntax.RangeLo:
			n.lo, _ = utf8.DecodeRuneInString(tok.Data)
		case syntax.RangeHi:
			n.hi, _ = utf8.DecodeRuneInString(tok.Data)
		case syntax.Text:
			chars, isSet = []rune(tok.Data), true
		case syntax.RangeClose:
			isRange := n.lo >= 0 && n.hi >= 0
			if isSet == isRange || (isRange && n.hi < n.lo) {
				return nil, fmt.Errorf("could not parse range")
			}
			if isRange {
				n.kind = gRange
				return n, nil
			}
			slices.Sort(chars)
			n.kind, n.set = gSet, slices.Compact(chars)
			return n, nil
		}
	}
}

// simplify is gobwas's simplify: sequences are flattened, voids dropped,
// adjacent literals merged and adjacent stars coalesced (to "**" when
// either is one); a sequence or group of one is that one, of none a void.
func simplify(n *gnode) *gnode {
	if n.kind != gSeq && n.kind != gAlt {
		return n
	}
	kids := make([]*gnode, 0, len(n.kids))
	for _, k := range n.kids {
		k = simplify(k)
		if n.kind == gAlt {
			kids = append(kids, k)
			continue
		}
		kids = appendFlat(kids, k)
	}
	switch len(kids) {
	case 0:
		return &gnode{kind: gVoid}
	case 1:
		return kids[0]
	}
	return &gnode{kind: n.kind, kids: kids}
}

func appendFlat(out []*gnode, k *gnode) []*gnode {
	switch k.kind {
	case gSeq:
		for _, c := range k.kids {
			out = appendFlat(out, c)
		}
		return out
	case gVoid:
		return out
	}
	if len(out) > 0 {
		prev := out[len(out)-1]
		switch {
		case k.kind == gText && prev.kind == gText:
			out[len(out)-1] = &gnode{kind: gText, text: prev.text + k.text}
			return out
		case k.kind == gStar && prev.kind == gStar:
			if prev.sep && !k.sep {
				out[len(out)-1] = k
			}
			return out
		}
	}
	return append(out, k)
}

// globstar is gobwas's globstar rewrite: a "**" that begins a segment and
// is followed by a literal starting with "/" becomes an optional run of
// segments, "{**/,}", so that "logs/**/x" covers "logs/x". start says
// whether n begins at a segment start; the result says whether it ends at
// one. The rewrite decides by gobwas's own rules, quirks included: "a**/b"
// and "{**,a}/b" keep "**" as any run of bytes, "x/*{}**/y" is rewritten.
func globstar(n *gnode, start bool) (*gnode, bool) {
	switch n.kind {
	case gAlt:
		end := true
		for i, c := range n.kids {
			var e bool
			n.kids[i], e = globstar(c, start)
			end = end && e
		}
		return n, end
	case gSeq:
		v := n.kids
		out := make([]*gnode, 0, len(v))
		prev := false // out ends with an optional run of segments
		for i := 0; i < len(v); i++ {
			c := v[i]
			if start && i+1 < len(v) && c.kind == gStar && !c.sep && v[i+1].kind == gText && v[i+1].text[0] == '/' {
				if !prev {
					out = append(out, &gnode{kind: gAlt, kids: []*gnode{
						{kind: gSeq, kids: []*gnode{c, {kind: gText, text: "/"}}},
						{kind: gVoid},
					}})
					prev = true
				}
				if rest := v[i+1].text[1:]; rest != "" {
					v[i+1] = &gnode{kind: gText, text: rest}
				} else {
					i++
				}
				continue
			}
			prev = false
			c, start = globstar(c, start)
			out = append(out, c)
		}
		if len(out) == 1 {
			return out[0], start
		}
		return &gnode{kind: gSeq, kids: out}, start
	case gText:
		r, _ := utf8.DecodeLastRuneInString(n.text)
		return n, r == '/'
	case gVoid:
		return n, start
	}
	return n, false
}
