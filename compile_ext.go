package mirror

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Validating and compiling the extended model (docs/SEMANTICS.md §11).
// What a rule says beyond BOS's fields becomes two shared parts of its
// template: a condition, checked after the index finds the rule, and an
// extension, which the decision reads. Rules with equal parts share them,
// so that 100,000 rules with a few distinct conditions keep a few.

// Limits of the extended model.
const (
	maxOrigins     = 10 // primaries, and backups, each
	maxConditions  = 20 // headers, hosts, notHosts, methods, each
	maxWeight      = 1_000_000
	maxFollow      = 10
	maxOriginsBoth = 2 * maxOrigins
)

// condition is what must hold, beside the resource, for a rule to decide.
// A rule without one answers a miss only.
type condition struct {
	suffix   string
	headers  []MatchHeader // names canonical
	hosts    []string      // lower case
	notHosts []string
	methods  []string // upper case
	on       trigger
}

// trigger is a compiled "on".
type trigger struct {
	always  bool
	codes   []int
	classes uint8 // bit c: the class cxx
}

// answers reports whether the trigger takes a request of status st.
func (t *trigger) answers(st int) bool {
	if t.always {
		return true
	}
	if st == 0 {
		st = 404
	}
	if st >= 100 && st <= 599 && t.classes&(1<<(st/100)) != 0 {
		return true
	}
	return slices.Contains(t.codes, st)
}

// missOnly reports whether t answers a miss only.
func (t *trigger) missOnly() bool {
	return !t.always && t.classes == 0 && slices.Equal(t.codes, missOnly.codes)
}

// missOnly is the trigger of a rule without "on".
var missOnly = trigger{codes: []int{404}}

// extension is the compiled extended model of a rule but its condition.
type extension struct {
	written Rule // the extended fields as written, for Engine.Rule (match.prefix cleared)
	// primaries then backups; with scheme "request", tls holds the https
	// forms of the same URLs.
	origins, tls []*origin
	nPrimary     int
	fromRequest  bool
	policy       *Policy
	rewrite      *keyRewrite
	collapse     bool // keepSlashes false: merge runs of "/"
	// target is set for a redirect that is not to an origin.
	target *redirectTarget
}

// redirectTarget is a redirect's Location when it is not an origin URL.
type redirectTarget struct {
	host, scheme string  // as written; "" from the request
	http, https  *origin // host given: its bases for each scheme
}

// keyRewrite is a compiled Rewrite.
type keyRewrite struct {
	key                  []string // literal pieces, with keyRef between them; nil: the key
	hasKey               bool
	prefix               *ReplacePrefix
	fromDefault          bool
	slash                bool
	suffix               *ReplaceSuffix
	addPrefix, addSuffix string
}

// keyRef marks the place of the request key in keyRewrite.key.
const keyRef = "\x00key"

// Policy is what the serving layer needs of a fetch beside its URLs
// (native extended rules only; nil otherwise). It is shared by every
// decision of the rule: do not modify it.
type Policy struct {
	// CheckMD5, FollowRedirects and PassStatus are the rule's fetch
	// options (fetch.checkMd5, fetch.followRedirects, fetch.passStatus).
	CheckMD5 bool `json:"checkMd5,omitempty"`
	// FailoverOn are the origin outcomes after which the next origin is
	// tried ("5xx", "404", "timeout", "connection"); empty: the serving
	// layer's default.
	FailoverOn      StatusList `json:"failoverOn,omitempty"`
	FollowRedirects int        `json:"followRedirects,omitempty"`
	// LastModified is "origin" or "fetched" (fetch.lastModified; ""
	// is "origin").
	LastModified string     `json:"lastModified,omitempty"`
	PassStatus   StatusList `json:"passStatus,omitempty"`
	// Pick is how to pick among the primaries (ordered, random,
	// weighted).
	Pick Pick `json:"pick"`
	// Primaries is how many of the decision's URLs are primaries; the
	// rest are backups, tried in order.
	Primaries int `json:"primaries"`
	// Probe is the rule's fetch.probe URL ("" none): the serving layer
	// asks it to learn whether the primaries are up.
	Probe string `json:"probe,omitempty"`
	// SaveMeta keeps the origin's user metadata with the object.
	SaveMeta bool `json:"saveMeta,omitempty"`
	// Store is false when the fetched object is served without being
	// stored.
	Store bool `json:"store"`
	// Weights are the primaries' weights when Pick is weighted.
	Weights []int `json:"weights,omitempty"`
}

// The fields of Policy are in the order of their JSON names, so that
// mirror eval prints them sorted.

// extendedRule validates the extended fields of a native rule r into t.
// It runs instead of the sourceUrl and backSourceUrl checks of rule.
func (b *engineBuilder) extendedRule(r *Rule, i int, unset fieldSet, t *ruleTemplate) {
	add := func(field, reason string) { b.probs.add(i, field, reason) }
	x := &extension{}
	// Origins.
	switch r.Scheme {
	case "", "http", "https":
	case "request":
		x.fromRequest = true
	default:
		add("scheme", fmt.Sprintf("%q is not http, https or request", r.Scheme))
	}
	if r.SourceURL != "" && len(r.SourceURLs) > 0 {
		add("sourceUrls", "give sourceUrl or sourceUrls, not both")
	}
	if r.BackSourceURL != "" && len(r.BackSourceURLs) > 0 {
		add("backSourceUrls", "give backSourceUrl or backSourceUrls, not both")
	}
	prim, primField, back, backField := r.originLists()
	target := r.Mode == ModeRedirect && r.Redirect != nil && (len(prim) == 0 || r.Redirect.Host != "" || r.Redirect.Scheme != "")
	switch {
	case len(prim) > maxOrigins:
		add(primField, fmt.Sprintf("has %d origins, more than %d", len(prim), maxOrigins))
	case len(back) > maxOrigins:
		add(backField, fmt.Sprintf("has %d origins, more than %d", len(back), maxOrigins))
	case target && len(prim) > 0:
		add("redirect", "redirect.host and redirect.scheme are for a redirect without origins: give them or sourceUrl(s), not both")
	case target && len(back) > 0:
		add(backField, "a redirect to redirect.host has no origins to fall back on")
	case len(prim) == 0 && !target && !unset["sourceUrl"] && !unset["sourceUrls"]:
		add("sourceUrl", "is required (sourceUrl or sourceUrls), unless a redirect rule gives redirect")
	}
	parse := func(field string, j int, raw string, https bool) *origin {
		at := field
		if strings.HasSuffix(field, "s") {
			at = fmt.Sprintf("%s[%d]", field, j)
		}
		if r.Scheme != "" {
			if strings.Contains(raw, "://") {
				add(at, fmt.Sprintf("has a scheme; with scheme %q write host[:port][/path]", r.Scheme))
				return nil
			}
			s := r.Scheme
			if x.fromRequest {
				s = "http"
				if https {
					s = "https"
				}
			}
			raw = s + "://" + raw
		}
		o := b.origin(at, raw, i)
		if o != nil && o.signed() && r.Mode != ModeFetch {
			add(at, "a redirect's origin must be http or https: a client can not follow "+o.scheme+"://")
			return nil
		}
		return o
	}
	if len(prim) <= maxOrigins && len(back) <= maxOrigins && !target {
		for _, list := range []struct {
			field string
			urls  []string
		}{{primField, prim}, {backField, back}} {
			for j, u := range list.urls {
				o := parse(list.field, j, u, false)
				x.origins = append(x.origins, o)
				if x.fromRequest {
					x.tls = append(x.tls, parse(list.field, j, u, true))
				}
			}
		}
		x.nPrimary = len(prim)
		if len(x.origins) > 0 && !slices.Contains(x.origins, nil) {
			t.primary = x.origins[0]
			// The header plan's credential check looks at one other party.
			for _, o := range x.origins[1:] {
				if !o.sameParty(t.primary) {
					t.backup = o
					break
				}
			}
		}
	}
	// Pick, weights, failover.
	pick := r.Pick
	switch {
	case pick == "" && len(r.SourceWeights) > 0:
		pick = PickWeighted
	case pick == "":
		pick = PickOrdered
	case pick != PickOrdered && pick != PickRandom && pick != PickWeighted:
		add("pick", fmt.Sprintf("%q is not ordered, random or weighted", string(r.Pick)))
	}
	switch {
	case pick == PickWeighted && len(r.SourceWeights) == 0:
		add("sourceWeights", "pick weighted needs one weight per primary")
	case pick != PickWeighted && len(r.SourceWeights) > 0:
		add("sourceWeights", fmt.Sprintf("weights do nothing with pick %s", pick))
	case len(r.SourceWeights) > 0:
		sum := 0
		for j, w := range r.SourceWeights {
			if w < 0 || w > maxWeight {
				add(fmt.Sprintf("sourceWeights[%d]", j), fmt.Sprintf("%d is not 0 to %d", w, maxWeight))
			}
			sum += max(w, 0)
		}
		if len(r.SourceWeights) != len(prim) {
			add("sourceWeights", fmt.Sprintf("has %d weights for %d primaries", len(r.SourceWeights), len(prim)))
		}
		if sum == 0 {
			add("sourceWeights", "the weights add up to 0: no primary could be picked")
		}
	}
	for j, f := range r.FailoverOn {
		if _, ok := statusCode(f); ok || f == "4xx" || f == "5xx" || f == "timeout" || f == "connection" {
			continue
		}
		add(fmt.Sprintf("failoverOn[%d]", j), fmt.Sprintf("%q is not a status code (100 to 599), 4xx, 5xx, timeout or connection", f))
	}
	// Fetch options.
	pol := &Policy{Primaries: x.nPrimary, Pick: pick, Weights: slices.Clone(r.SourceWeights), FailoverOn: slices.Clone(r.FailoverOn), Store: true}
	if f := r.Fetch; f != nil {
		if f.FollowRedirects < 0 || f.FollowRedirects > maxFollow {
			add("fetch.followRedirects", fmt.Sprintf("%d is not 0 to %d", f.FollowRedirects, maxFollow))
		}
		for j, s := range f.PassStatus {
			if _, ok := statusCode(s); !ok && s != "4xx" && s != "5xx" {
				add(fmt.Sprintf("fetch.passStatus[%d]", j), fmt.Sprintf("%q is not a status code (100 to 599), 4xx or 5xx", s))
			}
		}
		switch f.LastModified {
		case "", "origin", "fetched":
		default:
			add("fetch.lastModified", fmt.Sprintf("%q is not origin or fetched", f.LastModified))
		}
		if f.Probe != "" {
			if o, reason := parseOrigin(f.Probe, b.c.AllowPrivateOrigins); reason != "" {
				add("fetch.probe", reason)
			} else if o.scheme != "http" && o.scheme != "https" {
				add("fetch.probe", "must be an http or https URL")
			}
		}
		pol.FollowRedirects, pol.CheckMD5, pol.PassStatus = f.FollowRedirects, f.CheckMD5, slices.Clone(f.PassStatus)
		pol.Probe, pol.SaveMeta, pol.LastModified = f.Probe, f.SaveMeta, f.LastModified
		if f.Probe != "" && !strings.Contains(f.Probe, "://") {
			// The sourceUrl grammar's default scheme, written out: the
			// serving layer asks the URL as it is (found in review).
			pol.Probe = "http://" + f.Probe
		}
		if f.Store != nil {
			pol.Store = *f.Store
		}
	}
	if r.Mode != ModeRedirect {
		x.policy = pol
	}
	// Redirect.
	if rd := r.Redirect; rd != nil {
		if rd.Code != 0 {
			if r.RedirectCode != 0 {
				add("redirect.code", "give redirectCode or redirect.code, not both")
			}
			if reason := redirectCodeReason(rd.Code); reason != "" {
				add("redirect.code", reason)
			} else {
				t.redirectCode = uint16(rd.Code)
			}
		}
		switch rd.Scheme {
		case "", "http", "https":
		default:
			add("redirect.scheme", fmt.Sprintf("%q is not http or https (\"\" is the request's)", rd.Scheme))
		}
		if r.Mode == ModeRedirectFetch && (rd.Host != "" || rd.Scheme != "") {
			add("redirect", "a redirectFetch rule redirects to its origin: redirect.host and redirect.scheme are for mode redirect")
		}
		if target {
			tg := &redirectTarget{host: rd.Host, scheme: rd.Scheme}
			if rd.Host != "" {
				for _, s := range []string{"http", "https"} {
					o, reason := parseOrigin(s+"://"+rd.Host, true)
					if reason != "" || strings.ContainsAny(rd.Host, "/?#@") {
						if reason == "" {
							reason = "must be host[:port]"
						}
						add("redirect.host", reason)
						break
					}
					if s == "http" {
						tg.http = o
					} else {
						tg.https = o
					}
				}
			}
			x.target = tg
		}
	}
	// Rewrite.
	if rw := r.Rewrite; rw != nil {
		for _, f := range []struct{ name, v string }{{"fixedKey", r.FixedKey}, {"prefix", r.Prefix}, {"suffix", r.Suffix}, {"prefixReplace", r.PrefixReplace}, {"version", r.Version}} {
			if f.v != "" {
				add(f.name, "give rewrite or the BOS rewrite fields (fixedKey, prefix, suffix, prefixReplace, version), not both")
			}
		}
		x.rewrite = b.rewrite(rw, i)
	}
	if r.KeepSlashes != nil {
		x.collapse = !*r.KeepSlashes
	}
	w := *r
	w.Mode, w.Resource, w.Prefix, w.Suffix, w.FixedKey = "", "", "", "", ""
	w.Version, w.PrefixReplace, w.StorageClass, w.PassHeaders, w.IgnoreHeaders, w.CustomHeaders = "", "", "", nil, nil, nil
	w.RedirectCode, w.ResourceSyntax, w.PassQueryString = 0, "", false
	if w.Match != nil {
		m := *w.Match
		m.Prefix = ""
		w.Match = &m
	}
	x.written = w
	t.ext = b.shareExtension(x)
	t.cond = b.condition(r, i)
}

// redirectCodeReason says why code is not a redirect code, or "".
func redirectCodeReason(code int) string {
	switch code {
	case 301, 302, 303, 307, 308:
		return ""
	case 304, 305:
		return fmt.Sprintf("%d is not a redirect (S3 accepts it, but a client does not follow it): use 301, 302, 303, 307 or 308", code)
	}
	return fmt.Sprintf("%d is not 301, 302, 303, 307 or 308", code)
}

// rewrite compiles a Rewrite.
func (b *engineBuilder) rewrite(rw *Rewrite, i int) *keyRewrite {
	add := func(field, reason string) { b.probs.add(i, field, reason) }
	k := &keyRewrite{addPrefix: rw.AddPrefix, addSuffix: rw.AddSuffix, suffix: rw.ReplaceSuffix}
	texts := []struct{ name, v string }{{"rewrite.key", rw.Key}, {"rewrite.addPrefix", rw.AddPrefix}, {"rewrite.addSuffix", rw.AddSuffix}}
	if p := rw.ReplacePrefix; p != nil {
		k.prefix = p
		k.fromDefault = p.From == nil
		if p.From != nil {
			texts = append(texts, struct{ name, v string }{"rewrite.replacePrefix.from", *p.From})
		}
		texts = append(texts, struct{ name, v string }{"rewrite.replacePrefix.to", p.To})
		switch p.Join {
		case "", "concat":
		case "slash":
			k.slash = true
		default:
			add("rewrite.replacePrefix.join", fmt.Sprintf("%q is not concat or slash", p.Join))
		}
	}
	if s := rw.ReplaceSuffix; s != nil {
		texts = append(texts, struct{ name, v string }{"rewrite.replaceSuffix.from", s.From}, struct{ name, v string }{"rewrite.replaceSuffix.to", s.To})
	}
	for _, f := range texts {
		if reason := textReason(f.v); reason != "" {
			add(f.name, reason)
		}
	}
	if rw.Key != "" {
		pieces, reason := parseKeyTemplate(rw.Key)
		if reason != "" {
			add("rewrite.key", reason)
		}
		k.key = pieces
		k.hasKey = slices.Contains(pieces, keyRef)
		if !k.hasKey && rw.ReplacePrefix == nil && rw.ReplaceSuffix == nil {
			if fixed := rw.AddPrefix + strings.Join(pieces, "") + rw.AddSuffix; unsafeSegment(fixed) {
				add("rewrite.key", `has a segment made of "." and white space, which an origin may resolve as "." or ".."`)
			}
		}
	}
	return k
}

// parseKeyTemplate splits a rewrite.key into literal pieces and keyRef:
// "${key}" is the request key, "$$" one "$", and any other "$" an error.
func parseKeyTemplate(s string) ([]string, string) {
	var out []string
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			lit.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${key}"):
			if lit.Len() > 0 {
				out = append(out, lit.String())
				lit.Reset()
			}
			out = append(out, keyRef)
			i += len("${key}")
		case s[i] == '$':
			return nil, fmt.Sprintf(`has a "$" at byte %d that is neither "${key}" nor "$$" (a literal "$" is written "$$")`, i)
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		out = append(out, lit.String())
	}
	return out, ""
}

// condition validates r's match and on into a shared condition, nil
// when the rule answers any miss of its resource.
func (b *engineBuilder) condition(r *Rule, i int) *condition {
	add := func(field, reason string) { b.probs.add(i, field, reason) }
	c := &condition{on: missOnly}
	switch {
	case len(r.On) == 0:
	case len(r.On) == 1 && r.On[0] == "miss":
	case len(r.On) == 1 && r.On[0] == "always":
		c.on = trigger{always: true}
	default:
		c.on = trigger{}
		for j, s := range r.On {
			at := fmt.Sprintf("on[%d]", j)
			if code, ok := statusCode(s); ok {
				c.on.codes = append(c.on.codes, code)
				continue
			}
			switch s {
			case "4xx":
				c.on.classes |= 1 << 4
			case "5xx":
				c.on.classes |= 1 << 5
			case "miss", "always":
				add(at, fmt.Sprintf("%q stands alone: write \"on\": %q (or 404 in the list for a miss)", s, s))
			default:
				add(at, fmt.Sprintf("%q is not a status code (100 to 599), 4xx or 5xx", s))
			}
		}
		slices.Sort(c.on.codes)
		c.on.codes = slices.Compact(c.on.codes)
	}
	if m := r.Match; m != nil {
		for _, f := range []struct{ name, v string }{{"match.prefix", m.Prefix}, {"match.suffix", m.Suffix}} {
			if reason := textReason(f.v); reason != "" {
				add(f.name, reason)
			}
		}
		c.suffix = m.Suffix
		for _, l := range []struct {
			name string
			n    int
		}{{"match.headers", len(m.Headers)}, {"match.hosts", len(m.Hosts)}, {"match.notHosts", len(m.NotHosts)}, {"match.methods", len(m.Methods)}} {
			if l.n > maxConditions {
				add(l.name, fmt.Sprintf("has %d entries, more than %d", l.n, maxConditions))
			}
		}
		for j, h := range m.Headers {
			at := fmt.Sprintf("match.headers[%d]", j)
			if !httpguts.ValidHeaderFieldName(h.Name) {
				add(at+".name", fmt.Sprintf("%q is not a header name", h.Name))
			}
			if !httpguts.ValidHeaderFieldValue(h.Value) || len(h.Value) > maxFieldLen {
				add(at+".value", "is not a header value (control bytes, or longer than 1024 bytes)")
			}
			c.headers = append(c.headers, MatchHeader{Name: http.CanonicalHeaderKey(h.Name), Value: h.Value})
		}
		hosts := func(field string, list []string) []string {
			var out []string
			for j, h := range list {
				host, port, reason := parseAuthority(h, true)
				if reason == "" && (port != "" || strings.HasSuffix(h, ":")) {
					reason = "has a port: hosts are matched without one"
				}
				if reason != "" {
					add(fmt.Sprintf("%s[%d]", field, j), reason)
					continue
				}
				out = append(out, host)
			}
			return out
		}
		c.hosts = hosts("match.hosts", m.Hosts)
		c.notHosts = hosts("match.notHosts", m.NotHosts)
		for j, meth := range m.Methods {
			if !validHeaderName(meth) {
				add(fmt.Sprintf("match.methods[%d]", j), fmt.Sprintf("%q is not a method", meth))
			}
			c.methods = append(c.methods, strings.ToUpper(meth))
		}
	}
	if c.suffix == "" && c.headers == nil && c.hosts == nil && c.notHosts == nil && c.methods == nil && c.on.missOnly() {
		return nil
	}
	key, _ := json.Marshal(struct {
		S          string
		H          []MatchHeader
		Ho, NH, Me []string
		A          bool
		Co         []int
		Cl         uint8
	}{c.suffix, c.headers, c.hosts, c.notHosts, c.methods, c.on.always, c.on.codes, c.on.classes})
	if shared, ok := b.conds[string(key)]; ok {
		return shared
	}
	b.conds[string(key)] = c
	return c
}

// shareExtension returns the build's extension equal to x.
func (b *engineBuilder) shareExtension(x *extension) *extension {
	raws := func(l []*origin) []string {
		out := make([]string, len(l))
		for j, o := range l {
			if o != nil {
				out[j] = o.raw
			}
		}
		return out
	}
	key, err := json.Marshal(struct {
		W    Rule
		O, T []string
		N    int
		P    *Policy
	}{x.written, raws(x.origins), raws(x.tls), x.nPrimary, x.policy})
	if err != nil {
		return x
	}
	if shared, ok := b.exts[string(key)]; ok {
		return shared
	}
	b.exts[string(key)] = x
	return x
}
