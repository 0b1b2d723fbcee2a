package mirror

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Lint (docs/SEMANTICS.md §10) flags what compiles but can not be what the
// author meant: rules no key reaches, options that do nothing, and
// options that are risky.

// Lint returns warnings about a compiled rule set, in rule order, located
// like compile errors ("rules[2].prefixReplace: ..."): rules that no key
// can reach because earlier rules cover every key they cover, options
// that do nothing, and risky ones. An empty result means nothing was
// found. Lint looks at every rule, and is for tools (mirror lint), not for
// the request path.
func (e *Engine) Lint() []*FieldError {
	probs := &warnings{at: namerFor(e.format)}
	if e.format == FormatNative && len(e.compiled) == 0 {
		probs.add(-1, "", "the document has no rules: no key is mirrored, and every miss is a 404")
	}
	reach := newReachability(e)
	for i := range e.compiled {
		reach.check(i, probs)
		lintOptions(e.Rule(i), i, e.compiled[i].plainHTTP(), probs)
	}
	return probs.list
}

// lintOptions flags r's options that do nothing, and the risky ones.
// plain names the rule's plain-http origins.
func lintOptions(r Rule, i int, plain []string, probs *warnings) {
	warn := func(field, format string, args ...any) { probs.add(i, field, fmt.Sprintf(format, args...)) }
	redirect := r.Mode == ModeRedirect
	if redirect && r.BackSourceURL != "" {
		warn("backSourceUrl", "does nothing on a redirect rule: the client is sent to sourceUrl only")
	}
	for _, f := range []struct{ name, v string }{{"prefix", r.Prefix}, {"suffix", r.Suffix}, {"prefixReplace", r.PrefixReplace}} {
		if r.FixedKey != "" && f.v != "" {
			warn(f.name, "does nothing beside fixedKey, which is the whole origin key")
		}
	}
	if r.FixedKey == "" && r.PrefixReplace != "" && r.Version != "v2" {
		warn("prefixReplace", "does nothing in version %s: prefixReplace acts in v2 only", versionName(r.Version))
	}
	if redirect && r.StorageClass != "" {
		warn("storageClass", "does nothing on a redirect rule: a redirect stores nothing")
	}
	if redirect {
		for _, f := range []struct {
			name string
			set  bool
		}{{"passHeaders", len(r.PassHeaders) > 0}, {"ignoreHeaders", len(r.IgnoreHeaders) > 0}, {"customHeaders", len(r.CustomHeaders) > 0}} {
			if f.set {
				warn(f.name, "does nothing on a redirect rule: a redirect sends no request to the origin")
			}
		}
	} else {
		lintHeaders(r, plain, warn)
		lintVariants(r, warn)
	}
	if !redirect && r.RedirectCode != 0 && r.Mode != ModeRedirectFetch {
		warn("redirectCode", "does nothing on a fetch rule")
	}
	lintExtended(r, warn)
}

// lintExtended flags the extended model's options that the rule's mode
// ignores (docs/SEMANTICS.md §11).
func lintExtended(r Rule, warn func(field, format string, args ...any)) {
	switch r.Mode {
	case ModeRedirect:
		if len(r.SourceURLs) > 1 {
			warn("sourceUrls", "only the first does something on a redirect rule: the client is sent to it")
		}
		if len(r.BackSourceURLs) > 0 {
			warn("backSourceUrls", "do nothing on a redirect rule: the client is sent to the first primary only")
		}
		for _, f := range []struct {
			name string
			set  bool
		}{{"sourceWeights", len(r.SourceWeights) > 0}, {"pick", r.Pick != ""}, {"failoverOn", len(r.FailoverOn) > 0}, {"fetch", r.Fetch != nil}} {
			if f.set {
				warn(f.name, "does nothing on a redirect rule: a redirect fetches nothing")
			}
		}
	case ModeFetch:
		if r.Redirect != nil {
			warn("redirect", "does nothing on a fetch rule")
		}
	}
	if r.Mode != ModeRedirect && len(r.FailoverOn) > 0 && len(r.SourceURLs)+len(r.BackSourceURLs) <= 1 && r.BackSourceURL == "" {
		warn("failoverOn", "does nothing: the rule has one origin, and no other to fail over to")
	}
	if r.Pick == PickRandom && len(r.SourceURLs) <= 1 {
		warn("pick", "does nothing with one primary")
	}
}

// lintVariants flags a fetch rule that passes the reader's query or
// headers on: a gateway stores one object per key, so what the first
// reader passed chooses the object every later reader gets
// (docs/SERVING.md §3.1).
func lintVariants(r Rule, warn func(field, format string, args ...any)) {
	const why = "the first reader's %s the object stored for every later reader of the key: one object is stored per key"
	if r.PassQueryString {
		warn("passQuerystring", why, "query chooses")
	}
	if len(r.PassHeaders) > 0 {
		warn("passHeaders", why, "headers choose")
	}
}

func versionName(v string) string {
	if v == "" {
		return "v1 (the default)"
	}
	return v
}

// lintHeaders flags a fetch rule's header lists.
func lintHeaders(r Rule, plain []string, warn func(field, format string, args ...any)) {
	canonical := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = http.CanonicalHeaderKey(n)
		}
		return out
	}
	pass, ignore := canonical(r.PassHeaders), canonical(r.IgnoreHeaders)
	custom := make([]string, len(r.CustomHeaders))
	for i, h := range r.CustomHeaders {
		custom[i] = http.CanonicalHeaderKey(h.Name)
	}
	passAll := slices.Contains(r.PassHeaders, "*")
	if passAll && len(r.IgnoreHeaders) == 0 {
		warn(indexed("passHeaders", slices.Index(r.PassHeaders, "*")),
			`"*" with no ignoreHeaders sends the origin every header a client sends, but for the never-forwarded ones: list the headers the origin needs, or ignore the others`)
	}
	for j, name := range r.PassHeaders {
		field := indexed("passHeaders", j)
		switch c := classify(name); {
		case name == "*":
		case c != nil && !c.reserved:
			warn(field, "%q is never passed from a client (it is %s): naming it does nothing", name, c.why)
		case slices.Contains(ignore, pass[j]):
			warn(field, "%q is in ignoreHeaders too, which wins: it is never passed", name)
		case slices.Contains(custom, pass[j]):
			warn(field, "%q is set by customHeaders, whose value replaces the client's: passing it does nothing", name)
		}
	}
	for j, name := range r.IgnoreHeaders {
		field := indexed("ignoreHeaders", j)
		switch c := classify(name); {
		case c != nil:
			warn(field, "%q is never passed from a client anyway (it is %s): ignoring it does nothing", name, c.why)
		case !passAll && !slices.Contains(pass, ignore[j]):
			warn(field, "%q is not passed anyway (passHeaders does not name it): ignoring it does nothing", name)
		}
	}
	for k, h := range r.CustomHeaders {
		if c := classify(h.Name); c != nil && c.credential && len(plain) > 0 {
			warn(indexed("customHeaders", k)+".headerName", "credential %q is sent in clear text to %s: anyone on the path can read it; use https",
				h.Name, strings.Join(plain, " and "))
		}
	}
}

// plainHTTP returns the rule's distinct http:// origins, as scheme and
// authority.
func (r *ruleTemplate) plainHTTP() []string {
	var out []string
	list := []*origin{r.primary, r.backup}
	if r.ext != nil {
		list = r.ext.origins
	}
	for _, o := range list {
		if o != nil && o.scheme == "http" && !slices.Contains(out, "http://"+o.hostport) {
			out = append(out, "http://"+o.hostport)
		}
	}
	return out
}
