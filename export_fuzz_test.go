package mirror

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// convBytes hands out the fuzz input a choice at a time; past its end
// every choice is 0.
type convBytes struct{ b []byte }

func (c *convBytes) pick(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0]) % n
	c.b = c.b[1:]
	return v
}

func (c *convBytes) one(list ...string) string { return list[c.pick(len(list))] }

// convRandomDoc builds a small native document: prefixes and suffixes
// from a tiny alphabet, the three modes, redirect codes, a few origins,
// passQuerystring, and sometimes methods, hosts, triggers, failover
// lists, fetch options (fetch.probe, fetch.saveMeta and
// fetch.lastModified among them, which the decision's Policy carries)
// and rewrites, so that every format's exporter both writes some and
// refuses some.
func convRandomDoc(c *convBytes) []byte {
	n := 1 + c.pick(4)
	rules := make([]map[string]any, n)
	origins := []string{"http://o1.example.com", "https://o2.example.com/base/", "http://o3.example.com:8080/p"}
	for i := range rules {
		r := map[string]any{}
		rules[i] = r
		r["mode"] = c.one("fetch", "fetch", "redirect", "redirectFetch")
		if c.pick(4) == 0 && r["mode"] != "redirectFetch" {
			// A rule of §2 alone.
			r["resource"] = c.one("*", "a*", "ab*", "b/*", "a*c", "abc", "b/*.j")
			r["sourceUrl"] = origins[c.pick(len(origins))]
			if c.pick(2) == 0 {
				r["backSourceUrl"] = origins[c.pick(len(origins))]
			}
			if c.pick(3) == 0 {
				r["prefix"] = c.one("p/", "a")
			}
			if c.pick(4) == 0 {
				r["suffix"] = c.one(".bak", "c")
			}
			if c.pick(5) == 0 {
				r["fixedKey"] = c.one("fixed", "f$x")
			}
			r["passQuerystring"] = c.pick(2) == 0
			r["redirectCode"] = []int{0, 301, 302, 307}[c.pick(4)]
			continue
		}
		m := map[string]any{}
		if c.pick(3) == 0 {
			r["resource"] = c.one("*", "a*", "b/*", "a*c")
		} else {
			m["prefix"] = c.one("", "a", "ab", "b/", "c")
		}
		if c.pick(3) == 0 {
			m["suffix"] = c.one("c", "bc", ".j")
		}
		switch c.pick(4) {
		case 0:
			m["methods"] = []string{"GET"}
		case 1:
			m["methods"] = []string{"GET", "HEAD"}
		case 2:
			m["methods"] = []string{"head", "POST"}
		}
		if c.pick(4) == 0 {
			m["hosts"] = []string{"h1.example.com"}
		}
		r["match"] = m
		switch c.pick(5) {
		case 0:
			r["on"] = "always"
		case 1:
			r["on"] = []any{404}
		case 2:
			r["on"] = []any{403, "5xx"}
		}
		prim := []string{origins[c.pick(len(origins))]}
		if c.pick(3) == 0 {
			prim = append(prim, origins[c.pick(len(origins))])
		}
		r["sourceUrls"] = prim
		if c.pick(3) == 0 {
			r["backSourceUrls"] = []string{origins[c.pick(len(origins))]}
		}
		switch c.pick(4) {
		case 0:
			r["pick"] = "random"
		case 1:
			r["pick"] = "ordered"
		}
		switch c.pick(4) {
		case 0:
			r["failoverOn"] = []any{"5xx", "timeout", "connection"}
		case 1:
			r["failoverOn"] = []any{500, "4xx", "timeout", "connection"}
		case 2:
			r["failoverOn"] = []any{"timeout", "5xx", "connection"}
		}
		r["passQuerystring"] = c.pick(2) == 0
		switch c.pick(4) {
		case 0:
			r["redirect"] = map[string]any{"code": []int{301, 302, 307}[c.pick(3)]}
		case 1:
			r["redirectCode"] = []int{301, 302}[c.pick(2)]
		}
		fetch := map[string]any{}
		if c.pick(3) == 0 {
			fetch["followRedirects"], fetch["store"] = []int{0, 10, 3}[c.pick(3)], c.pick(4) != 0
		}
		if c.pick(3) == 0 {
			// The options the gateway acts on beside the fetch: OSS says
			// all three, COS keeps the metadata and the fetch time only,
			// BOS, QingStor, OBS and TOS none but the origin's date.
			switch c.pick(3) {
			case 0:
				fetch["saveMeta"] = true
			case 1:
				fetch["saveMeta"] = false
			}
			switch c.pick(3) {
			case 0:
				fetch["lastModified"] = "fetched"
			case 1:
				fetch["lastModified"] = "origin"
			}
			switch c.pick(4) {
			case 0:
				fetch["probe"] = "http://probe.example.com/up"
			case 1:
				fetch["probe"] = c.one("https://p.example.com:8443/", "probe.example.com/health", "HTTP://P.example.com")
			}
		}
		if len(fetch) > 0 {
			r["fetch"] = fetch
		}
		switch c.pick(5) {
		case 0:
			r["rewrite"] = map[string]any{"replacePrefix": map[string]any{"to": c.one("x/", "")}}
		case 1:
			r["rewrite"] = map[string]any{"addPrefix": "pre/", "addSuffix": c.one("", ".s")}
		case 2:
			r["rewrite"] = map[string]any{"key": c.one("k/${key}", "lit$$", "$${key}")}
		}
		if c.pick(5) == 0 {
			r["passHeaders"] = []string{c.one("*", "x-a")}
			r["customHeaders"] = []map[string]string{{"headerName": "X-C", "headerValue": "v"}}
		}
	}
	out, _ := json.Marshal(map[string]any{"rules": rules})
	return out
}

// convRandomRequests are requests over the same alphabet: keys, methods,
// hosts, schemes and statuses.
func convRandomRequests(c *convBytes) []Request {
	reqs := []Request{{Key: "a"}, {Key: "abc"}, {Key: "b/x.j"}, {Key: "c", Method: "HEAD"}}
	for range 8 {
		var k strings.Builder
		for range c.pick(6) {
			k.WriteString(c.one("a", "b", "c", "/", ".j", "x"))
		}
		reqs = append(reqs, Request{
			Key:      k.String(),
			Method:   c.one("", "GET", "HEAD", "POST", "head"),
			Host:     c.one("", "h1.example.com", "h2.example.com:8080", "H1.example.com."),
			Scheme:   c.one("", "http", "https"),
			Status:   []int{0, 404, 403, 500, 200}[c.pick(5)],
			RawQuery: c.one("", "q=1"),
		})
	}
	return reqs
}

// FuzzConvert holds conversion to decisions: a random native document,
// exported to each format, where that succeeds, loads back with the
// format and decides every random request as the original does (mode,
// URLs, redirect code, headers, storage class, Policy, as decisionView
// compares them). Where it fails the error is a *CompileError whose
// problems name the native rule list. The rule index is compared too:
// no exporter reorders, as each writes the rules in the engine's order
// (OSS and COS with ascending priorities), so the first rule that
// decides is the same rule.
func FuzzConvert(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("convert every format"))
	f.Add([]byte{1, 1, 1, 2, 0, 3, 0, 1, 0, 0, 0, 0, 0, 1, 0, 4, 4, 4, 1, 0})
	f.Add([]byte{2, 0, 3, 2, 1, 1, 0, 3, 3, 3, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2})
	// Documents whose fetch.probe, fetch.saveMeta and fetch.lastModified
	// convert: to OSS (all three), COS (the metadata, "fetched"), OBS and
	// TOS ("origin").
	f.Add([]byte{0, 0, 5, 5, 5, 5, 5, 3, 4, 5, 1, 4, 2, 3, 3, 0, 4, 1, 0, 0, 0, 0, 2, 4, 0, 0, 1, 4, 2, 5, 3, 3, 3, 0, 0, 2, 2, 2, 3, 1})
	f.Add([]byte{0, 3, 5, 0, 0, 0, 1, 3, 5, 1, 3, 2, 1, 1, 3, 3, 0, 3, 3, 3, 1, 0, 0, 0, 3, 1, 3, 0, 1, 2, 0, 5, 2, 1, 0, 4, 0, 2, 3, 5})
	f.Add([]byte{0, 5, 5, 4, 4, 4, 5, 2, 3, 5, 2, 2, 5, 5, 1, 5, 1, 1, 3, 5, 4, 2, 0, 2, 3, 5, 2, 2, 3, 2, 1, 5, 3, 5, 4, 2, 1, 0, 3, 4})
	f.Add([]byte{0, 5, 5, 4, 2, 4, 5, 0, 1, 3, 1, 5, 2, 4, 4, 2, 1, 3, 1, 1, 2, 5, 0, 0, 1, 4, 2, 3, 2, 5, 5, 1, 0, 1, 4, 3, 0, 4, 4, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &convBytes{b: data}
		doc := convRandomDoc(c)
		eng, err := Compiler{AllowPrivateOrigins: true}.Load(doc, FormatNative)
		if err != nil {
			return
		}
		reqs := convRandomRequests(c)
		for _, f := range Formats {
			if f == FormatAuto {
				continue
			}
			out, err := eng.Export(f)
			if err != nil {
				var ce *CompileError
				if !errors.As(err, &ce) || len(ce.Problems) == 0 {
					t.Fatalf("%s: %T %v", f, err, err)
				}
				for _, p := range ce.Problems {
					if !strings.HasPrefix(p.Path, "rules") {
						t.Fatalf("%s: problem at %q, not in the native rules: %v", f, p.Path, p)
					}
				}
				continue
			}
			back, err := Compiler{AllowPrivateOrigins: true}.Load(out, f)
			if err != nil {
				t.Fatalf("%s: the exported document does not load: %v\n%s\nfrom %s", f, err, out, doc)
			}
			t.Logf("%s converts", f)
			func() {
				defer func() {
					if t.Failed() {
						t.Logf("document %s\nexported as %s:\n%s", doc, f, out)
					}
				}()
				sameDecisions(t, eng, back, reqs, true)
			}()
		}
	})
}
