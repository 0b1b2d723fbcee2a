package mirror

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// globCovers compiles a glob resource and reports whether it covers key.
func globCovers(t testing.TB, res, key string) bool {
	t.Helper()
	p, reason := resourcePattern(res, "glob", false)
	require.Empty(t, reason, res)
	return p.covers(key)
}

// gobwasCovers asks gobwas itself, which backtracks: short keys only.
func gobwasCovers(t testing.TB, res, key string) bool {
	t.Helper()
	g, err := globCompiler.Compile(res)
	require.NoError(t, err, res)
	return g.Match(key)
}

// Revision 3, item 5 (docs/SEMANTICS.md §3): a glob means what gobwas says. Each pattern is asked about
// every key, by the engine and by gobwas.
func TestGlobMeansWhatGobwasSays(t *testing.T) {
	patterns := []string{
		// The review's findings: brace expansion let "*" cross a "/" and
		// split the class [\],x] at its comma.
		"img/{a,*}*.jpg", `{[\],x]y,b}]`,
		"img/*.{png,jpg}", "{a,{b,c}d}e", "{a/,}b/**/x", "x{/y,}/z", "{,}x", "{}", `a\{b,c\}`, "[{]a,b}",
		"{a,b}}", `{a\,b,c}`, "{[ab],c}?", "logs/{2023,2024}/**/day-?.txt", "{a*,b}*c", "u/{x,y}/{1,2,3}/*",
		// Globstar, whole segments and not.
		"logs/**/x", "**/x", "**", "a/**", "**/**/x", "a/**/**/b", "**/*.png", "{a,b}/**/x", "*/**", "?/**/x",
		// Classes: ranges, negation, separators inside, escapes, Unicode.
		"[!a]", "[/]", "[!/]x", "[a-c]?", "[!a-c]", `[\-x]`, `[+-]]`, "[é-ü]x", "[!é]", "[*]", "[!!]",
		// Escapes and literals that are special elsewhere.
		`\*`, `a\\b`, `a\?b`, "a,b", "a}b", "a]b", "日本/*/語?",
	}
	keys := []string{"", "a", "b", "x", "ae", "bde", "cde", "be", "a/x", "a/b/x", "b/x", "x/y/z", "x/z", "a{b,c}",
		"{a,b}", "a}", "b}", "a,b", "c", "a?", "cz", "ac", "azc", "bc", "a/b", "ab", "a/c/b", "aa/b", "a/bb", "/", "//",
		"img/a.png", "img/a.gif", "img/ab.jpg", "img/private/secret.jpg", "img/a/b.jpg", "img/.jpg",
		"]y]", ",y]", "xy]", "b]", "x]", "]", "logs/x", "logs/a/b/x", "logs/2024/day-1.txt", "logs/2023/a/b/day-2.txt",
		"logs/2022/day-1.txt", "u/x/2/f", "u/z/2/f", "x/y", "x/a/y", "x/a/b/y", "q/x", "p.png", "d/e/p.png",
		"é", "ü", "ïx", "øx", "!", "*", "-", "-x", "\\", "a\\b", "a*b", "*x", "{", "日本/a/語x", "日本/a/b/語x", "日本//語",
		"{b", "a,", "}", "b/", "a/b/", "/x", "x/",
	}
	for _, p := range patterns {
		for _, k := range keys {
			assert.Equal(t, gobwasCovers(t, p, k), globCovers(t, p, k), "%s ~ %q", p, k)
		}
	}
	// The two findings, stated outright.
	assert.False(t, globCovers(t, "img/{a,*}*.jpg", "img/private/secret.jpg"))
	assert.True(t, globCovers(t, "img/{a,*}*.jpg", "img/ab.jpg"))
	assert.True(t, globCovers(t, `{[\],x]y,b}]`, ",y]"))
	assert.False(t, globCovers(t, `{[\],x]y,b}]`, "y]"))
}

// docs/SEMANTICS.md §3: compile errors for what gobwas does not compile and for more
// than 3 wildcards; nothing else is limited.
func TestGlobLimits(t *testing.T) {
	for _, tt := range []struct{ pattern, reason string }{
		{"a*b*c*d*e", "4 wildcards"},
		{"**/a/**/b/**/c/**", "4 wildcards"},
		{"*{*,a}*{b,*}", "4 wildcards"},
		{"{a,b", "does not compile"},
		// A "**" that is not a whole segment, or inside braces: gobwas's
		// own readings, refused (its matcher contradicts its tree on
		// "*{*/,}/**[/]b" ~ "a//b").
		{"*{*/,}/**[/]b", "whole path segment"},
		{"a**/b", "whole path segment"},
		{"a/**b", "whole path segment"},
		{"***", "whole path segment"},
		{"a***b", "whole path segment"},
		{"x/*{}**/y", "whole path segment"},
		{"{a/,}**/x", "whole path segment"},
		{"x/**{/a,/b}", "whole path segment"},
		{"[/]**/x", "whole path segment"},
		{"{a,b/**}/x", "inside"},
		{"a/{**,b}/x", "inside"},
		{"{**,a}/b", "inside"},
		{"[a", "does not compile"},
		{"[]", "does not compile"},
		{"[z-a]", "does not compile"},
		{`a\`, "does not compile"},
	} {
		_, reason := resourcePattern(tt.pattern, "glob", false)
		assert.Contains(t, reason, tt.reason, tt.pattern)
	}
	alts := "{" + strings.Repeat("a,", 199) + "b}"
	for _, ok := range []string{
		"*a*{a,a}{a,a}{a,a}{a,a}x*y", "*a*a*a[a]", "*a*?a*a?[a][a]", strings.Repeat("{a,b}", 40), alts + "/" + alts,
		`a\*b\*c\*d\*e*`, "[*][*][*][*]*", "a/**", "**", "{a,b/}/**/x", `a\**`,
		strings.Repeat("x", 1000) + "/**/*.{jpg,png}",
	} {
		_, reason := resourcePattern(ok, "glob", false)
		assert.Empty(t, reason, ok)
	}
}

// docs/SEMANTICS.md §3: matching is linear in key × pattern. The patterns that took
// gobwas 16 s and 39 s on these keys answer here; the benchmark
// BenchmarkGlobAdversarial times them.
func TestGlobAdversarialKeys(t *testing.T) {
	aaa := strings.Repeat("a", 1024)
	for _, tt := range []struct {
		pattern, key string
		want         bool
	}{
		{"*a*a*a[a]", aaa[:1023] + "b", false},
		{"*a*a*a[a]", aaa, true},
		{"*a*?a*a?[a][a]", aaa[:1023] + "b", false},
		{"*a*{a,a}{a,a}{a,a}{a,a}x*y", aaa[:1021] + "zxy", false},
		{"**/**/**/x", strings.Repeat("a/", 511) + "y", false},
		{strings.Repeat("{a,aa}", 60) + "*b", aaa, false},
	} {
		assert.Equal(t, tt.want, globCovers(t, tt.pattern, tt.key), tt.pattern)
	}
}

// The automaton reads an invalid byte as gobwas does: a character for
// "?", "*" and classes, never equal to a literal (not even U+FFFD).
func TestGlobInvalidUTF8Keys(t *testing.T) {
	for _, p := range []string{"a?b", "a*b", "a[!x]b", "a\uFFFDb", "a[\uFFFD]b", "a/**"} {
		for _, k := range []string{"a\xffb", "a\xe4\xb8b", "a\uFFFDb", "a/\xffb", "a/\xff/b"} {
			assert.Equal(t, gobwasCovers(t, p, k), globCovers(t, p, k), "%s ~ %q", p, k)
		}
	}
}
