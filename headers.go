package mirror

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// neverForwarded holds, lower-cased, the request headers a client can
// never pass to an origin (SPEC §6), with what each group is about.
var neverForwarded = func() map[string]string {
	m := map[string]string{}
	add := func(why string, names ...string) {
		for _, n := range names {
			m[n] = why
		}
	}
	add("a hop-by-hop header", "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
		"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade")
	add("a framing header", "host", "content-length", "expect")
	add("a client credential", credentialHeaders...)
	add("a partial or conditional fetch header (the stored object must be whole)", "range", "if-range",
		"if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "accept-encoding",
		"date", "content-md5")
	add("a claim about the client or the route", "forwarded", "via", "x-forwarded-for", "x-forwarded-host",
		"x-forwarded-proto", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "x-real-ip",
		"x-client-ip", "true-client-ip", "x-host")
	add("a header that makes an origin serve another path or method", "x-original-url", "x-rewrite-url",
		"x-http-method-override", "x-http-method", "x-method-override")
	return m
}()

// credentialHeaders may be set by an operator as customHeaders (origin
// credentials), but never passed from a client.
var credentialHeaders = []string{"authorization", "cookie", "x-api-key", "x-auth-token"}

// vendorHeaderPrefixes are storage vendors' own header namespaces: they
// carry the client's signature and instructions for the bucket, not for
// the origin.
var vendorHeaderPrefixes = []string{"x-amz-", "x-bce-", "x-oss-", "oss-", "x-drs-", "x-cos-", "x-obs-",
	"x-tos-", "x-goog-", "x-ms-", "x-qs-"}

// neverForwardedWhy says why a header name may never come from a client,
// or "" when it may. Names are compared case-insensitively without
// allocating: this runs for every request header.
func neverForwardedWhy(name string) string {
	if !validHeaderName(name) {
		return "not an RFC 9110 token without _"
	}
	var buf [32]byte
	if len(name) <= len(buf) {
		for i := 0; i < len(name); i++ {
			buf[i] = lower(name[i])
		}
		if why, ok := neverForwarded[string(buf[:len(name)])]; ok {
			return why
		}
	}
	for _, p := range vendorHeaderPrefixes {
		if hasPrefixFold(name, p) {
			return "in a storage vendor's namespace (" + p + "*)"
		}
	}
	return ""
}

func isCredentialHeader(name string) bool {
	for _, c := range credentialHeaders {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}

// validHeaderName: an RFC 9110 token that holds no "_" (proxies and CGI
// map "_" and "-" to the same variable, which lets a header pose as
// another).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if c == '_' || strings.IndexByte("!#$%&'*+-.^`|~", c) < 0 {
			return false
		}
	}
	return true
}

// validHeaderValue: no control byte other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// headerPlan is a rule's header policy, worked out at compile time.
type headerPlan struct {
	passAll bool
	pass    []string // canonical names, sorted (passHeaders without "*")
	ignore  []string // canonical names, sorted
	custom  []Header // canonical names, sorted by name
}

// emptyPlan is shared by every rule that neither passes nor sets headers.
var emptyPlan = &headerPlan{}

func (p *headerPlan) empty() bool {
	return !p.passAll && len(p.pass) == 0 && len(p.custom) == 0
}

// compileHeaders checks a rule's header fields and returns its plan.
// limit is the per-list maximum (0: none); primary and backup are the
// parsed origins (nil when unset or invalid), for the credential check.
func compileHeaders(r *Rule, i int, limit int, primary, backup *origin, unset fieldSet, probs *problems) *headerPlan {
	if len(r.PassHeaders) == 0 && len(r.IgnoreHeaders) == 0 && len(r.CustomHeaders) == 0 {
		return emptyPlan
	}
	plan := &headerPlan{}
	if !unset["passHeaders"] {
		if limit > 0 && len(r.PassHeaders) > limit {
			probs.add(i, "passHeaders", fmt.Sprintf("has %d names, more than %d", len(r.PassHeaders), limit))
		}
		for j, name := range r.PassHeaders {
			field := fmt.Sprintf("passHeaders[%d]", j)
			switch {
			case name == "*" && len(r.PassHeaders) > 1:
				probs.add(i, field, `"*" passes every header and can not be listed with other names`)
			case name == "*":
				plan.passAll = true
			case !validHeaderName(name):
				probs.add(i, field, fmt.Sprintf("%q is not an RFC 9110 token without _", name))
			default:
				if why := neverForwardedWhy(name); why != "" {
					probs.add(i, field, fmt.Sprintf("%q is never forwarded from a client: %s", name, why))
					continue
				}
				plan.pass = append(plan.pass, http.CanonicalHeaderKey(name))
			}
		}
	}
	if !unset["ignoreHeaders"] {
		if limit > 0 && len(r.IgnoreHeaders) > limit {
			probs.add(i, "ignoreHeaders", fmt.Sprintf("has %d names, more than %d", len(r.IgnoreHeaders), limit))
		}
		for j, name := range r.IgnoreHeaders {
			if !validHeaderName(name) || name == "*" {
				probs.add(i, fmt.Sprintf("ignoreHeaders[%d]", j), fmt.Sprintf("%q is not a header name (an RFC 9110 token without _, not *)", name))
				continue
			}
			plan.ignore = append(plan.ignore, http.CanonicalHeaderKey(name))
		}
	}
	if !unset["customHeaders"] {
		if limit > 0 && len(r.CustomHeaders) > limit {
			probs.add(i, "customHeaders", fmt.Sprintf("has %d headers, more than %d", len(r.CustomHeaders), limit))
		}
		for j, h := range r.CustomHeaders {
			field := fmt.Sprintf("customHeaders[%d]", j)
			name := http.CanonicalHeaderKey(h.Name)
			switch why := neverForwardedWhy(h.Name); {
			case !validHeaderName(h.Name):
				probs.add(i, field+".headerName", fmt.Sprintf("%q is not an RFC 9110 token without _", h.Name))
				continue
			case why != "" && !isCredentialHeader(h.Name):
				probs.add(i, field+".headerName", fmt.Sprintf("%q can not be set: it is %s", h.Name, why))
				continue
			case why != "" && primary != nil && backup != nil && !primary.sameParty(backup):
				probs.add(i, field+".headerName", fmt.Sprintf("credential %q would also reach the backup origin %s, another party than the primary %s",
					h.Name, backup.scheme+"://"+backup.hostport, primary.scheme+"://"+primary.hostport))
				continue
			case slices.ContainsFunc(plan.custom, func(o Header) bool { return o.Name == name }):
				probs.add(i, field+".headerName", fmt.Sprintf("%q is set twice", h.Name))
				continue
			}
			if reason := customValueReason(h.Value); reason != "" {
				probs.add(i, field+".headerValue", reason)
				continue
			}
			plan.custom = append(plan.custom, Header{Name: name, Value: h.Value})
		}
	}
	if plan.empty() {
		return emptyPlan
	}
	slices.Sort(plan.pass)
	plan.pass = slices.Compact(plan.pass)
	slices.Sort(plan.ignore)
	plan.ignore = slices.Compact(plan.ignore)
	slices.SortFunc(plan.custom, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	return plan
}

func customValueReason(v string) string {
	switch {
	case len(v) > maxFieldLen:
		return "longer than 1024 bytes"
	case !validHeaderValue(v):
		return "holds a control byte (only tab is allowed)"
	case strings.TrimLeft(v, " \t") != v || strings.TrimRight(v, " \t") != v:
		return "has leading or trailing white space"
	}
	return ""
}

// headers runs the pass and set steps of SPEC §6 for one request.
func (p *headerPlan) headers(req http.Header) http.Header {
	if p.empty() {
		return nil
	}
	// Names are grouped by canonical form and, within a group, taken in
	// byte order, so that names differing only in case merge in the same
	// order whatever the map's order.
	var stack [16]passed
	names := stack[:0]
	nvalues := len(p.custom)
	if (p.passAll || len(p.pass) > 0) && len(req) > 0 {
		hop := connectionTokens(req)
		for name, values := range req {
			if len(values) == 0 || neverForwardedWhy(name) != "" || hop.has(name) {
				continue
			}
			if key := http.CanonicalHeaderKey(name); p.passes(key) {
				names = append(names, passed{key, name})
				nvalues += len(values)
			}
		}
		slices.SortFunc(names, func(a, b passed) int {
			if c := strings.Compare(a.key, b.key); c != 0 {
				return c
			}
			return strings.Compare(a.name, b.name)
		})
	}
	// One backing array holds every value; each name gets a full slice of
	// it, so that a caller appending to one name can not overwrite another.
	values := make([]string, 0, nvalues)
	out := make(http.Header, len(names)+len(p.custom))
	for i := 0; i < len(names); {
		key := names[i].key
		start := len(values)
		for ; i < len(names) && names[i].key == key; i++ {
			for _, v := range req[names[i].name] {
				if validHeaderValue(v) {
					values = append(values, v)
				}
			}
		}
		if len(values) > start {
			out[key] = values[start:len(values):len(values)]
		}
	}
	for _, h := range p.custom {
		values = append(values, h.Value)
		out[h.Name] = values[len(values)-1 : len(values) : len(values)]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// passed is a request header name the pass step takes, with its
// canonical form.
type passed struct{ key, name string }

// passes reports whether the rule's pass step takes a request header,
// by its canonical name, once it is known to be one a client may send.
func (p *headerPlan) passes(key string) bool {
	if _, found := slices.BinarySearch(p.ignore, key); found {
		return false
	}
	if _, found := slices.BinarySearchFunc(p.custom, key, func(h Header, k string) int { return strings.Compare(h.Name, k) }); found {
		return false // the set step replaces it anyway
	}
	if p.passAll {
		return true
	}
	_, found := slices.BinarySearch(p.pass, key)
	return found
}

// hopByHop holds the names a request's own Connection header lists, which
// makes them hop-by-hop (RFC 9110 §7.6.1). It is read once per request:
// a request with many headers and a long Connection list must not cost
// their product.
type hopByHop struct {
	few  []string            // up to 8 tokens, as sent
	many map[string]struct{} // canonical tokens, when there are more
}

func connectionTokens(req http.Header) hopByHop {
	var h hopByHop
	for k, values := range req {
		if !strings.EqualFold(k, "Connection") {
			continue
		}
		for _, v := range values {
			for v != "" {
				var tok string
				tok, v, _ = strings.Cut(v, ",")
				if tok = strings.Trim(tok, " \t"); tok != "" {
					h.add(tok)
				}
			}
		}
	}
	return h
}

func (h *hopByHop) add(tok string) {
	if h.many == nil && len(h.few) < 8 {
		h.few = append(h.few, tok)
		return
	}
	if h.many == nil {
		h.many = make(map[string]struct{}, 16)
		for _, t := range h.few {
			h.many[http.CanonicalHeaderKey(t)] = struct{}{}
		}
	}
	h.many[http.CanonicalHeaderKey(tok)] = struct{}{}
}

func (h *hopByHop) has(name string) bool {
	if h.many != nil {
		_, ok := h.many[http.CanonicalHeaderKey(name)]
		return ok
	}
	for _, t := range h.few {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
