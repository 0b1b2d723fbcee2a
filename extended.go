package mirror

import (
	"fmt"
	"strings"
)

// The request side of the extended model (docs/SEMANTICS.md §11): the
// conditions checked once the index has found a covering rule, and the
// origin key of a rewrite.

// holds reports whether every condition of c holds for req. It allocates
// nothing.
func (c *condition) holds(req *Request) bool { return c.why(req) == "" }

// why says which condition fails for req, or "" when all hold. Its
// reasons are constants, so that holds allocates nothing.
func (c *condition) why(req *Request) string {
	if !c.on.answers(req.Status) {
		return "on: the request's status is not one this rule answers"
	}
	if c.suffix != "" && !strings.HasSuffix(req.Key, c.suffix) {
		return "match.suffix: the key does not end with it"
	}
	if len(c.methods) > 0 {
		m := req.Method
		if m == "" {
			m = "GET"
		}
		found := false
		for _, want := range c.methods {
			if equalFoldASCII(m, want) {
				found = true
				break
			}
		}
		if !found {
			return "match.methods: the request's method is not in the list"
		}
	}
	if len(c.hosts) > 0 || len(c.notHosts) > 0 {
		h := hostOnly(req.Host)
		if len(c.hosts) > 0 && !containsFold(c.hosts, h) {
			return "match.hosts: the request's host is not in the list"
		}
		if containsFold(c.notHosts, h) {
			return "match.notHosts: the request's host is in the list"
		}
	}
	for _, want := range c.headers {
		if !headerHas(req, want) {
			return "match.headers: the request lacks a header with the value the rule asks for"
		}
	}
	return ""
}

// hostOnly is a Host header without its port and one trailing ".".
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			return h[:i+1]
		}
		return h
	}
	if i := strings.IndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if equalFoldASCII(v, s) {
			return true
		}
	}
	return false
}

// headerHas reports whether req has a header named want.Name (ASCII
// case-insensitively) with a value equal to want.Value.
func headerHas(req *Request, want MatchHeader) bool {
	if vs, ok := req.Header[want.Name]; ok {
		for _, v := range vs {
			if v == want.Value {
				return true
			}
		}
	}
	for name, vs := range req.Header {
		if name == want.Name || !equalFoldASCII(name, want.Name) {
			continue
		}
		for _, v := range vs {
			if v == want.Value {
				return true
			}
		}
	}
	return false
}

// apply is the key formula of docs/SEMANTICS.md §11.3 for key; lit is
// the rule's literal prefix (replacePrefix's default from).
func (k *keyRewrite) apply(key, lit string) string {
	out := key
	if k.key != nil {
		var b strings.Builder
		for _, p := range k.key {
			if p == keyRef {
				b.WriteString(key)
			} else {
				b.WriteString(p)
			}
		}
		out = b.String()
	}
	if p := k.prefix; p != nil {
		from := lit
		if !k.fromDefault {
			from = *p.From
		}
		if rest, ok := strings.CutPrefix(out, from); ok {
			if k.slash {
				rest = strings.TrimPrefix(rest, "/")
				if p.To != "" && rest != "" && !strings.HasSuffix(p.To, "/") {
					rest = "/" + rest
				}
			}
			out = p.To + rest
		}
	}
	if s := k.suffix; s != nil {
		if head, ok := strings.CutSuffix(out, s.From); ok {
			out = head + s.To
		}
	}
	return out
}

// explain is apply step by step, for Explain.
func (k *keyRewrite) explain(key, lit string, step func(format string, args ...any)) string {
	out := key
	if k.key != nil {
		out = (&keyRewrite{key: k.key}).apply(key, lit)
		step("rewrite.key: the key becomes %q", out)
	}
	if p := k.prefix; p != nil {
		from := lit
		if !k.fromDefault {
			from = *p.From
		}
		next := (&keyRewrite{prefix: p, fromDefault: k.fromDefault, slash: k.slash}).apply(out, lit)
		if strings.HasPrefix(out, from) {
			step("rewrite.replacePrefix: %q is replaced by %q: %q", from, p.To, next)
		} else {
			step("rewrite.replacePrefix: the key does not start with %q, unchanged", from)
		}
		out = next
	}
	if s := k.suffix; s != nil {
		next := (&keyRewrite{suffix: s}).apply(out, lit)
		if strings.HasSuffix(out, s.From) {
			step("rewrite.replaceSuffix: %q is replaced by %q: %q", s.From, s.To, next)
		} else {
			step("rewrite.replaceSuffix: the key does not end with %q, unchanged", s.From)
		}
		out = next
	}
	if k.addPrefix != "" {
		out = k.addPrefix + out
		step("rewrite.addPrefix %q is put in front: %q", k.addPrefix, out)
	}
	if k.addSuffix != "" {
		out += k.addSuffix
		step("rewrite.addSuffix %q is appended: %q", k.addSuffix, out)
	}
	return out
}

// collapseSlashes merges each run of "/" into one.
func collapseSlashes(s string) string {
	if !strings.Contains(s, "//") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && i > 0 && s[i-1] == '/' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// statusText is a request status for people.
func statusText(st int) string {
	if st == 0 {
		return "a miss"
	}
	return fmt.Sprintf("status %d", st)
}
