package mirror

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func loadNative(t *testing.T, doc string) *Engine {
	t.Helper()
	e, err := Compiler{AllowPrivateOrigins: true}.Load([]byte(doc), FormatNative)
	if err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return e
}

// TestExtendedMatch: conditions, fall-through to the next covering rule,
// and the trigger.
func TestExtendedMatch(t *testing.T) {
	e := loadNative(t, `{"rules":[
	  {"mode":"fetch","sourceUrl":"http://a.example.com","match":{"prefix":"img/","headers":[{"name":"x-tenant","value":"a"}]}},
	  {"mode":"fetch","sourceUrl":"http://b.example.com","match":{"prefix":"img/","suffix":"g.png"}},
	  {"mode":"fetch","sourceUrl":"http://c.example.com","match":{"prefix":"img/","hosts":["Cdn.Example.com"],"methods":["get"]}},
	  {"mode":"redirect","sourceUrl":"http://d.example.com","match":{"prefix":"img/","notHosts":["evil.example.com"]},"on":[403,"5xx"]},
	  {"mode":"fetch","sourceUrl":"http://e.example.com","resource":"img/*","on":"always"},
	  {"mode":"fetch","sourceUrl":"http://f.example.com","match":{"prefix":"a*b"}}
	]}`)
	for _, c := range []struct {
		req  Request
		want int
	}{
		{Request{Key: "img/x.png", Header: http.Header{"X-Tenant": {"a"}}}, 0},
		{Request{Key: "img/x.png", Header: http.Header{"x-tenant": {"b", "a"}}}, 0},
		{Request{Key: "img/x.png", Header: http.Header{"X-Tenant": {"A"}}}, 4},
		{Request{Key: "img/g.png"}, 1},
		{Request{Key: "img/", Header: nil}, 4},
		{Request{Key: "img/g.png", Status: 404}, 1},
		{Request{Key: "img/x", Host: "CDN.example.com:8080"}, 2},
		{Request{Key: "img/x", Host: "cdn.example.com", Method: "HEAD"}, 4},
		{Request{Key: "img/x", Status: 403}, 3},
		{Request{Key: "img/x", Status: 503, Host: "evil.example.com"}, 4},
		{Request{Key: "img/x", Status: 200}, 4},
		{Request{Key: "a*bc"}, 5},
		{Request{Key: "abc"}, -1},
		{Request{Key: "other", Status: 403}, -1},
	} {
		got, _ := e.MatchRequest(&c.req)
		if got != c.want {
			t.Errorf("%+v: rule %d, want %d", c.req, got, c.want)
		}
		d, err := e.Resolve(&c.req)
		if c.want < 0 {
			if !errors.Is(err, ErrNoRule) {
				t.Errorf("%+v: %v", c.req, err)
			}
			continue
		}
		if err != nil || d.Rule != c.want {
			t.Errorf("%+v: Resolve %v %v", c.req, d, err)
		}
		x := e.Explain(&c.req)
		if x.Rule != c.want {
			t.Errorf("%+v: Explain says rule %d", c.req, x.Rule)
		}
	}
	// Match(key) is a GET miss without headers or host.
	if got, _ := e.Match("img/x.png"); got != 4 {
		t.Errorf("Match = %d", got)
	}
}

// TestExtendedSamePattern: many rules sharing one pattern and differing
// in conditions are each reachable.
func TestExtendedSamePattern(t *testing.T) {
	var rules []Rule
	for i := range 50 {
		res := "k/*"
		if i%2 == 1 {
			res = "k/exact"
		}
		rules = append(rules, Rule{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: res,
			Match: &Match{Headers: []MatchHeader{{"X-N", string(rune('A' + i))}}}})
	}
	e, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		key := "k/x"
		if i%2 == 1 {
			key = "k/exact"
		}
		req := &Request{Key: key, Header: http.Header{"X-N": {string(rune('A' + i))}}}
		if got, _ := e.MatchRequest(req); got != i {
			t.Errorf("rule %d: got %d", i, got)
		}
	}
}

func TestExtendedDecision(t *testing.T) {
	e := loadNative(t, `{"rules":[
	  {"mode":"fetch","sourceUrls":["o1.example.com/base","o2.example.com"],"backSourceUrls":["o3.example.com"],"sourceWeights":[8,2],
	   "failoverOn":["5xx",404,"timeout"],"scheme":"request","resource":"w/*","fetch":{"followRedirects":3,"checkMd5":true,"passStatus":[400],"store":false},
	   "rewrite":{"key":"pre/${key}.x$$","replacePrefix":{"from":"pre/w/","to":"q","join":"slash"},"replaceSuffix":{"from":".x$","to":".y"},"addPrefix":"A/","addSuffix":"~"}},
	  {"mode":"redirect","redirect":{"code":301},"match":{"prefix":"s3/"},"rewrite":{"replacePrefix":{"to":"docs/"}},"on":"always"},
	  {"mode":"redirect","redirect":{"host":"www.example.com:8080","scheme":"https","code":307},"resource":"r/*"},
	  {"mode":"redirectFetch","sourceUrl":"http://rf.example.com","resource":"rf/*","passHeaders":["X-A"]},
	  {"mode":"fetch","sourceUrl":"http://k.example.com","resource":"k/*","keepSlashes":false}
	]}`)
	d, err := e.Resolve(&Request{Key: "w/a/b", Scheme: "https"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://o1.example.com/base/A/q/a/b.y~", "https://o2.example.com/A/q/a/b.y~", "https://o3.example.com/A/q/a/b.y~"}
	if !reflect.DeepEqual(d.URLs, want) {
		t.Errorf("URLs %q, want %q", d.URLs, want)
	}
	pol := &Policy{Primaries: 2, Pick: PickWeighted, Weights: []int{8, 2}, FailoverOn: StatusList{"5xx", "404", "timeout"},
		FollowRedirects: 3, CheckMD5: true, PassStatus: StatusList{"400"}, Store: false}
	if !reflect.DeepEqual(d.Policy, pol) {
		t.Errorf("policy %+v", d.Policy)
	}
	d, _ = e.Resolve(&Request{Key: "w/a"})
	if d.URLs[0] != "http://o1.example.com/base/A/q/a.y~" {
		t.Errorf("http: %q", d.URLs)
	}
	d, err = e.Resolve(&Request{Key: "s3/a b", Host: "bucket.example.com:9000", Status: 200})
	if err != nil || d.URLs[0] != "http://bucket.example.com:9000/docs/a%20b" || d.RedirectCode != 301 || d.Policy != nil {
		t.Errorf("s3 redirect: %+v %v", d, err)
	}
	if _, err := e.Resolve(&Request{Key: "s3/a"}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("no host: %v", err)
	}
	d, err = e.Resolve(&Request{Key: "r/x", Host: "ignored"})
	if err != nil || d.URLs[0] != "https://www.example.com:8080/r/x" || d.RedirectCode != 307 {
		t.Errorf("target: %+v %v", d, err)
	}
	d, err = e.Resolve(&Request{Key: "rf/x", Header: http.Header{"X-A": {"1"}}})
	if err != nil || d.Mode != ModeRedirectFetch || d.RedirectCode != 302 || d.Header.Get("X-A") != "1" || d.Policy == nil || !d.Policy.Store {
		t.Errorf("redirectFetch: %+v %v", d, err)
	}
	d, err = e.Resolve(&Request{Key: "k//a///b"})
	if err != nil || d.URLs[0] != "http://k.example.com/k/a/b" {
		t.Errorf("collapse: %+v %v", d, err)
	}
	if _, err := e.Resolve(&Request{Key: "k/x", Status: 99}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("status 99: %v", err)
	}
	// ResolveTo and AppendURL agree.
	for _, req := range []*Request{{Key: "w/a/b", Scheme: "https"}, {Key: "rf/x"}, {Key: "s3/q", Host: "h.example.com", Status: 500}} {
		d, err := e.Resolve(req)
		if err != nil {
			t.Fatal(err)
		}
		checkFastPaths(t, e, req, d, err)
	}
	// Engine.Rule gives the rule back as written, and it compiles again.
	for i := range e.Len() {
		r := e.Rule(i)
		b, _ := json.Marshal(map[string]any{"rules": []Rule{r}})
		if _, err := (Compiler{AllowPrivateOrigins: true}).Load(b, FormatNative); err != nil {
			t.Errorf("rule %d round trip %s: %v", i, b, err)
		}
	}
}

func TestExtendedCompileErrors(t *testing.T) {
	for _, c := range []struct{ rule, want string }{
		{`"sourceUrls":["a.example.com"],"sourceUrl":"b.example.com","resource":"*"`, "rules[0].sourceUrls: give sourceUrl or sourceUrls"},
		{`"sourceUrls":["a.example.com","b.example.com","c.example.com","d.example.com","e.example.com","f.example.com","g.example.com","h.example.com","i.example.com","j.example.com","k.example.com"],"resource":"*"`, "more than 10"},
		{`"sourceUrls":["a.example.com"],"sourceWeights":[0],"resource":"*"`, "rules[0].sourceWeights: the weights add up to 0"},
		{`"sourceUrls":["a.example.com"],"sourceWeights":[-1,2],"resource":"*"`, "rules[0].sourceWeights[0]: -1 is not"},
		{`"sourceUrls":["a.example.com"],"pick":"weighted","resource":"*"`, "pick weighted needs"},
		{`"sourceUrl":"a.example.com","redirect":{"code":304},"mode":"redirect","resource":"*"`, "rules[0].redirect.code: 304 is not a redirect"},
		{`"sourceUrl":"a.example.com","rewrite":{"key":"a$b"},"resource":"*"`, `rules[0].rewrite.key: has a "$"`},
		{`"sourceUrl":"a.example.com","rewrite":{"key":"x"},"fixedKey":"y","resource":"*"`, "rules[0].fixedKey: give rewrite or"},
		{`"sourceUrl":"a.example.com","on":[404,"miss"],"resource":"*"`, "rules[0].on[1]"},
		{`"sourceUrl":"a.example.com","on":[99],"resource":"*"`, "rules[0].on[0]"},
		{`"sourceUrl":"a.example.com","on":5,"resource":"*"`, "rules[0].on: must be"},
		{`"sourceUrl":"a.example.com","match":{"prefix":"a","headers":[{"name":"a b","value":"x"},7]},"resource":"*"`, "rules[0].match.headers[1]: must be a {name, value} object"},
		{`"sourceUrl":"a.example.com","match":{"prefix":"a"},"resource":"*"`, "rules[0].match.prefix: give resource or match.prefix"},
		{`"sourceUrl":"a.example.com","match":{"hosts":["a.example.com:80"]},"resource":"*"`, "rules[0].match.hosts[0]: has a port"},
		{`"sourceUrl":"http://a.example.com","scheme":"https","resource":"*"`, "rules[0].sourceUrl: has a scheme"},
		{`"sourceUrl":"a.example.com","failoverOn":["6xx"],"resource":"*"`, "rules[0].failoverOn[0]"},
		{`"sourceUrl":"a.example.com","fetch":{"followRedirects":11,"passStatus":[700]},"resource":"*"`, "rules[0].fetch.passStatus[0]"},
		{`"sourceUrl":"a.example.com","fetch":{"store":"no"},"resource":"*"`, "rules[0].fetch.store: must be true or false"},
		{`"match":{"prefix":"a"}`, "rules[0].sourceUrl: is required"},
		{`"sourceUrl":"a.example.com","rewrite":{"key":"../x"},"resource":"*"`, `rules[0].rewrite.key: has a segment`},
	} {
		doc := `{"rules":[{"mode":"fetch",` + c.rule + `}]}`
		doc = strings.Replace(doc, `"mode":"fetch","sourceUrl":"a.example.com","redirect"`, `"sourceUrl":"a.example.com","redirect"`, 1)
		_, err := Load([]byte(doc), FormatNative)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.rule, err, c.want)
		}
	}
	// BOS documents ignore the extended fields, as any unknown field.
	e, err := Load([]byte(`{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"http://a.example.com","resource":"*","match":{"suffix":"x"},"on":"always"}]}`), FormatBOS)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Match("y"); got != 0 || e.Rule(0).Match != nil {
		t.Errorf("bos: %d %+v", got, e.Rule(0))
	}
	if _, err := Load([]byte(`{"bucketMirroringConfiguration":[{"mode":"redirectFetch","sourceUrl":"http://a.example.com"}]}`), FormatBOS); err == nil {
		t.Error("bos took redirectFetch")
	}
}

func TestKeyTemplate(t *testing.T) {
	for _, c := range []struct{ in, key, out string }{
		{"${key}", "k", "k"}, {"a/${key}/${key}", "k", "a/k/k"}, {"$${key}", "k", "${key}"}, {"$$$${key}", "k", "$${key}"},
		{"$$${key}", "k", "$k"}, {"x", "k", "x"},
	} {
		pieces, reason := parseKeyTemplate(c.in)
		if reason != "" {
			t.Fatalf("%q: %s", c.in, reason)
		}
		if got := (&keyRewrite{key: pieces}).apply(c.key, ""); got != c.out {
			t.Errorf("%q: %q, want %q", c.in, got, c.out)
		}
	}
}

func TestExtendedLint(t *testing.T) {
	e := loadNative(t, `{"rules":[
	  {"mode":"fetch","sourceUrl":"http://a.example.com","resource":"x/*","match":{"headers":[{"name":"X-A","value":"1"}]}},
	  {"mode":"fetch","sourceUrl":"http://a.example.com","resource":"x/a*"},
	  {"mode":"fetch","sourceUrl":"http://a.example.com","match":{"prefix":"x/a"}},
	  {"mode":"redirect","sourceUrls":["http://a.example.com","http://b.example.com"],"match":{"prefix":"y/"},"fetch":{"checkMd5":true},"failoverOn":["5xx"]},
	  {"mode":"fetch","sourceUrl":"http://a.example.com","match":{"prefix":"x/a"},"on":[403],"redirect":{"code":301}}
	]}`)
	var got []string
	for _, w := range e.Lint() {
		got = append(got, w.Error())
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{
		`rules[2].resource: no key can reach this rule: rules[1] ("x/a*") covers every key it covers`,
		"rules[3].sourceUrls: only the first",
		"rules[3].fetch: does nothing on a redirect rule",
		"rules[3].failoverOn: does nothing on a redirect rule",
		"rules[4].redirect: does nothing on a fetch rule",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "rules[1].resource") || strings.Contains(text, "rules[4].resource") {
		t.Errorf("a rule behind a conditional one, or answering other statuses, is flagged:\n%s", text)
	}
}

// TestExtendedHostile: many rules sharing a prefix, each with a failing
// condition, cost one walk each and allocate nothing; a redirect to the
// request's host takes no Host that could move the Location elsewhere.
func TestExtendedHostile(t *testing.T) {
	rules := make([]Rule, 5000)
	for i := range rules {
		rules[i] = Rule{Mode: ModeFetch, SourceURL: "http://o.example.com",
			Match: &Match{Prefix: "p/", Headers: []MatchHeader{{"X-Id", strings.Repeat("v", i%7+1)}}}}
	}
	e, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Key: "p/" + strings.Repeat("k", 1000), Header: http.Header{"X-Id": {"nope"}}}
	if n := testing.AllocsPerRun(10, func() { e.MatchRequest(req) }); n != 0 {
		t.Errorf("MatchRequest allocates %v", n)
	}
	if r, ok := e.MatchRequest(req); ok {
		t.Errorf("matched %d", r)
	}
	req.Header["X-Id"] = []string{"vvvvvvv"}
	if r, _ := e.MatchRequest(req); r != 6 {
		t.Errorf("matched %d, want 6", r)
	}
	var d Decision
	if n := testing.AllocsPerRun(10, func() { _ = e.ResolveTo(&d, req) }); n != 0 {
		t.Errorf("ResolveTo allocates %v", n)
	}

	s3 := loadNative(t, `{"rules":[{"mode":"redirect","redirect":{},"match":{"prefix":""},"on":"always","passQuerystring":true}]}`)
	for _, host := range []string{"evil.example.com/x", "a@b.example.com", "h.example.com\r\nX: y", "h.example.com#", `h\x`, "h.example.com:99999", " "} {
		if _, err := s3.Resolve(&Request{Key: "k", Host: host}); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("host %q: %v", host, err)
		}
	}
	for _, key := range []string{"//evil.example.com/x", "../x", "a?b#c", "%2e%2e/x"} {
		d, err := s3.Resolve(&Request{Key: key, Host: "h.example.com", RawQuery: "a=1"})
		if err != nil {
			if errors.Is(err, ErrUnsafeKey) {
				continue
			}
			t.Fatalf("%q: %v", key, err)
		}
		if o := d.Origins[0]; o.Host != "h.example.com" || o.Scheme != "http" || !strings.HasPrefix(d.URLs[0], "http://h.example.com/") {
			t.Errorf("%q: Location %q", key, d.URLs[0])
		}
	}
}
