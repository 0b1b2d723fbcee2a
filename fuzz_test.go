package mirror

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gobwas/glob"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/text/unicode/norm"
)

// The fuzz targets check the engine against independent references: a
// rule-by-rule matcher written from docs/SEMANTICS.md §3 (wildcards by dynamic
// programming, globs by gobwas/glob itself), net/url and httpguts for the
// shape of what leaves the engine, and the contract's own lists. Every
// hostile case of hostile_test.go is a seed (testdata/fuzz/<Target>/).

func FuzzDocument(f *testing.F) {
	for _, c := range hostileDocuments {
		f.Add([]byte(c.doc))
	}
	f.Add([]byte(`{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"a/*","passHeaders":["*"]}]}`))
	f.Add([]byte(`{"rules":[{"mode":"redirect","sourceUrl":"o.example.com:8080/p","resource":"a*b*c","redirectCode":307},{"mode":"fetch","sourceUrl":"bos://e.example.com/bucket","resource":"x/**/y?","resourceSyntax":"glob"}]}`))
	f.Add([]byte(`{"source_site":"https://[2001:db8::1]:8443/img"}`))
	f.Add([]byte(`{"rules":[{"mode":"fetch","sourceUrls":["o1.example.com","o2.example.com/p"],"scheme":"request","sourceWeights":[3,1],` +
		`"match":{"prefix":"a","suffix":"k","headers":[{"name":"X-A","value":"1"}],"hosts":["h.example.com"],"methods":["GET"]},"on":[404,"5xx"],` +
		`"failoverOn":["5xx","timeout"],"rewrite":{"key":"x/${key}$$","replacePrefix":{"from":"x/","to":"y","join":"slash"},"replaceSuffix":{"from":"$","to":".z"},"addPrefix":"p/"},` +
		`"keepSlashes":false,"fetch":{"followRedirects":2,"checkMd5":true,"passStatus":[400],"store":false}},` +
		`{"mode":"redirect","redirect":{"host":"w.example.com","scheme":"https","code":308},"resource":"k","on":"always"},{"mode":"redirectFetch","sourceUrl":"http://o.example.com","match":{}}]}`))
	keys := []string{"a", "a/b", "x/y/z", "img/a.png", "/", "k"}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatBOS, FormatQingStor, FormatNative, FormatAuto} {
			eng, err := Load(data, format)
			if err != nil {
				var ce *CompileError
				if !errors.As(err, &ce) || len(ce.Problems) == 0 {
					t.Fatalf("%s: error %v is not a *CompileError with problems", format, err)
				}
				for _, p := range ce.Problems {
					if p.Path == "" || p.Reason == "" {
						t.Fatalf("%s: problem without a path or reason: %#v", format, p)
					}
				}
				continue
			}
			again, err := Load(data, format)
			if err != nil {
				t.Fatalf("%s: compiled once, then failed: %v", format, err)
			}
			for _, k := range append(keys, string(data[:min(len(data), 40)])) {
				d1, err1 := eng.Resolve(&Request{Key: k, RawQuery: "a=1"})
				d2, err2 := again.Resolve(&Request{Key: k, RawQuery: "a=1"})
				if !reflect.DeepEqual(d1, d2) || errors.Is(err1, ErrNoRule) != errors.Is(err2, ErrNoRule) {
					t.Fatalf("%s: two compilations decide %q differently: %v/%v vs %v/%v", format, k, d1, err1, d2, err2)
				}
			}
		}
	})
}

// fuzzRules builds up to four rules from spec: one per line,
// "FLAGS|RESOURCE|PREFIX|SUFFIX|FIXEDKEY|PREFIXREPLACE|EXT" (missing
// fields are empty). The bits of FLAGS pick glob syntax, v2,
// passQuerystring, pass-all headers, redirect mode, a backup origin, an
// ignore list and custom headers. EXT, when set, makes an extended rule
// (docs/SEMANTICS.md §11): the bits of its first byte pick a header
// condition, a suffix condition (the rest of EXT), "on" always, "on"
// [403, "5xx"], methods [HEAD], hosts, match.prefix instead of the
// resource, and rewrite instead of the BOS rewrite fields. Rules that do
// not compile alone are left out.
func fuzzRules(spec string) []Rule {
	var rules []Rule
	for _, line := range strings.SplitN(spec, "\n", 5)[:min(4, strings.Count(spec, "\n")+1)] {
		fields := strings.SplitN(line, "|", 7)
		for len(fields) < 7 {
			fields = append(fields, "")
		}
		var flags byte
		if fields[0] != "" {
			flags = fields[0][0]
		}
		r := Rule{Mode: ModeFetch, SourceURL: "https://o.example.com/base%20dir", Resource: fields[1],
			Prefix: fields[2], Suffix: fields[3], FixedKey: fields[4], PrefixReplace: fields[5]}
		if flags&1 != 0 {
			r.ResourceSyntax = "glob"
		}
		if flags&2 != 0 {
			r.Version = "v2"
		}
		r.PassQueryString = flags&4 != 0
		if flags&8 != 0 {
			r.PassHeaders = []string{"*"}
		} else {
			r.PassHeaders = []string{"Accept", "X-Pass"}
		}
		if flags&16 != 0 {
			r.Mode = ModeRedirect
		}
		if flags&32 != 0 {
			r.BackSourceURL = "bos://bj.bcebos.com/owner-bucket/m"
		}
		if flags&64 != 0 {
			r.IgnoreHeaders = []string{"X-Pass", "accept"}
		}
		if flags&128 != 0 {
			r.CustomHeaders = []Header{{"X-From", "mirror"}, {"Accept", "image/*"}}
		}
		if ext := fields[6]; ext != "" {
			fuzzExtend(&r, ext[0], ext[1:])
		}
		if _, err := Compile([]Rule{r}); err == nil {
			rules = append(rules, r)
		}
	}
	return rules
}

// fuzzExtend gives r the extended fields picked by bits (see fuzzRules).
func fuzzExtend(r *Rule, bits byte, suffix string) {
	r.Match = &Match{}
	if bits&1 != 0 {
		r.Match.Headers = []MatchHeader{{"x-pass", "1"}}
	}
	if bits&2 != 0 {
		r.Match.Suffix = suffix
	}
	switch {
	case bits&4 != 0:
		r.On = Trigger{"always"}
	case bits&8 != 0:
		r.On = Trigger{"403", "5xx"}
	}
	if bits&16 != 0 {
		r.Match.Methods = []string{"HEAD"}
	}
	if bits&32 != 0 {
		r.Match.Hosts = []string{"h.example.com"}
	}
	if bits&64 != 0 {
		r.Match.Prefix, r.Resource, r.ResourceSyntax = r.Resource, "", ""
	}
	if bits&128 != 0 {
		r.Rewrite = &Rewrite{AddPrefix: r.Prefix, AddSuffix: r.Suffix,
			ReplacePrefix: &ReplacePrefix{To: r.PrefixReplace, Join: "slash"}}
		r.Prefix, r.Suffix, r.FixedKey, r.PrefixReplace, r.Version = "", "", "", "", ""
	}
}

// fuzzRequest reads the request's header blob: "Name: value" lines, and
// the pseudo-lines ":method: M", ":host: H", ":status: N".
func fuzzRequest(key, query, blob string) *Request {
	req := &Request{Key: key, RawQuery: query}
	var rest []string
	for _, line := range strings.Split(blob, "\n") {
		if v, ok := strings.CutPrefix(line, ":method: "); ok {
			req.Method = v
		} else if v, ok := strings.CutPrefix(line, ":host: "); ok {
			req.Host = v
		} else if v, ok := strings.CutPrefix(line, ":status: "); ok {
			req.Status, _ = strconv.Atoi(v)
		} else {
			rest = append(rest, line)
		}
	}
	req.Header = fuzzHeader(strings.Join(rest, "\n"))
	return req
}

// fuzzHeader reads "Name: value" lines.
func fuzzHeader(blob string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(blob, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok {
			h[name] = append(h[name], strings.TrimPrefix(value, " "))
		}
	}
	return h
}

func FuzzResolve(f *testing.F) {
	for _, c := range hostileRequests {
		f.Add(c.spec, c.key, c.query, c.header)
	}
	f.Add("\x00|img/*.png\n\x02|img/*||.bak\n\x01|logs/**/day-?.txt", "img/a.png", "", "")
	f.Add("\x0e|a*b*c|p/|.x||r", "a/b/c", "x=1&Signature=s", "Accept: a\nCookie: c\nConnection: x-a\nX-A: 1")
	f.Add("\x8c|*|.|", "/x", "q", "X-Pass: 1\nx-pass: 2")
	f.Add("\x00|img/*|||||\x41\n\x02|img/*|p/||||\x82.png\n\x00|img/x*|||||\x44", "img/x.png", "", "x-pass: 1\n:status: 500")
	f.Add("\x00|a*|||||\x18\n\x00|a*|||||\x20\n\x00|a|||||\x40", "ab", "", ":method: head\n:host: H.example.com:80")
	f.Add("\x00|a/*|x/||q||\x80\n\x00|a/|||||\x81", "a//b", "", ":status: 403")
	f.Fuzz(func(t *testing.T, spec, key, query, header string) {
		rules := fuzzRules(spec)
		eng, err := Compile(rules)
		if err != nil {
			t.Fatalf("rules that compile alone do not compile together: %v", err)
		}
		req := fuzzRequest(key, query, header)

		// (a) Differential: the same rule as a plain loop over the rules.
		// The reference asks gobwas/glob, which backtracks (seconds on a
		// hostile 1 KB key): with a glob rule it is trusted with short
		// keys only.
		got, ok := eng.MatchRequest(req)
		want := got
		if keyReason(key) == "" && (len(key) <= 64 || !slices.ContainsFunc(rules, isGlob)) {
			want = refFirstRule(rules, req)
			if got != want || ok != (want >= 0) {
				t.Fatalf("MatchRequest(%+v) = %d, %v; the reference says %d", req, got, ok, want)
			}
			plain, _ := eng.Match(key)
			if ref := refFirstRule(rules, &Request{Key: key}); plain != ref {
				t.Fatalf("Match(%q) = %d; the reference says %d", key, plain, ref)
			}
		}
		d, err := eng.Resolve(req)
		d2, err2 := eng.Resolve(req)
		if !reflect.DeepEqual(d, d2) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("the same request gave two decisions: %#v %v / %#v %v", d, err, d2, err2)
		}
		checkFastPaths(t, eng, req, d, err)
		checkExplain(t, eng, req, d, err)
		switch {
		case keyReason(key) != "":
			mustBe(t, err, ErrInvalidKey)
			return
		case req.Status != 0 && (req.Status < 100 || req.Status > 599):
			mustBe(t, err, ErrInvalidRequest)
			return
		case want < 0:
			mustBe(t, err, ErrNoRule)
			return
		}
		r := rules[want]
		okey := refOriginKey(r, key)
		if okey == "" || refUnsafeSegment(okey) {
			mustBe(t, err, ErrUnsafeKey)
			return
		}
		if r.PassQueryString && query != "" && refQueryRefused(query) {
			mustBe(t, err, ErrInvalidQuery)
			return
		}
		if err != nil {
			t.Fatalf("key %q, query %q: unexpected %v", key, query, err)
		}
		// (b) Invariants of what leaves the engine.
		if d.Rule != want {
			t.Fatalf("decision for rule %d, Match said %d", d.Rule, want)
		}
		primary, backup := eng.Origins(want)
		bases := []string{primary}
		if r.Mode == ModeFetch && backup != "" {
			bases = append(bases, backup)
		}
		if len(d.URLs) != len(bases) {
			t.Fatalf("%d URLs for %d origins: %q", len(d.URLs), len(bases), d.URLs)
		}
		for i, u := range d.URLs {
			checkURL(t, u, bases[i], okey, query, r.PassQueryString)
			checkOrigin(t, d.Origins[i], u)
		}
		if r.Mode == ModeRedirect {
			if d.Header != nil || d.StorageClass != "" || d.RedirectCode == 0 {
				t.Fatalf("a redirect decision with headers, storage class or no code: %#v", d)
			}
			return
		}
		checkHeaders(t, r, req.Header, d.Header)
	})
}

// reusedDecision is what ResolveTo fills in checkFastPaths: each fuzz
// input resolves into what the previous one left there.
var reusedDecision Decision

// checkFastPaths holds AppendURL (whose one-pass check decides most
// requests) and ResolveTo (into a reused decision) to Resolve's answer,
// d and err.
func checkFastPaths(t *testing.T, eng *Engine, req *Request, d *Decision, err error) {
	t.Helper()
	buf, rule, aerr := eng.AppendURL([]byte("dst:"), req)
	terr := eng.ResolveTo(&reusedDecision, req)
	if err != nil {
		if aerr == nil || aerr.Error() != err.Error() || rule != -1 || string(buf) != "dst:" {
			t.Fatalf("Resolve: %v; AppendURL: %q, %d, %v", err, buf, rule, aerr)
		}
		if terr == nil || terr.Error() != err.Error() || reusedDecision.Rule != -1 {
			t.Fatalf("Resolve: %v; ResolveTo: %v, rule %d", err, terr, reusedDecision.Rule)
		}
		return
	}
	if aerr != nil || rule != d.Rule || string(buf) != "dst:"+d.URLs[0] {
		t.Fatalf("Resolve: %q (rule %d); AppendURL: %q, %d, %v", d.URLs[0], d.Rule, buf, rule, aerr)
	}
	if terr != nil {
		t.Fatalf("Resolve decided, ResolveTo: %v", terr)
	}
	got := reusedDecision
	if got.Header != nil || !reflect.DeepEqual(got.HeaderMap(), d.Header) {
		t.Fatalf("ResolveTo's headers %q, Resolve's %q", got.Fields, d.Header)
	}
	got.Header, got.Fields, got.buf = d.Header, nil, nil
	if !reflect.DeepEqual(&got, d) {
		t.Fatalf("ResolveTo: %#v\nResolve: %#v", got, *d)
	}
}

func FuzzQuery(f *testing.F) {
	for _, c := range hostileQueries {
		f.Add(c.query)
	}
	f.Add("a=1&b=2&&c")
	f.Add("X-Amz-Signature=1&x%2Damz-date=2&keep")
	f.Add(strings.Repeat("a&", 1001))
	eng, err := Compile([]Rule{{Mode: ModeFetch, SourceURL: "http://o.example.com", Resource: "*", PassQueryString: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		d, err := eng.Resolve(&Request{Key: "k", RawQuery: query})
		if err != nil {
			mustBe(t, err, ErrInvalidQuery)
			if !refQueryRefused(query) {
				t.Fatalf("query %q refused: %v", query, err)
			}
			return
		}
		if refQueryRefused(query) {
			t.Fatalf("query %q should be refused", query)
		}
		checkURL(t, d.URLs[0], "http://o.example.com/", "k", query, true)
	})
}

func isGlob(r Rule) bool { return r.ResourceSyntax == "glob" }

func mustBe(t *testing.T, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("want %v, got %v", class, err)
	}
}

// refFirstRule is docs/SEMANTICS.md §3 and §11 as a loop over the
// rules: the first rule that covers the key and whose conditions hold.
func refFirstRule(rules []Rule, req *Request) int {
	key := req.Key
	for i, r := range rules {
		if !refConditions(r, req) {
			continue
		}
		if r.Resource == "" && r.Match != nil {
			if strings.HasPrefix(key, r.Match.Prefix) {
				return i
			}
			continue
		}
		if r.ResourceSyntax == "glob" {
			g, err := glob.Compiler{Separators: []rune{'/'}, Globstar: true}.Compile(r.Resource)
			if err == nil && g.Match(key) {
				return i
			}
			continue
		}
		if refWildcard(r.Resource, key) {
			return i
		}
	}
	return -1
}

// refConditions is docs/SEMANTICS.md §11's conditions, written again.
func refConditions(r Rule, req *Request) bool {
	st := req.Status
	if st == 0 {
		st = 404
	}
	on := []string(r.On)
	switch {
	case len(on) == 0 || (len(on) == 1 && on[0] == "miss"):
		if st != 404 {
			return false
		}
	case len(on) == 1 && on[0] == "always":
	default:
		hit := false
		for _, o := range on {
			hit = hit || o == strconv.Itoa(st) || (len(o) == 3 && o[1:] == "xx" && o[0] == byte('0'+st/100))
		}
		if !hit {
			return false
		}
	}
	m := r.Match
	if m == nil {
		return true
	}
	if !strings.HasSuffix(req.Key, m.Suffix) {
		return false
	}
	if len(m.Methods) > 0 {
		method := req.Method
		if method == "" {
			method = "GET"
		}
		if !slices.ContainsFunc(m.Methods, func(x string) bool { return strings.EqualFold(x, method) }) {
			return false
		}
	}
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if len(m.Hosts) > 0 && !slices.ContainsFunc(m.Hosts, func(x string) bool { return strings.EqualFold(x, host) }) {
		return false
	}
	if slices.ContainsFunc(m.NotHosts, func(x string) bool { return strings.EqualFold(x, host) }) {
		return false
	}
	for _, want := range m.Headers {
		found := false
		for name, vs := range req.Header {
			if strings.EqualFold(name, want.Name) && slices.Contains(vs, want.Value) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// refWildcard matches "*" (any run of bytes) by dynamic programming over
// pattern and key positions: no backtracking, independent of the engine's
// left-to-right matcher.
func refWildcard(pattern, key string) bool {
	// can[j]: pattern[:i] matches key[:j].
	can := make([]bool, len(key)+1)
	can[0] = true
	for i := 0; i < len(pattern); i++ {
		next := make([]bool, len(key)+1)
		if pattern[i] == '*' {
			seen := false
			for j := 0; j <= len(key); j++ {
				seen = seen || can[j]
				next[j] = seen
			}
		} else {
			for j := 1; j <= len(key); j++ {
				next[j] = can[j-1] && key[j-1] == pattern[i]
			}
		}
		can = next
	}
	return can[len(key)]
}

// refOriginKey is docs/SEMANTICS.md §4 (and §11.3) for one rule.
func refOriginKey(r Rule, key string) string {
	if rw := r.Rewrite; rw != nil {
		// The fuzz rules' rewrite: replacePrefix from the literal
		// prefix, joined with a slash, between addPrefix and addSuffix.
		lit := refLiteral(r)
		k := key
		if rest, ok := strings.CutPrefix(k, lit); ok && rw.ReplacePrefix != nil {
			rest = strings.TrimPrefix(rest, "/")
			to := rw.ReplacePrefix.To
			if to != "" && rest != "" && !strings.HasSuffix(to, "/") {
				to += "/"
			}
			k = to + rest
		}
		return rw.AddPrefix + k + rw.AddSuffix
	}
	if r.FixedKey != "" {
		return r.FixedKey
	}
	result := key
	if r.Version == "v2" {
		lit := refLiteral(r)
		rest := strings.TrimPrefix(strings.TrimPrefix(key, lit), "/")
		result = rest
		if r.PrefixReplace != "" {
			result = r.PrefixReplace
			if !strings.HasSuffix(result, "/") && rest != "" {
				result += "/"
			}
			result += rest
		}
	}
	return r.Prefix + result + r.Suffix
}

// refLiteral is the literal prefix of r's resource (or its match.prefix).
func refLiteral(r Rule) string {
	if r.Resource == "" && r.Match != nil {
		return r.Match.Prefix
	}
	meta := "*"
	if r.ResourceSyntax == "glob" {
		meta = `*?[{\`
	}
	lit := r.Resource
	if i := strings.IndexAny(lit, meta); i >= 0 {
		lit = lit[:i]
	}
	return lit
}

// refUnsafeSegment is the unsafe-segment rule of docs/SEMANTICS.md §4, written again.
func refUnsafeSegment(k string) bool {
	for _, seg := range strings.FieldsFunc(norm.NFKC.String(k), func(r rune) bool { return r == '/' || r == '\\' }) {
		dotsAndSpace := strings.TrimFunc(seg, func(r rune) bool { return r == '.' || unicode.Is(unicode.White_Space, r) }) == ""
		if dotsAndSpace && strings.Contains(seg, ".") {
			return true
		}
	}
	return false
}

// refQueryRefused is the refusal rule of docs/SEMANTICS.md §5, written again.
func refQueryRefused(q string) bool {
	if len(q) > 8192 {
		return true
	}
	const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/?%"
	for i := 0; i < len(q); i++ {
		if strings.IndexByte(allowed, q[i]) < 0 {
			return true
		}
		if q[i] == '%' && (i+2 >= len(q) || !strings.ContainsAny(q[i+1:i+2], "0123456789abcdefABCDEF") ||
			!strings.ContainsAny(q[i+2:i+3], "0123456789abcdefABCDEF")) {
			return true
		}
	}
	n := 0
	for _, p := range strings.Split(q, "&") {
		if p != "" {
			n++
		}
	}
	return n > 1000
}

// refCredentialParam: docs/SEMANTICS.md §5's list of parameters that never reach an
// origin.
func refCredentialParam(piece string) bool {
	name, _, _ := strings.Cut(piece, "=")
	name, err := url.PathUnescape(name)
	if err != nil {
		return false
	}
	name = strings.ToLower(name)
	switch name {
	case "authorization", "signature", "awsaccesskeyid", "ossaccesskeyid", "accesskeyid", "access_key_id",
		"googleaccessid", "security-token", "q-ak", "q-signature", "q-sign-algorithm", "q-sign-time",
		"q-key-time", "q-header-list", "q-url-param-list", "sig", "sign", "access_token":
		return true
	}
	for _, p := range []string{"x-amz-", "x-bce-", "x-oss-", "x-cos-", "x-obs-", "x-tos-", "x-goog-", "x-ms-", "x-qs-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// checkURL holds every URL to its origin: same scheme, host and port, the
// base path as a prefix, the origin key back when unescaped, no dot
// segment, userinfo or fragment, and a query made of the request's own
// pieces, in order, without credentials.
func checkURL(t *testing.T, raw, base, okey, query string, passQuery bool) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("URL %q does not parse: %v", raw, err)
	}
	b, err := url.Parse(base)
	if err != nil {
		t.Fatalf("base %q does not parse: %v", base, err)
	}
	if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		t.Fatalf("URL %q left its origin %q", raw, base)
	}
	rawPath, rawQuery, hasQuery := strings.Cut(strings.TrimPrefix(raw, b.Scheme+"://"+b.Host), "?")
	if !strings.HasPrefix(rawPath, b.EscapedPath()) {
		t.Fatalf("URL %q does not start with the base path %q", raw, b.EscapedPath())
	}
	if k, err := url.PathUnescape(rawPath[len(b.EscapedPath()):]); err != nil || k != okey {
		t.Fatalf("URL %q: key part unescapes to %q (%v), want %q", raw, k, err, okey)
	}
	if removeDotSegments(rawPath) != rawPath {
		t.Fatalf("URL %q: dot-segment removal changes its path", raw)
	}
	if !hasQuery {
		return
	}
	if !passQuery || rawQuery == "" || b.Scheme == "bos" {
		t.Fatalf("URL %q has a query it should not have", raw)
	}
	pieces := strings.Split(query, "&")
	for _, p := range strings.Split(rawQuery, "&") {
		if refCredentialParam(p) {
			t.Fatalf("URL %q forwards credential %q", raw, p)
		}
		for len(pieces) > 0 && pieces[0] != p {
			pieces = pieces[1:]
		}
		if len(pieces) == 0 {
			t.Fatalf("URL %q: query is not a subsequence of %q", raw, query)
		}
		pieces = pieces[1:]
	}
}

// checkOrigin: an Origin's parts put its URL back together, its request
// line is exactly Path and RawQuery, and a bos:// object key is the path
// after the bucket, decoded.
func checkOrigin(t *testing.T, o Origin, raw string) {
	t.Helper()
	u := o.Scheme + "://" + o.Authority() + o.Path
	if o.RawQuery != "" {
		u += "?" + o.RawQuery
	}
	if u != raw || o.String() != raw {
		t.Fatalf("origin %#v does not rebuild %q", o, raw)
	}
	req, err := o.NewRequest(context.Background())
	if err != nil {
		t.Fatalf("NewRequest(%q): %v", raw, err)
	}
	line := o.Path
	if o.RawQuery != "" {
		line += "?" + o.RawQuery
	}
	if req.URL.RequestURI() != line || req.Host != o.Authority() {
		t.Fatalf("NewRequest(%q) sends %q to %q", raw, req.URL.RequestURI(), req.Host)
	}
	if o.Scheme == "bos" {
		key, err := url.PathUnescape(strings.TrimPrefix(o.Path, "/"+o.Bucket+"/"))
		if err != nil || key != o.Key || o.Bucket == "" {
			t.Fatalf("bos origin %#v: the path after the bucket decodes to %q", o, key)
		}
	}
}

// removeDotSegments is RFC 3986 §5.2.4.
func removeDotSegments(p string) string {
	var out []string
	in := strings.Split(p, "/")
	for i, seg := range in {
		switch seg {
		case ".":
			if i == len(in)-1 {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if i == len(in)-1 {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	return strings.Join(out, "/")
}

// neverFromClient is docs/SEMANTICS.md §6's list, written again.
func neverFromClient(name string, req http.Header) bool {
	n := asciiLower(name)
	switch n {
	case "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
		"trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect", "authorization",
		"cookie", "x-api-key", "x-auth-token", "range", "if-range", "if-match", "if-none-match",
		"if-modified-since", "if-unmodified-since", "accept-encoding", "date", "content-md5", "forwarded",
		"via", "x-real-ip", "x-client-ip", "client-ip", "x-cluster-client-ip", "true-client-ip", "x-host",
		"x-rewrite-url", "x-http-method-override", "x-http-method", "x-method-override", "x-sendfile",
		"proxy", "http2-settings":
		return true
	}
	for _, p := range []string{"x-amz-", "x-bce-", "x-oss-", "oss-", "x-drs-", "x-cos-", "x-obs-", "x-tos-", "x-goog-",
		"x-ms-", "x-qs-", "x-forwarded-", "cf-", "x-envoy-", "x-original-", "x-accel-"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for k, vs := range req {
		if asciiLower(k) == "connection" {
			for _, v := range vs {
				for _, tok := range strings.Split(v, ",") {
					if asciiLower(strings.Trim(tok, " \t")) == n {
						return true
					}
				}
			}
		}
	}
	return strings.Contains(name, "_") || !httpguts.ValidHeaderFieldName(name)
}

// asciiLower lower-cases A-Z only: docs/SEMANTICS.md §6 never folds Unicode.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// checkHeaders: every header is well-formed, custom headers always win,
// and every other header came from the client, may be forwarded, was
// asked for and not ignored.
func checkHeaders(t *testing.T, r Rule, req, got http.Header) {
	t.Helper()
	custom := map[string]string{}
	for _, h := range r.CustomHeaders {
		custom[http.CanonicalHeaderKey(h.Name)] = h.Value
		if vs := got[http.CanonicalHeaderKey(h.Name)]; len(vs) != 1 || vs[0] != h.Value {
			t.Fatalf("custom header %s: got %q", h.Name, vs)
		}
	}
	for name, values := range got {
		if !httpguts.ValidHeaderFieldName(name) || name != http.CanonicalHeaderKey(name) || strings.EqualFold(name, "Host") {
			t.Fatalf("bad header name %q", name)
		}
		if len(values) == 0 {
			t.Fatalf("header %q without values", name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				t.Fatalf("header %q has a bad value %q", name, v)
			}
		}
		if _, ok := custom[name]; ok {
			continue
		}
		from := 0
		for k, vs := range req {
			if http.CanonicalHeaderKey(k) == name {
				if neverFromClient(k, req) {
					t.Fatalf("never-forwarded header %q passed from the client", k)
				}
				from += len(vs)
			}
		}
		if from < len(values) {
			t.Fatalf("header %q has values the client did not send", name)
		}
		asked := len(r.PassHeaders) == 1 && r.PassHeaders[0] == "*"
		for _, p := range r.PassHeaders {
			asked = asked || strings.EqualFold(p, name)
		}
		for _, ig := range r.IgnoreHeaders {
			if strings.EqualFold(ig, name) {
				t.Fatalf("ignored header %q passed", name)
			}
		}
		if !asked {
			t.Fatalf("header %q passed without being asked for", name)
		}
	}
}

// FuzzGlob holds the glob automaton to gobwas/glob on every pattern both
// accept, on keys short enough that gobwas's backtracking stays quick.
// The engine may refuse only what gobwas does not compile and globs over
// the wildcard limit.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"img/{a,*}*.jpg", "img/private/secret.jpg"}, {`{[\],x]y,b}]`, ",y]"}, {"logs/**/x", "logs/x"},
		{"x/*{}**/y", "x/a/b/y"}, {"{a,b/}**/x", "b/x"}, {"a**/b", "a/c/b"}, {"[!a-c]?*", "d/x"},
		{"*{*/,}/**[/]b", "a//b"}, {"{a,b}/**/x", "b/x"},
		{"*a*?a*a?[a][a]", "aaaaaaaaaaaaaaaaaaaa"}, {`\*{,[\-x]}`, "*-"}, {"{{a,b}c,d{e,f}}*", "bcz"},
		{"**/*.{png,jpg}", "a/b.png"}, {"日本/?/*", "日本/語/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		pattern, key = pattern[:min(len(pattern), 40)], key[:min(len(key), 24)]
		p, reason := resourcePattern(pattern, "glob", false)
		g, err := globCompiler.Compile(pattern)
		switch {
		case err != nil && reason == "" && pattern != "" && utf8.ValidString(pattern) && !hasControl(pattern):
			t.Fatalf("the engine accepts %q, which gobwas refuses: %v", pattern, err)
		case err != nil || reason != "":
			if err == nil && pattern != "" && !hasControl(pattern) && !strings.Contains(reason, "wildcards") && !strings.Contains(reason, `"**"`) {
				t.Fatalf("the engine refuses %q, which gobwas compiles: %s", pattern, reason)
			}
			return
		}
		if got, want := p.covers(key), g.Match(key); got != want {
			t.Fatalf("%q ~ %q: engine %v, gobwas %v", pattern, key, got, want)
		}
	})
}
