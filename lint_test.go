package mirror

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lintOf compiles a document and returns its warnings as "PATH: reason"
// lines.
func lintOf(t *testing.T, doc string) []string {
	t.Helper()
	eng, err := Compiler{AllowPrivateOrigins: true}.Load([]byte(doc), FormatAuto)
	require.NoError(t, err)
	var out []string
	for _, w := range eng.Lint() {
		out = append(out, w.Error())
	}
	return out
}

// native wraps rule objects into a native document.
func native(rules ...string) string {
	return `{"rules": [` + strings.Join(rules, ",") + `]}`
}

// fetchJSON is a fetch rule for resource with more fields.
func fetchJSON(resource, more string) string {
	if more != "" {
		more = "," + more
	}
	return `{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"` + resource + `"` + more + `}`
}

func TestLint(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  string
		want []string
	}{
		{"clean", native(fetchJSON("a/*", ""), `{"mode":"redirect","sourceUrl":"https://o.example.com","resource":"b/*","passQuerystring":true}`), nil},
		{"passing the reader's query or headers", native(fetchJSON("a/*", `"passHeaders":["Accept"]`), fetchJSON("b/*", `"passHeaders":["*"],"ignoreHeaders":["X-Debug"]`),
			fetchJSON("c/*", `"passQuerystring":true`)), []string{
			"rules[0].passHeaders: the first reader's headers choose the object stored for every later reader of the key: one object is stored per key",
			"rules[1].passHeaders: the first reader's headers choose the object stored for every later reader of the key: one object is stored per key",
			"rules[2].passQuerystring: the first reader's query chooses the object stored for every later reader of the key: one object is stored per key",
		}},
		{"a native document with no rules", `{"rules": []}`,
			[]string{"rules: the document has no rules: no key is mirrored, and every miss is a 404"}},
		{"Baidu's documented example", `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"http://www.baidu.com",
			"backSourceUrl":"bos://bj.bcebos.com/bucket","resource":"folder1/folder2*.jpeg","prefix":"testprefix","suffix":".jpeg",
			"fixedKey":"folder1/404.jpeg","version":"v2","prefixReplace":"a/b/c","passQuerystring":true,"storageClass":"STANDARD",
			"customHeaders":[{"headerName":"testheader1","headerValue":"name1"}],
			"ignoreHeaders":["BanHeader1","BanHeader2"],"passHeaders":["AllowHeader1","AllowHeader2"]}]}`, []string{
			"bucketMirroringConfiguration[0].prefix: does nothing beside fixedKey, which is the whole origin key",
			"bucketMirroringConfiguration[0].suffix: does nothing beside fixedKey, which is the whole origin key",
			"bucketMirroringConfiguration[0].prefixReplace: does nothing beside fixedKey, which is the whole origin key",
			`bucketMirroringConfiguration[0].ignoreHeaders[0]: "BanHeader1" is not passed anyway (passHeaders does not name it): ignoring it does nothing`,
			`bucketMirroringConfiguration[0].ignoreHeaders[1]: "BanHeader2" is not passed anyway (passHeaders does not name it): ignoring it does nothing`,
			"bucketMirroringConfiguration[0].passQuerystring: the first reader's query chooses the object stored for every later reader of the key: one object is stored per key",
			"bucketMirroringConfiguration[0].passHeaders: the first reader's headers choose the object stored for every later reader of the key: one object is stored per key",
		}},
		{"prefixReplace in v1", native(fetchJSON("a/*", `"prefixReplace":"b"`), fetchJSON("c/*", `"prefixReplace":"d","version":"v1"`), fetchJSON("e/*", `"prefixReplace":"f","version":"v2"`)), []string{
			"rules[0].prefixReplace: does nothing in version v1 (the default): prefixReplace acts in v2 only",
			"rules[1].prefixReplace: does nothing in version v1: prefixReplace acts in v2 only",
		}},
		{"a redirect with fetch options", native(`{"mode":"redirect","sourceUrl":"https://o.example.com","backSourceUrl":"https://b.example.com",
			"resource":"a/*","storageClass":"cold","passHeaders":["Accept"],"ignoreHeaders":["X-A"],
			"customHeaders":[{"headerName":"X-B","headerValue":"1"}],"redirectCode":301}`), []string{
			"rules[0].backSourceUrl: does nothing on a redirect rule: the client is sent to sourceUrl only",
			"rules[0].storageClass: does nothing on a redirect rule: a redirect stores nothing",
			"rules[0].passHeaders: does nothing on a redirect rule: a redirect sends no request to the origin",
			"rules[0].ignoreHeaders: does nothing on a redirect rule: a redirect sends no request to the origin",
			"rules[0].customHeaders: does nothing on a redirect rule: a redirect sends no request to the origin",
		}},
		{"redirectCode on a fetch rule", native(fetchJSON("a/*", `"redirectCode":307`)), []string{"rules[0].redirectCode: does nothing on a fetch rule"}},
		{"header lists that do nothing", native(fetchJSON("a/*", `"passHeaders":["Accept","x-trace","X-Forwarded-For","X-From"],
			"ignoreHeaders":["X-Trace","Cookie","X-Other"],"customHeaders":[{"headerName":"x-from","headerValue":"m"}]`)), []string{
			`rules[0].passHeaders[1]: "x-trace" is in ignoreHeaders too, which wins: it is never passed`,
			`rules[0].passHeaders[2]: "X-Forwarded-For" is never passed from a client (it is a claim about the client or the route): naming it does nothing`,
			`rules[0].passHeaders[3]: "X-From" is set by customHeaders, whose value replaces the client's: passing it does nothing`,
			`rules[0].ignoreHeaders[1]: "Cookie" is never passed from a client anyway (it is a credential): ignoring it does nothing`,
			`rules[0].ignoreHeaders[2]: "X-Other" is not passed anyway (passHeaders does not name it): ignoring it does nothing`,
			"rules[0].passHeaders: the first reader's headers choose the object stored for every later reader of the key: one object is stored per key",
		}},
		{"every header passed", native(fetchJSON("a/*", `"passHeaders":["*"]`)), []string{
			`rules[0].passHeaders[0]: "*" with no ignoreHeaders sends the origin every header a client sends, but for the never-forwarded ones: list the headers the origin needs, or ignore the others`,
			"rules[0].passHeaders: the first reader's headers choose the object stored for every later reader of the key: one object is stored per key",
		}},
		{"a credential over plain http", native(
			`{"mode":"fetch","sourceUrl":"http://o.example.com/base","resource":"a/*","customHeaders":[{"headerName":"X-Api-Key","headerValue":"k"},{"headerName":"X-Tag","headerValue":"t"}]}`,
			`{"mode":"fetch","sourceUrl":"HTTP://O.example.com:8080/x","backSourceUrl":"http://o.example.com:8080/y","resource":"b/*","customHeaders":[{"headerName":"authorization","headerValue":"Bearer x"}]}`,
			`{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"c/*","customHeaders":[{"headerName":"Authorization","headerValue":"Bearer x"}]}`,
			`{"mode":"redirect","sourceUrl":"http://o.example.com","resource":"d/*"}`), []string{
			`rules[0].customHeaders[0].headerName: credential "X-Api-Key" is sent in clear text to http://o.example.com: anyone on the path can read it; use https`,
			`rules[1].customHeaders[0].headerName: credential "authorization" is sent in clear text to http://o.example.com:8080: anyone on the path can read it; use https`,
		}},
		{"a rule behind a wildcard", native(fetchJSON("a/*", ""), fetchJSON("a/b.jpg", ""), fetchJSON("a/*/x*.jpg", ""), fetchJSON("b*", "")), []string{
			`rules[1].resource: no key can reach this rule: rules[0] ("a/*") covers every key it covers`,
			`rules[2].resource: no key can reach this rule: rules[0] ("a/*") covers every key it covers`,
		}},
		{"a rule behind a longer wildcard", native(fetchJSON("img/*/*.jpg", ""), fetchJSON("img/*.jpg", ""), fetchJSON("img/x/*/y.jpg", "")), []string{
			`rules[2].resource: no key can reach this rule: rules[0] ("img/*/*.jpg") covers every key it covers`,
		}},
		{"wildcards that together do not cover", native(fetchJSON("a*b", ""), fetchJSON("a*c", ""), fetchJSON("a*", ""), fetchJSON("*x*", ""), fetchJSON("q*x*z", "")), []string{
			`rules[4].resource: no key can reach this rule: rules[3] ("*x*") covers every key it covers`,
		}},
		{"a duplicate", native(fetchJSON("a/b", ""), fetchJSON("a/b", "")), []string{
			`rules[1].resource: no key can reach this rule: rules[0] ("a/b") covers every key it covers`,
		}},
		{"a glob's keys covered by two rules", native(fetchJSON("x/a", ""), fetchJSON("x/b*", ""),
			fetchJSON("x/{a,b}", `"resourceSyntax":"glob"`), fetchJSON("x/{a,c}", `"resourceSyntax":"glob"`)), []string{
			`rules[2].resource: no key can reach this rule: rules[0] ("x/a"), rules[1] ("x/b*") cover every key it covers`,
		}},
		{"a glob behind a wildcard", native(fetchJSON("img/*", ""), fetchJSON("img/{a,b}/*.png", `"resourceSyntax":"glob"`)), []string{
			`rules[1].resource: no key can reach this rule: rules[0] ("img/*") covers every key it covers`,
		}},
		{"a rule that may be behind a glob", native(fetchJSON("img/**", `"resourceSyntax":"glob"`), fetchJSON("img/*/a.png", ""),
			fetchJSON("img/*.png", `"resourceSyntax":"glob"`), fetchJSON("img2/*.png", `"resourceSyntax":"glob"`), fetchJSON("img2/**/*.png", `"resourceSyntax":"glob"`)), []string{
			`rules[1].resource: may be unreachable: rules[0] ("img/**") covers every key tried (with globs the check is not exact)`,
			`rules[2].resource: may be unreachable: rules[0] ("img/**") covers every key tried (with globs the check is not exact)`,
		}},
		{"globs a sample key reaches", native(fetchJSON("[!a]", `"resourceSyntax":"glob"`), fetchJSON("?", `"resourceSyntax":"glob"`),
			fetchJSON("x*", `"resourceSyntax":"glob"`), fetchJSON("{x,a?}ab", `"resourceSyntax":"glob"`)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, lintOf(t, c.doc))
		})
	}
}

// The bundled examples are what a new user copies: they lint clean, but
// for the warning that passing the reader's query or headers chooses the
// stored object, which examples/bos.json shows on purpose.
func TestLintBundledExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var other []string
		for _, w := range lintOf(t, string(data)) {
			if !strings.Contains(w, "chooses the object stored") && !strings.Contains(w, "choose the object stored") {
				other = append(other, w)
			}
		}
		assert.Empty(t, other, f)
	}
}

func TestStarCovers(t *testing.T) {
	for _, c := range []struct {
		pattern, alt string // "*" in alt is a gap
		want         bool
	}{
		{"a*", "a*", true},
		{"a*", "ab*c", true},
		{"a*c", "ab*c", true},
		{"a*c", "a*bc", true},
		{"ab*", "a*b", false},
		{"*bc*", "ab*cd", false}, // "abzcd" has no "bc"
		{"*b*", "ab*cd", true},
		{"a*b*c", "a*x*b*c", true},
		{"a*b*c", "a*c", false},
		{"abc", "abc", true},
		{"abc", "a*c", false},
		{"*", "*", true},
		{"**", "x", true},
	} {
		assert.Equal(t, c.want, starCovers(strings.Split(c.pattern, "*"), gapText(strings.Split(c.alt, "*"))), "%s covers %s", c.pattern, c.alt)
	}
}

// For wildcards the reachability check is exact: a rule is flagged
// exactly when the key that fills each of its "*" with a character no
// rule has is taken by an earlier rule (docs/SEMANTICS.md §10 says why
// that key decides), and a flagged rule is never what Match returns.
func TestLintReachabilityIsExactForWildcards(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	piece := func() string {
		b := make([]byte, rng.IntN(3))
		for i := range b {
			b[i] = "ab/"[rng.IntN(3)]
		}
		return string(b)
	}
	flagged := 0
	for round := 0; round < 3000; round++ {
		rules := make([]Rule, 2+rng.IntN(6))
		for i := range rules {
			parts := []string{piece()}
			for range rng.IntN(3) {
				parts = append(parts, piece())
			}
			res := strings.Join(parts, "*")
			if res == "" {
				res = "a"
			}
			rules[i] = Rule{Mode: ModeFetch, SourceURL: "https://o.example.com", Resource: res}
		}
		eng := mustCompile(t, rules...)
		warned := map[int]bool{}
		for _, w := range eng.Lint() {
			require.Equal(t, "resource", w.Field)
			require.Contains(t, w.Reason, "no key can reach this rule")
			warned[w.Rule] = true
		}
		for j, r := range rules {
			key := strings.ReplaceAll(r.Resource, "*", "☃")
			got, _ := eng.Match(key)
			require.Equal(t, got != j, warned[j], "rules %q: rule %d, key %q taken by %d", resources(rules), j, key, got)
			if warned[j] {
				flagged++
				for range 20 {
					k := strings.ReplaceAll(r.Resource, "*", piece())
					if keyReason(k) == "" {
						got, _ := eng.Match(k)
						require.NotEqual(t, j, got, "flagged rule %d decides %q", j, k)
					}
				}
			}
		}
	}
	assert.Greater(t, flagged, 500, "the random sets should shadow rules often")
}

func resources(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Resource
	}
	return out
}
