package mirror

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkExplain holds Explain's story to Resolve's answer, d and err: the
// same decision, the first covering rule the one that decides, the
// origin key the one in every URL, the kept query pieces the URL's query,
// and the headers sent exactly the decision's.
func checkExplain(t *testing.T, eng *Engine, req *Request, d *Decision, err error) {
	t.Helper()
	x := eng.Explain(req)
	if !reflect.DeepEqual(x.Decision, d) || errString(x.Err) != errString(err) {
		t.Fatalf("Explain decided %#v, %v; Resolve %#v, %v", x.Decision, x.Err, d, err)
	}
	if errors.Is(err, ErrInvalidKey) || (errors.Is(err, ErrInvalidRequest) && requestReason(req) != "") {
		if x.Rules != nil || x.Rule != -1 || x.OriginKey != nil {
			t.Fatalf("a refused key was matched: %+v", x)
		}
		return
	}
	if len(x.Rules) != eng.Len() {
		t.Fatalf("%d rule checks for %d rules", len(x.Rules), eng.Len())
	}
	first := -1
	for i, c := range x.Rules {
		res := eng.Rule(i).Resource
		if m := eng.Rule(i).Match; res == "" && m != nil {
			res = m.Prefix + "*"
		}
		if c.Rule != i || c.Reason == "" || c.Resource != res {
			t.Fatalf("rule check %d: %+v", i, c)
		}
		if c.Covers && c.Failed == "" && first < 0 {
			first = i
		}
	}
	match, _ := eng.MatchRequest(req)
	if x.Rule != first || x.Rule != match {
		t.Fatalf("Explain's rule %d, its first covering rule %d, Match's %d", x.Rule, first, match)
	}
	if errors.Is(err, ErrNoRule) {
		return
	}
	if x.OriginKey == nil || len(x.OriginKey.Steps) == 0 {
		t.Fatalf("no origin key story: %+v", x)
	}
	k := x.OriginKey.Key
	if unsafe := k == "" || unsafeSegment(k); unsafe != errors.Is(err, ErrUnsafeKey) {
		t.Fatalf("origin key %q: unsafe %v, Resolve: %v", k, unsafe, err)
	}
	if err != nil {
		if x.Query != nil || x.Headers != nil {
			t.Fatalf("a refused request has a query or header story: %+v", x)
		}
		return
	}
	var kept []string
	for _, q := range x.Query {
		if q.Kept {
			kept = append(kept, q.Piece)
		}
	}
	primary, backup := eng.Origins(d.Rule)
	for i, u := range d.URLs {
		base := primary
		if i == 1 {
			base = backup
		}
		path, query, _ := strings.Cut(strings.TrimPrefix(u, base), "?")
		if got, perr := url.PathUnescape(path); perr != nil || got != k {
			t.Fatalf("URL %q holds origin key %q, Explain says %q", u, got, k)
		}
		if want := strings.Join(kept, "&"); d.Origins[i].Scheme != "bos" && query != want {
			t.Fatalf("URL %q has query %q, Explain kept %q", u, query, want)
		}
	}
	sent := http.Header{}
	for _, h := range x.Headers {
		if h.Sent {
			key := http.CanonicalHeaderKey(h.Name)
			sent[key] = append(sent[key], h.Value)
		}
	}
	if len(sent) == 0 {
		sent = nil
	}
	if d.Mode == ModeRedirect && x.Headers != nil {
		t.Fatalf("a redirect with a header story: %+v", x.Headers)
	}
	if !reflect.DeepEqual(sent, d.Header) {
		t.Fatalf("Explain sends %q, Resolve %q", sent, d.Header)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestExplainTellsWhy pins the story for one request through a rule set
// that exercises every kind of reason.
func TestExplainTellsWhy(t *testing.T) {
	eng := mustCompile(t,
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "video/*"},
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "img/*.png"},
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "img/*/x*.jpg"},
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "img/{a,b}/*.gif", ResourceSyntax: "glob"},
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "img/2024/cat.jpg/more"},
		Rule{Mode: ModeFetch, SourceURL: "https://origin.example.com/site", Resource: "img/*", Version: "v2",
			PrefixReplace: "pics", Prefix: "p-", Suffix: ".orig", PassQueryString: true,
			PassHeaders: []string{"Accept", "X-Trace", "X-Gone", "Cookie2"}, IgnoreHeaders: []string{"X-Trace"},
			CustomHeaders: []Header{{"X-From", "mirror"}, {"X-Gone", "set"}}},
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "*"},
	)
	x := eng.Explain(&Request{Key: "img/2024/cat.jpg", RawQuery: "v=1&&X-Amz-Signature=s&Signature=t",
		Header: http.Header{"Accept": {"image/*"}, "Cookie": {"c"}, "X-Trace": {"1"}, "X-Gone": {"g"},
			"User-Agent": {"u"}, "Cookie2": {"a", "b\x01"}, "Connection": {"cookie2"}}})
	require.NoError(t, x.Err)
	assert.Equal(t, 5, x.Rule)
	reasons := make([]string, len(x.Rules))
	for i, c := range x.Rules {
		reasons[i] = c.Reason
	}
	assert.Equal(t, []string{
		`the literal prefix "video/" differs at byte 0: the key has "i", the prefix "v"`,
		`after the literal prefix "img/" the key does not end with the suffix ".png"`,
		`the middle parts "/x" do not occur in this order in "2024/cat", between the literal prefix "img/" and the suffix ".jpg"`,
		`after the literal prefix "img/" the key goes on with none of the glob's alternatives "a/", "b/"`,
		`the key ends at byte 16, inside the literal prefix "img/2024/cat.jpg/more"`,
		`covers the key: this rule decides`,
		`covers the key too, but rule 5 comes first`,
	}, reasons)
	assert.Equal(t, &KeyBuild{Key: "p-pics/2024/cat.jpg.orig", Steps: []string{
		`v2: the resource's literal prefix "img/" is cut off: "2024/cat.jpg"`,
		`prefixReplace "pics" is put in its place, with a "/" between: "pics/2024/cat.jpg"`,
		`prefix "p-" is put in front: "p-pics/2024/cat.jpg"`,
		`suffix ".orig" is appended: "p-pics/2024/cat.jpg.orig"`,
	}}, x.OriginKey)
	assert.Equal(t, []QueryCheck{
		{"v=1", true, "passed on (passQuerystring)"},
		{"", false, `empty: an extra "&"`},
		{"X-Amz-Signature=s", false, `"X-Amz-Signature" is in "x-amz-", a storage vendor's namespace of signed-URL parameters: the client's credentials never reach an origin`},
		{"Signature=t", false, `"Signature" is the credential parameter "signature": the client's credentials never reach an origin`},
	}, x.Query)
	assert.Equal(t, []HeaderCheck{
		{"Accept", "image/*", true, "in passHeaders"},
		{"Connection", "cookie2", false, "never forwarded from a client: it is a hop-by-hop header"},
		{"Cookie", "c", false, "never forwarded from a client: it is a credential"},
		{"Cookie2", "a", false, "named by the request's Connection header, so hop-by-hop"},
		{"Cookie2", "b\x01", false, "named by the request's Connection header, so hop-by-hop"},
		{"User-Agent", "u", false, "not in passHeaders"},
		{"X-Gone", "g", false, "the rule sets it (customHeaders), which replaces the client's value"},
		{"X-Trace", "1", false, "in ignoreHeaders"},
		{"X-From", "mirror", true, "set by the rule (customHeaders)"},
		{"X-Gone", "set", true, "set by the rule (customHeaders)"},
	}, x.Headers)
	d, err := eng.Resolve(&Request{Key: "img/2024/cat.jpg"})
	require.NoError(t, err)
	checkExplain(t, eng, &Request{Key: "img/2024/cat.jpg"}, d, err)
}

// Each refusal ends the story where Resolve stops.
func TestExplainStopsWhereResolveDoes(t *testing.T) {
	eng := mustCompile(t,
		Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "a/*", PassQueryString: true},
		Rule{Mode: ModeRedirect, SourceURL: "https://a.example.com", Resource: "r/*", FixedKey: "index.html", Prefix: "x/"})
	for _, req := range []*Request{
		{Key: ""}, {Key: "a/\x01"}, {Key: "b"}, {Key: "a/../x"}, {Key: "a/x", RawQuery: "a;b"},
		{Key: "r/x", RawQuery: "q=1", Header: http.Header{"Accept": {"x"}}},
	} {
		d, err := eng.Resolve(req)
		checkExplain(t, eng, req, d, err)
	}
	x := eng.Explain(&Request{Key: "r/x", RawQuery: "q=1"})
	assert.Equal(t, []string{`fixedKey: the origin key is "index.html", whatever the key`, `prefix "x/" is not used beside fixedKey`}, x.OriginKey.Steps)
	assert.Equal(t, []QueryCheck{{"q=1", false, "the rule does not pass the query string on (passQuerystring is false)"}}, x.Query)
	assert.Nil(t, x.Headers, "a redirect sends no headers")
}

// Where the key leaves a literal prefix inside a character, the reason
// names the two characters, not their bytes.
func TestExplainNamesCharacters(t *testing.T) {
	eng := mustCompile(t, Rule{Mode: ModeFetch, SourceURL: "https://a.example.com", Resource: "é*"})
	x := eng.Explain(&Request{Key: "è"})
	assert.Equal(t, `the literal prefix "é" differs at byte 0: the key has "è", the prefix "é"`, x.Rules[0].Reason)
}
