package mirror

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expanding {...} groups must not change what a glob matches.
func TestGlobExpansionMatchesLikeGobwas(t *testing.T) {
	patterns := []string{
		"img/*.{png,jpg}", "{a,{b,c}d}e", "{a/,}b/**/x", "x{/y,}/z", "{,}x", "{}", "a\\{b,c\\}", "[{]a,b}",
		"{a,b}}", "{a\\,b,c}", "{[ab],c}?", "logs/{2023,2024}/**/day-?.txt", "{a*,b}*c", "u/{x,y}/{1,2,3}/*",
	}
	keys := []string{"img/a.png", "img/a.gif", "ae", "bde", "cde", "be", "x", "a/x", "a/b/x", "b/x", "x/y/z", "x/z",
		"", "a{b,c}", "{a,b}", "a}", "b}", "a,b", "c", "a?", "cz", "logs/2024/day-1.txt", "logs/2023/a/b/day-2.txt",
		"logs/2022/day-1.txt", "ac", "azc", "bc", "u/x/2/f", "u/z/2/f"}
	for _, p := range patterns {
		g, err := globCompiler.Compile(p)
		require.NoError(t, err, p)
		m, reason := compileGlob(p)
		require.Empty(t, reason, p)
		for _, k := range keys {
			assert.Equal(t, g.Match(k), m.Match(k), "%s ~ %q", p, k)
		}
	}
}

func TestGlobBounds(t *testing.T) {
	for _, tt := range []struct{ pattern, reason string }{
		{"a*b*c*d*e", "more than 3"},
		{"**/a/**/b/**/c/**", "more than 3"},
		{strings.Repeat("{a,b}", 5), "more than 16 alternatives"},
		{"{a,b,c,d,e}{1,2,3,4}", "more than 16 alternatives"},
		{"{a,b/**}/x", "ambiguous"},
		{"{a/,}**/x", "ambiguous"},
		{"a/{**,b}/x", "ambiguous"},
		{"x/**{/a,/b}", "ambiguous"},
		{"{a,b", "does not compile"},
	} {
		_, reason := compileGlob(tt.pattern)
		assert.Contains(t, reason, tt.reason, tt.pattern)
	}
	for _, ok := range []string{"*a*{a,a}{a,a}{a,a}{a,a}x*y", "*.{jpg,jpeg,png,gif,webp,avif,svg,ico,bmp,tif,tiff,heic,heif}",
		"{a,b}/{c,d}/{e,f}/{g,h}", `a\*b\*c\*d\*e*`, "[*][*][*][*]*"} {
		_, reason := compileGlob(ok)
		assert.Empty(t, reason, ok)
	}
}

// The pattern that took gobwas 3 s on this key is now 16 patterns with
// 3 stars each; the match gives the same (negative) answer.
func TestGlobAlternativesDoNotMultiplyBacktracking(t *testing.T) {
	m, reason := compileGlob("*a*{a,a}{a,a}{a,a}{a,a}x*y")
	require.Empty(t, reason)
	all, ok := m.(anyGlob)
	require.True(t, ok, "expanded")
	assert.Len(t, all, 1, "16 identical expansions dedupe to one")
	assert.False(t, m.Match(strings.Repeat("a", 1021)+"zxy"))
	assert.True(t, m.Match("baaaaaaxzy"))
}
