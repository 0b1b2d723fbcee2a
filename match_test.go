package mirror

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gobwas/glob"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refMatch is docs/SEMANTICS.md §3 applied directly, rule after rule: wildcard
// resources through a regexp (so the engine's own wildcard matcher is
// checked too), glob resources through gobwas/glob.
func refMatch(t testing.TB, rules []Rule, key string) int {
	for i, r := range rules {
		if r.ResourceSyntax == "glob" {
			g, err := glob.Compiler{Separators: []rune{'/'}, Globstar: true}.Compile(r.Resource)
			require.NoError(t, err)
			if g.Match(key) {
				return i
			}
			continue
		}
		parts := strings.Split(r.Resource, "*")
		for j := range parts {
			parts[j] = regexp.QuoteMeta(parts[j])
		}
		if regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`).MatchString(key) {
			return i
		}
	}
	return -1
}

func TestMatchFirstRuleWins(t *testing.T) {
	rules := []Rule{fetch("img/*.png"), fetch("img/*"), fetch("*"), fetch("img/a.png")}
	eng := mustCompile(t, rules...)
	for key, want := range map[string]int{"img/a.png": 0, "img/a.jpg": 1, "img/": 1, "img": 2, "other": 2} {
		got, ok := eng.Match(key)
		assert.True(t, ok)
		assert.Equal(t, want, got, key)
	}
	eng = mustCompile(t, fetch("a"), fetch("a*"), fetch("a*b"))
	for key, want := range map[string]int{"a": 0, "ab": 1, "abb": 1, "b": -1, "": -1} {
		got, ok := eng.Match(key)
		assert.Equal(t, want >= 0, ok, key)
		assert.Equal(t, want, got, key)
	}
	eng = mustCompile(t)
	_, ok := eng.Match("anything")
	assert.False(t, ok, "no rules never match")
}

func TestMatchSuffixNeedsRoomAfterPrefix(t *testing.T) {
	eng := mustCompile(t, fetch("folder1/folder2*.jpeg"), fetch("ab*ba"))
	for key, want := range map[string]int{
		"folder1/folder2.jpeg": 0, "folder1/folder2/cat.jpeg": 0, "folder1/folder2.jpe": -1,
		"ab": -1, "aba": -1, "abba": 1, "ab-ba": 1,
	} {
		got, _ := eng.Match(key)
		assert.Equal(t, want, got, key)
	}
}

// randomRules makes n rules over a small alphabet so that they overlap a
// lot: exact keys, prefix*suffix, several stars and globs.
func randomRules(rng *rand.Rand, n int) []Rule {
	word := func(max int) string {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			b[i] = "ab/."[rng.IntN(4)]
		}
		return string(b)
	}
	rules := make([]Rule, n)
	for i := range rules {
		var res, syntax string
		switch rng.IntN(10) {
		case 0, 1:
			res = word(6)
			if res == "" {
				res = "a"
			}
		case 2, 3, 4, 5:
			res = word(5) + "*" + word(3)
		case 6, 7:
			res = word(3) + "*" + word(2) + "*" + word(2)
		case 8:
			res = word(3) + "*" + word(1) + "*" + word(1) + "*" + word(2)
		case 9:
			res = word(3) + []string{"*", "?", "/**/", "{a,b/}", "[ab]", "/**/*"}[rng.IntN(6)] + word(2)
			syntax = "glob"
		}
		rules[i] = Rule{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: res, ResourceSyntax: syntax}
	}
	return rules
}

func TestMatchAgreesWithLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 10, 300} {
		rules := randomRules(rng, n)
		eng := mustCompile(t, rules...)
		for k := 0; k < 3000; k++ {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = "ab/.x"[rng.IntN(5)]
			}
			key := string(b)
			got, ok := eng.Match(key)
			want := refMatch(t, rules, key)
			require.Equal(t, want, got, "rules=%d key %q", n, key)
			require.Equal(t, want >= 0, ok)
		}
	}
}

// patternsOf is the rules' patterns, for linearScan.
func patternsOf(t *testing.T, rules []Rule) []pattern {
	pats := make([]pattern, len(rules))
	for i, r := range rules {
		p, reason := resourcePattern(r.Resource, r.ResourceSyntax, false)
		require.Empty(t, reason)
		pats[i] = p
	}
	return pats
}

// TestMatchAgreesWithLinearScanLarge is the scale check: 10,000 rules
// with overlaps, 10,000 random keys, against a rule-by-rule scan.
func TestMatchAgreesWithLinearScanLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rules := randomRules(rng, 10000)
	eng := mustCompile(t, rules...)
	pats := patternsOf(t, rules)
	for k := 0; k < 10000; k++ {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = "ab/.x"[rng.IntN(5)]
		}
		got, _ := eng.Match(string(b))
		require.Equal(t, linearScan(pats, string(b)), got, "key %q", b)
	}
}

// TestMatchAgreesWithLinearScan100k is the differential test at the
// scale of the benchmarks: 100,000 rules in a random order, half of them
// overlapping heavily over a small alphabet, half the benchmarks' two
// workloads (leading "{a,b}" groups included), against a rule-by-rule
// scan, on random keys and on the workloads' hits and misses.
func TestMatchAgreesWithLinearScan100k(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tenant, mixed := makeTenantSet(25000), makeBenchSet(25000)
	// The random rules are under "r", so that their "*" do not cover
	// the workloads' misses.
	rules := randomRules(rng, 50000)
	for i := range rules {
		rules[i].Resource = "r" + rules[i].Resource
	}
	rules = append(append(rules, tenant.rules...), mixed.rules...)
	rng.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	eng := mustCompile(t, rules...)
	pats := patternsOf(t, rules)
	var keys []string
	for _, s := range []benchSet{tenant, mixed} {
		keys = append(keys, s.hits[:150]...)
		keys = append(keys, s.misses[:150]...)
	}
	for k := 0; k < 2000; k++ {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = "ab/.x"[rng.IntN(5)]
		}
		keys = append(keys, "r"+string(b))
	}
	hits := 0
	for _, key := range keys {
		got, ok := eng.Match(key)
		want := linearScan(pats, key)
		require.Equal(t, want, got, "key %q", key)
		require.Equal(t, want >= 0, ok)
		if ok {
			hits++
		}
	}
	assert.Greater(t, hits, 2000, "hits")
	assert.GreaterOrEqual(t, len(keys)-hits, 250, "and misses")
}

// TestMatchAllocatesNothingOnTheWorkloads pins 0 allocations on the
// benchmarks' keys, hits and misses, on both workloads.
func TestMatchAllocatesNothingOnTheWorkloads(t *testing.T) {
	for _, w := range workloads {
		s := w.make(1000)
		eng := mustCompile(t, s.rules...)
		keys := append(s.hits[:50:50], s.misses[:50]...)
		assert.Zero(t, testing.AllocsPerRun(20, func() {
			for _, k := range keys {
				eng.Match(k)
			}
		}), w.name)
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	rules := []Rule{fetch("img/*.png"), fetch("exact.txt"), fetch("*.m3u8"), fetch("u/*/a/*.png"),
		{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: "logs/**/day-?.txt", ResourceSyntax: "glob"}}
	eng := mustCompile(t, rules...)
	for _, key := range []string{"img/a.png", "exact.txt", "v/x.m3u8", "u/1/a/b.png", "logs/2024/day-1.txt", "nothing",
		"logs/" + strings.Repeat("a/", 500) + "day-1.txt"} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { eng.Match(key) }), key)
	}
}

// countingMatcher counts how often the index asks it.
type countingMatcher struct{ calls *int }

func (m countingMatcher) Match(string) bool { *m.calls++; return false }

// TestMatchDoesNotLoopOverRules shows that the walk only looks at rules
// whose literal prefix lies on the key's path: of 10,000 rules that each
// need a matcher, a lookup asks at most the handful on its path.
func TestMatchDoesNotLoopOverRules(t *testing.T) {
	calls := 0
	pats := make([]pattern, 10000)
	for i := range pats {
		pats[i] = pattern{kind: patComplex, lit: fmt.Sprintf("tenant%05d/", i), m: countingMatcher{&calls}}
	}
	pats = append(pats, pattern{kind: patComplex, lit: "", m: countingMatcher{&calls}})
	ix, err := buildIndex(pats)
	require.NoError(t, err)
	assert.Equal(t, int32(noRule), ix.lookup("tenant00042/x/y.png"))
	assert.Equal(t, 2, calls, "the rule at tenant00042/ and the one at the root")

	// 10,000 suffix rules at one node cost one walk of the key's end.
	rules := make([]Rule, 10000)
	for i := range rules {
		rules[i] = fetch(fmt.Sprintf("*.ext%d", i))
	}
	eng := mustCompile(t, rules...)
	got, ok := eng.Match("video/clip.ext9999")
	assert.True(t, ok)
	assert.Equal(t, 9999, got)
	assert.LessOrEqual(t, len(eng.index.suffixes.nodes), 2*len(rules), "one trie shared by the suffixes")

	// 10,000 several-"*" rules under one literal prefix are indexed by their
	// literal suffix too: a key asks only those whose suffix it ends with.
	calls = 0
	pats = pats[:0]
	for i := 0; i < 10000; i++ {
		pats = append(pats, pattern{kind: patComplex, lit: "img/", suffix: fmt.Sprintf("-%d.webp", i), m: countingMatcher{&calls}})
	}
	pats = append(pats, pattern{kind: patComplex, lit: "img/", suffix: ".webp", m: countingMatcher{&calls}})
	ix, err = buildIndex(pats)
	require.NoError(t, err)
	assert.Equal(t, int32(noRule), ix.lookup("img/a/thumb-4242.webp"))
	assert.Equal(t, 2, calls, "the rule ending in -4242.webp and the one ending in .webp")

	// The same through the engine, with real matchers.
	rules = rules[:0]
	for i := 0; i < 10000; i++ {
		rules = append(rules, fetch(fmt.Sprintf("img/*/*-%d.webp", i)))
	}
	eng = mustCompile(t, rules...)
	got, ok = eng.Match("img/2024/thumb-4242.webp")
	assert.True(t, ok)
	assert.Equal(t, 4242, got)
	_, ok = eng.Match("img/thumb-4242.webp")
	assert.False(t, ok, "the second * needs its own /")
}

func TestWildcardMatcher(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"u/*/avatars/*.png", "u/42/avatars/me.png", true},
		{"u/*/avatars/*.png", "u/avatars/x.png", false},
		{"u/*/avatars/*.png", "u/1/2/avatars/x.png", true},
		{"u/*/avatars/*.png", "u//avatars/.png", true},
		{"a*a*a", "aa", false},
		{"a*a*a", "aaa", true},
		{"a**b", "ab", true},
		{"*x*", "x", true},
		{"*x*", "", false},
		{"a*b*c", "acbc", true},
		{"a*b*c", "abcb", false},
	}
	for _, tt := range tests {
		p, reason := resourcePattern(tt.pattern, "", false)
		require.Empty(t, reason)
		assert.Equal(t, tt.want, p.covers(tt.key), "%s ~ %s", tt.pattern, tt.key)
	}
}

// TestEngineIsSafeForConcurrentUse is for `go test -race`: an engine is
// immutable, glob automata included (their live sets are on the stack).
func TestEngineIsSafeForConcurrentUse(t *testing.T) {
	r := fetch("*")
	r.PassHeaders, r.PassQueryString = []string{"*"}, true
	eng := mustCompile(t, fetch("img/**/*.{png,jpg}"), Rule{Mode: ModeFetch, SourceURL: "http://g.example.com",
		Resource: "logs/**/day-?.{txt,gz}", ResourceSyntax: "glob"}, fetch("u/*/a/*"), r)
	keys := []string{"img/a/b.png", "logs/2024/day-1.gz", "u/1/a/x", "other", "../x"}
	done := make(chan map[string]string)
	for g := 0; g < 8; g++ {
		go func() {
			seen := map[string]string{}
			for i := 0; i < 200; i++ {
				k := keys[i%len(keys)]
				d, err := eng.Resolve(&Request{Key: k, RawQuery: "a=1", Header: http.Header{"Accept": {"x"}}})
				seen[k] = fmt.Sprint(d, err)
			}
			done <- seen
		}()
	}
	first := <-done
	for g := 1; g < 8; g++ {
		assert.Equal(t, first, <-done)
	}
}
