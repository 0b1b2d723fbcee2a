package mirror

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gobwas/glob"
)

// Bounds on glob resources, so that no key can make matching slow.
//
// gobwas/glob backtracks. On a 1 KB key, 4 "*" take 110 ms and 3 take
// 0.2 ms, hence maxGlobStars. Its "{a,b}" alternatives multiply the
// backtracking: "*a*{a,a}{a,a}{a,a}{a,a}x*y" (3 stars, 16 alternatives)
// takes 3 s, and "*{a,a}...{a,a}x*y" with 18 groups takes 32 s. A group of
// alternatives means "any of these", so the engine expands them at compile
// time into at most maxGlobExpansions brace-free patterns and asks each in
// turn. Each one is then bounded like any glob with 3 stars, about 0.35 ms,
// and a whole rule stays within a few milliseconds.
const (
	maxGlobStars      = 3
	maxGlobExpansions = 16
)

// globCompiler is the syntax of SPEC §3: "*" and "?" stay within a path
// segment, "**" crosses segments, "**/" also matches zero segments.
var globCompiler = glob.Compiler{Separators: []rune{'/'}, Globstar: true}

// globMeta are the characters that end a glob's literal prefix.
const globMeta = `*?[{\`

// compileGlob checks a glob resource and returns its matcher, or why it
// is refused.
func compileGlob(res string) (matcher, string) {
	if n := countGlobStars(res); n > maxGlobStars {
		return nil, fmt.Sprintf("glob has %d \"*\" or \"**\", more than %d (matching would backtrack too long)", n, maxGlobStars)
	}
	g, err := globCompiler.Compile(res)
	if err != nil {
		return nil, "glob does not compile: " + err.Error()
	}
	if !strings.Contains(res, "{") {
		return g, ""
	}
	var x expander
	x.s = res
	alts, reason := x.seq(false)
	if reason != "" {
		return nil, reason
	}
	// The expansions replace the pattern even when they are one: it is
	// the brace-free form that is bounded.
	slices.Sort(alts)
	alts = slices.Compact(alts)
	any := make(anyGlob, len(alts))
	for i, a := range alts {
		if any[i], err = globCompiler.Compile(a); err != nil {
			return nil, fmt.Sprintf("glob alternative %q does not compile: %v", a, err)
		}
	}
	return any, ""
}

// anyGlob matches when one of its brace-free expansions does.
type anyGlob []*glob.Pattern

func (a anyGlob) Match(key string) bool {
	for _, g := range a {
		if g.Match(key) {
			return true
		}
	}
	return false
}

// expander expands a glob's "{a,b}" groups into brace-free patterns,
// copying escapes and character classes as they are.
type expander struct {
	s string
	i int
}

// seq expands text up to the end, or in a group up to its "," or "}".
func (x *expander) seq(inGroup bool) ([]string, string) {
	out := []string{""}
	appendText := func(t string) {
		for k := range out {
			out[k] += t
		}
	}
	for x.i < len(x.s) {
		c := x.s[x.i]
		switch {
		case c == '\\':
			end := min(x.i+2, len(x.s))
			appendText(x.s[x.i:end])
			x.i = end
		case c == '[':
			end := x.classEnd()
			appendText(x.s[x.i:end])
			x.i = end
		case c == '{':
			if x.touchesGlobstar(x.i) {
				return nil, `a "**" next to "{", "," or "}" is ambiguous in a glob; write the alternatives out`
			}
			x.i++
			var alts []string
			for {
				a, reason := x.seq(true)
				if reason != "" {
					return nil, reason
				}
				alts = append(alts, a...)
				if x.i >= len(x.s) {
					return nil, "glob has an unclosed {"
				}
				sep := x.s[x.i]
				if x.touchesGlobstar(x.i) {
					return nil, `a "**" next to "{", "," or "}" is ambiguous in a glob; write the alternatives out`
				}
				x.i++
				if sep == '}' {
					break
				}
			}
			if len(out)*len(alts) > maxGlobExpansions {
				return nil, fmt.Sprintf("glob has more than %d alternatives when its {...} groups are multiplied out (matching would backtrack too long)", maxGlobExpansions)
			}
			var next []string
			for _, o := range out {
				for _, a := range alts {
					next = append(next, o+a)
				}
			}
			out = next
		case inGroup && (c == ',' || c == '}'):
			return out, ""
		default:
			appendText(x.s[x.i : x.i+1])
			x.i++
		}
	}
	return out, ""
}

// classEnd returns the index after the "]" closing the class at x.i.
func (x *expander) classEnd() int {
	for j := x.i + 2; j < len(x.s); j++ { // a class holds at least one character
		switch x.s[j] {
		case '\\':
			j++
		case ']':
			return j + 1
		}
	}
	return len(x.s)
}

// touchesGlobstar reports whether a "**" stands right before or after the
// brace syntax at i. gobwas/glob decides whether "**" is a whole segment
// within its own branch, so "{a,b/**}/x" differs from "b/**/x"; such
// patterns are refused rather than expanded into another meaning.
func (x *expander) touchesGlobstar(i int) bool {
	return strings.HasSuffix(x.s[:i], "**") || strings.HasPrefix(x.s[i+1:], "**")
}

// countGlobStars counts runs of unescaped "*" ("**" is one) outside [...].
func countGlobStars(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			if j := strings.IndexByte(s[i+1:], ']'); j >= 0 {
				i += j + 1
			}
		case '*':
			n++
			for i+1 < len(s) && s[i+1] == '*' {
				i++
			}
		}
	}
	return n
}
