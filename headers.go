package mirror

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// The header rules of docs/SEMANTICS.md §6. A client can never pass a
// header this file classifies; what a rule may do with its name depends
// on the class's tier.

// headerClass is a group of headers a client can never pass on.
type headerClass struct {
	why string
	// reserved: a rule may not name it in passHeaders (a compile error).
	// Otherwise it is a client claim: naming it there is allowed and has
	// no effect.
	reserved bool
	// settable: a rule may set it as a customHeader.
	settable bool
	// credential: set as a customHeader, it must not reach a backup origin
	// of another party.
	credential bool
}

var (
	hopByHopClass    = &headerClass{why: "a hop-by-hop header", reserved: true}
	framingClass     = &headerClass{why: "a framing header", reserved: true}
	credentialClass  = &headerClass{why: "a credential", reserved: true, settable: true, credential: true}
	partialClass     = &headerClass{why: "a partial or conditional fetch header (the stored object must be whole)", reserved: true}
	viaClass         = &headerClass{why: "the loop marker of mirror gateways", reserved: true}
	vendorClass      = &headerClass{why: "in a storage vendor's namespace", reserved: true, settable: true, credential: true}
	claimClass       = &headerClass{why: "a claim about the client or the route", settable: true}
	overrideClass    = &headerClass{why: "a header that makes an origin or its proxy serve another path, file or method", settable: true}
	proxyClass       = &headerClass{why: "read by CGI origins as their HTTP proxy (httpoxy)", settable: true}
	cfAccessClass    = &headerClass{why: "a claim about the client or the route", settable: true, credential: true}
	invalidNameClass = &headerClass{why: "not an RFC 9110 token without _", reserved: true}
)

// headerClasses maps lower-case names to their class.
var headerClasses = func() map[string]*headerClass {
	m := map[string]*headerClass{}
	add := func(c *headerClass, names ...string) {
		for _, n := range names {
			m[n] = c
		}
	}
	add(hopByHopClass, "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
		"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade")
	add(framingClass, "host", "content-length", "expect")
	add(credentialClass, "authorization", "cookie", "x-api-key", "x-auth-token")
	add(partialClass, "range", "if-range", "if-match", "if-none-match", "if-modified-since",
		"if-unmodified-since", "accept-encoding", "date", "content-md5")
	add(viaClass, "via")
	add(claimClass, "forwarded", "x-real-ip", "x-client-ip", "client-ip", "x-cluster-client-ip",
		"true-client-ip", "x-host")
	add(overrideClass, "x-rewrite-url", "x-http-method-override", "x-http-method", "x-method-override", "x-sendfile")
	add(proxyClass, "proxy", "http2-settings")
	add(cfAccessClass, "cf-access-client-id", "cf-access-client-secret")
	return m
}()

// headerPrefixes are the name spaces that are classified as a whole.
var headerPrefixes = []struct {
	prefix string
	class  *headerClass
}{
	{"x-amz-", vendorClass}, {"x-bce-", vendorClass}, {"x-oss-", vendorClass}, {"oss-", vendorClass},
	{"x-drs-", vendorClass}, {"x-cos-", vendorClass}, {"x-obs-", vendorClass}, {"x-tos-", vendorClass},
	{"x-goog-", vendorClass}, {"x-ms-", vendorClass}, {"x-qs-", vendorClass},
	{"x-forwarded-", claimClass}, {"cf-", claimClass}, {"x-envoy-", claimClass}, {"x-original-", claimClass},
	{"x-accel-", overrideClass},
}

// classify returns the class of a header name, or nil when a client may
// pass it. Names are compared ASCII case-insensitively without
// allocating: this runs for every request header.
func classify(name string) *headerClass {
	if !validHeaderName(name) {
		return invalidNameClass
	}
	var buf [64]byte
	n := min(len(name), len(buf))
	for i := 0; i < n; i++ {
		buf[i] = lower(name[i])
	}
	if len(name) <= len(buf) {
		if c, ok := headerClasses[string(buf[:n])]; ok {
			return c
		}
	}
	switch buf[0] {
	case 'x', 'o', 'c':
		for _, p := range headerPrefixes {
			if n >= len(p.prefix) && string(buf[:len(p.prefix)]) == p.prefix {
				return p.class
			}
		}
	}
	return nil
}

// validHeaderName: an RFC 9110 token that holds no "_" (proxies and CGI
// map "_" and "-" to the same variable, which lets a header pose as
// another).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !tokenNoUnderscore[name[i]] {
			return false
		}
	}
	return true
}

var tokenNoUnderscore = newByteSet("!#$%&'*+-.^`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

// headerPlan is a rule's header policy, worked out at compile time, and
// its header lists as written.
type headerPlan struct {
	passAll bool
	pass    []string // canonical names, sorted (passHeaders without "*")
	take    []string // pass less ignore and custom: what the pass step takes
	ignore  []string // canonical names, sorted
	custom  []Header // canonical names, sorted by name
	raw     struct {
		pass, ignore []string
		custom       []Header
	}
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
	plan.raw.pass, plan.raw.ignore = slices.Clone(r.PassHeaders), slices.Clone(r.IgnoreHeaders)
	plan.raw.custom = slices.Clone(r.CustomHeaders)
	tooMany := func(field string, n int, what string) {
		if limit > 0 && n > limit {
			probs.add(i, field, fmt.Sprintf("has %d %s, more than %d", n, what, limit))
		}
	}
	if !unset["passHeaders"] {
		tooMany("passHeaders", len(r.PassHeaders), "names")
		for j, name := range r.PassHeaders {
			field := indexed("passHeaders", j)
			switch c := classify(name); {
			case name == "*" && len(r.PassHeaders) > 1:
				probs.add(i, field, `"*" passes every header and can not be listed with other names`)
			case name == "*":
				plan.passAll = true
			case c == invalidNameClass:
				probs.add(i, field, fmt.Sprintf("%q is not an RFC 9110 token without _", name))
			case c != nil && c.reserved:
				probs.add(i, field, fmt.Sprintf("%q is never forwarded from a client: it is %s", name, c.why))
			case c != nil:
				// A client claim: allowed, and it has no effect.
			default:
				plan.pass = appendName(plan.pass, name)
			}
		}
	}
	if !unset["ignoreHeaders"] {
		tooMany("ignoreHeaders", len(r.IgnoreHeaders), "names")
		for j, name := range r.IgnoreHeaders {
			if !validHeaderName(name) || name == "*" {
				probs.add(i, indexed("ignoreHeaders", j), fmt.Sprintf("%q is not a header name (an RFC 9110 token without _, not *)", name))
				continue
			}
			plan.ignore = appendName(plan.ignore, name)
		}
	}
	if !unset["customHeaders"] {
		tooMany("customHeaders", len(r.CustomHeaders), "headers")
		seen := make(map[string]bool, len(r.CustomHeaders))
		for j, h := range r.CustomHeaders {
			field := indexed("customHeaders", j)
			name := http.CanonicalHeaderKey(h.Name)
			switch c := classify(h.Name); {
			case c == invalidNameClass:
				probs.add(i, field+".headerName", fmt.Sprintf("%q is not an RFC 9110 token without _", h.Name))
				continue
			case c != nil && !c.settable:
				probs.add(i, field+".headerName", fmt.Sprintf("%q can not be set: it is %s", h.Name, c.why))
				continue
			case c != nil && c.credential && primary != nil && backup != nil && !primary.sameParty(backup):
				probs.add(i, field+".headerName", fmt.Sprintf("credential %q would also reach the backup origin %s, another party than the primary %s",
					h.Name, backup.scheme+"://"+backup.hostport, primary.scheme+"://"+primary.hostport))
				continue
			case seen[name]:
				probs.add(i, field+".headerName", fmt.Sprintf("%q is set twice", h.Name))
				continue
			}
			if reason := customValueReason(h.Value); reason != "" {
				probs.add(i, field+".headerValue", reason)
				continue
			}
			seen[name] = true
			plan.custom = append(plan.custom, Header{Name: name, Value: h.Value})
		}
	}
	slices.Sort(plan.pass)
	plan.pass = slices.Compact(plan.pass)
	slices.Sort(plan.ignore)
	plan.ignore = slices.Compact(plan.ignore)
	slices.SortFunc(plan.custom, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	for _, name := range plan.pass {
		if plan.passes(name) {
			plan.take = append(plan.take, name)
		}
	}
	return plan
}

// indexed names element j of a list field, "list[j]", without fmt: it
// runs for every header name of every rule.
func indexed(list string, j int) string {
	return list + "[" + strconv.Itoa(j) + "]"
}

// planKey identifies a header plan: the lists as written and what they
// were checked against. Rules with the same key share one plan.
type planKey struct {
	lists           string
	primary, backup *origin
	limit           int
}

// newPlanKey returns the key of r's header lists, and false when the rule
// is not one whose plan is shared (some of its fields were unreadable).
func newPlanKey(r *Rule, limit int, primary, backup *origin, unset fieldSet) (planKey, bool) {
	if len(unset) > 0 {
		return planKey{}, false
	}
	// Each element is preceded by its length, so that no two sets of
	// lists give the same text.
	var b []byte
	for _, list := range [][]string{r.PassHeaders, r.IgnoreHeaders} {
		b = strconv.AppendInt(b, int64(len(list)), 10)
		for _, s := range list {
			b = strconv.AppendInt(append(b, ':'), int64(len(s)), 10)
			b = append(append(b, ':'), s...)
		}
		b = append(b, ';')
	}
	for _, h := range r.CustomHeaders {
		b = strconv.AppendInt(append(b, ':'), int64(len(h.Name)), 10)
		b = append(append(b, ':'), h.Name...)
		b = strconv.AppendInt(append(b, ':'), int64(len(h.Value)), 10)
		b = append(append(b, ':'), h.Value...)
	}
	return planKey{string(b), primary, backup, limit}, true
}

// appendName adds a name's canonical form to a list that stays short
// however often a document repeats a name: duplicates are dropped as they
// come (the list is sorted and compacted once the rule is done).
func appendName(list []string, name string) []string {
	key := http.CanonicalHeaderKey(name)
	if len(list) > 0 && list[len(list)-1] == key {
		return list
	}
	if len(list) >= 16 && len(list)&(len(list)-1) == 0 {
		slices.Sort(list)
		list = slices.Compact(list)
	}
	return append(list, key)
}

func customValueReason(v string) string {
	switch {
	case len(v) > maxFieldLen:
		return "longer than 1024 bytes"
	case !httpguts.ValidHeaderFieldValue(v):
		return "holds a control byte (only tab is allowed)"
	case strings.TrimLeft(v, " \t") != v || strings.TrimRight(v, " \t") != v:
		return "has leading or trailing white space"
	}
	return ""
}

// The pass and set steps of docs/SEMANTICS.md §6 for one request. They
// run once per fetch, so they are written to cost one pass over the
// request's headers and nothing more: an explicit pass list is matched by
// folding case against its few names, so that no other header is
// classified, canonicalised or hashed; the Connection header is found in
// the same pass; and only the headers taken are sorted.

// passed is a request header the pass step takes: its canonical name and
// the name as the request has it.
type passed struct{ key, name string }

// collect appends to names the request headers the pass step takes,
// sorted by canonical name and, within one, by name as sent, so that
// names differing only in case merge in the same order whatever the
// map's order.
func (p *headerPlan) collect(req http.Header, names []passed) []passed {
	if (!p.passAll && len(p.take) == 0) || len(req) == 0 {
		return names
	}
	base := len(names)
	conns := 0
	var conn []string
	for name, values := range req {
		if len(name) == len("Connection") && equalFoldASCII(name, "Connection") {
			conns, conn = conns+1, values
			continue
		}
		if len(values) == 0 {
			continue
		}
		if key, ok := p.takes(name); ok {
			names = append(names, passed{key, name})
		}
	}
	if conns > 0 && len(names) > base {
		names = dropConnectionListed(names, base, req, conns, conn)
	}
	taken := names[base:]
	if len(taken) > 1 {
		slices.SortFunc(taken, func(a, b passed) int {
			if c := strings.Compare(a.key, b.key); c != 0 {
				return c
			}
			return strings.Compare(a.name, b.name)
		})
	}
	return names
}

// takes reports whether the pass step takes a request header, and its
// canonical name.
func (p *headerPlan) takes(name string) (string, bool) {
	if !p.passAll {
		// The list holds canonical names that are valid tokens and never
		// classified (compileHeaders refuses or drops the others), and
		// for such names equal canonical forms is equal folded ASCII.
		if len(p.take) <= 8 {
			for _, k := range p.take {
				if equalFoldASCII(name, k) {
					return k, true
				}
			}
			return "", false
		}
		key := http.CanonicalHeaderKey(name)
		i, found := slices.BinarySearch(p.take, key)
		if !found {
			return "", false
		}
		return p.take[i], true
	}
	if classify(name) != nil {
		return "", false
	}
	key := http.CanonicalHeaderKey(name)
	return key, p.passes(key)
}

// dropConnectionListed removes from names[base:] the headers the
// request's Connection header lists. A few names are checked against the
// list directly; more go through a set of its tokens, so that many headers
// and a long list never cost their product. Both ways agree: the names
// are RFC 9110 tokens (takes lets no other through), and for a token
// httpguts' match (comma-separated elements, OWS trimmed, ASCII case
// folded) is hopByHop's.
func dropConnectionListed(names []passed, base int, req http.Header, conns int, conn []string) []passed {
	keep := base
	if conns == 1 && len(names)-base <= 8 {
		for _, n := range names[base:] {
			if !httpguts.HeaderValuesContainsToken(conn, n.name) {
				names[keep] = n
				keep++
			}
		}
		return names[:keep]
	}
	hop := connectionTokens(req)
	for _, n := range names[base:] {
		if !hop.has(n.name) {
			names[keep] = n
			keep++
		}
	}
	return names[:keep]
}

// headers runs the pass and set steps into an http.Header whose values
// are cut from values (grown when short).
func (p *headerPlan) headers(req http.Header, values []string) http.Header {
	if p.empty() {
		return nil
	}
	var stack [16]passed
	names := p.collect(req, stack[:0])
	nvalues := len(p.custom)
	for _, n := range names {
		nvalues += len(req[n.name])
	}
	// One backing array holds every value; each name gets a full slice of
	// it, so that a caller appending to one name can not overwrite another.
	values = slices.Grow(values[:0], nvalues)
	out := make(http.Header, len(names)+len(p.custom))
	for i := 0; i < len(names); {
		key := names[i].key
		start := len(values)
		for ; i < len(names) && names[i].key == key; i++ {
			for _, v := range req[names[i].name] {
				if httpguts.ValidHeaderFieldValue(v) {
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

// appendFields runs the pass and set steps into name/value pairs, one per
// value, by name in byte order: the same headers as headers gives.
func (p *headerPlan) appendFields(dst []Header, req http.Header) []Header {
	if p.empty() {
		return dst
	}
	var stack [16]passed
	names := p.collect(req, stack[:0])
	custom := p.custom
	for i := 0; i < len(names) || len(custom) > 0; {
		if i == len(names) || (len(custom) > 0 && custom[0].Name < names[i].key) {
			dst = append(dst, custom[0])
			custom = custom[1:]
			continue
		}
		for _, v := range req[names[i].name] {
			if httpguts.ValidHeaderFieldValue(v) {
				dst = append(dst, Header{names[i].key, v})
			}
		}
		i++
	}
	return dst
}

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
// their product. Tokens are compared ASCII case-insensitively, the same
// way whether there are few or many.
type hopByHop struct {
	few  []string            // up to 8 tokens, as sent
	many map[string]struct{} // lower-case tokens, when there are more
}

func connectionTokens(req http.Header) hopByHop {
	var h hopByHop
	for k, values := range req {
		if !equalFoldASCII(k, "Connection") {
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
			h.many[toLowerASCII(t)] = struct{}{}
		}
	}
	h.many[toLowerASCII(tok)] = struct{}{}
}

func (h *hopByHop) has(name string) bool {
	if h.many != nil {
		_, ok := h.many[toLowerASCII(name)]
		return ok
	}
	for _, t := range h.few {
		if equalFoldASCII(t, name) {
			return true
		}
	}
	return false
}
