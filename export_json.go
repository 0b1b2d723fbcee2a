package mirror

import (
	"fmt"
	"slices"
	"strings"
)

// The OBS and TOS exporters: the inverse of import_obs.go and
// import_tos.go (docs/PROVIDERS-IMPORT-JSON.md). A rule is written only
// when the provider's document, imported, gives a rule that decides as it
// does; whatever the provider can not say is a problem at the rule's
// native path, with what the provider lacks.

// OBSAgencyPlaceholder is the redirect.agency an exported OBS document
// carries: OBS requires the name of the IAM agency it writes the mirrored
// objects with, which no engine holds (it decides nothing), so the
// document says where to put it. Replace it before sending the document
// to OBS.
const OBSAgencyPlaceholder = "REPLACE-WITH-YOUR-OBS-AGENCY"

// convJSONTarget is what differs between the two JSON providers.
type convJSONTarget struct {
	name      string // "OBS", "TOS"
	pick      Pick   // how the provider picks among primaries
	maxPrim   int
	suffix    bool // match.suffix
	hosts     bool // match.hosts
	redirects bool // modes redirect and redirectFetch
}

var (
	convOBS = convJSONTarget{name: "OBS", pick: PickOrdered, maxPrim: jimpMaxOrigins}
	convTOS = convJSONTarget{name: "TOS", pick: PickRandom, maxPrim: tosMaxPrimaries, suffix: true, hosts: true, redirects: true}
)

// convJSONRule is what both providers say of a rule.
type convJSONRule struct {
	prefix      string
	prefixField string // "resource" or "match.prefix"
	prefixOK    bool
	prim, back  []string
	methods     []string
}

// convCommon checks and reads what OBS and TOS share: the covering prefix,
// the trigger, the conditions, the origins, the policy, the fetch options,
// keepSlashes and the storage class.
func convCommon(c *convProblems, i int, r *Rule, t convJSONTarget) convJSONRule {
	var out convJSONRule
	name := t.name
	// Mode.
	switch {
	case r.Mode == ModeFetch:
	case t.redirects:
	default:
		c.add(i, "mode", fmt.Sprintf("%s: %s rules fetch only", r.Mode, name))
	}
	// The covering prefix.
	out.prefixField = "resource"
	switch {
	case r.Resource == "" && r.Match != nil:
		out.prefix, out.prefixField, out.prefixOK = r.Match.Prefix, "match.prefix", true
	case r.ResourceSyntax == "glob":
		c.add(i, "resource", fmt.Sprintf("%q is a glob: %s rules match a literal key prefix", r.Resource, name))
	case r.Resource == "*":
		out.prefixOK = true
	case strings.Count(r.Resource, "*") == 1 && strings.HasSuffix(r.Resource, "*"):
		out.prefix, out.prefixOK = strings.TrimSuffix(r.Resource, "*"), true
	default:
		what := "a literal key prefix"
		if t.suffix {
			what += " and suffix, each independent (a resource \"p*s\" is BOS's non-overlapping pair: give match.prefix and match.suffix)"
		}
		c.add(i, "resource", fmt.Sprintf("%q: %s rules match %s", r.Resource, name, what))
	}
	// Trigger.
	if !(len(r.On) == 0 || len(r.On) == 1 && (r.On[0] == "miss" || r.On[0] == "404")) {
		c.add(i, "on", fmt.Sprintf("%s mirrors on a miss (404) only", name))
	}
	// Conditions.
	if m := r.Match; m != nil {
		if m.Suffix != "" && !t.suffix {
			c.add(i, "match.suffix", name+" rules have no key suffix condition")
		}
		if len(m.Headers) > 0 {
			c.add(i, "match.headers", name+" rules have no header condition")
		}
		if len(m.Hosts) > 0 && !t.hosts {
			c.add(i, "match.hosts", name+" rules have no host condition")
		}
		if len(m.NotHosts) > 0 {
			c.add(i, "match.notHosts", name+" rules have no excluded hosts")
		}
	}
	var methods []string
	if r.Match != nil {
		methods = r.Match.Methods
	}
	if len(methods) == 0 {
		c.add(i, "match.methods", fmt.Sprintf("is unset, so the rule answers every method; %s rules answer GET, and HEAD "+
			"when named: give match.methods [\"GET\"] or [\"GET\", \"HEAD\"]", name))
	}
	for j, m := range methods {
		u := strings.ToUpper(m)
		if u != "GET" && u != "HEAD" {
			c.add(i, fmt.Sprintf("match.methods[%d]", j), fmt.Sprintf("%q: %s rules answer GET and HEAD only", m, name))
			continue
		}
		if !slices.Contains(out.methods, u) {
			out.methods = append(out.methods, u)
		}
	}
	// Origins.
	prim, primField, back, backField := r.originLists()
	scheme := ""
	switch r.Scheme {
	case "":
	case "http", "https":
		scheme = r.Scheme + "://"
	default:
		c.add(i, "scheme", fmt.Sprintf("%s: %s origins are URLs with their own scheme", r.Scheme, name))
	}
	urls := func(field string, list []string) []string {
		var out []string
		if r.Scheme != "" && scheme == "" {
			return nil // refused at scheme
		}
		for j, u := range list {
			at := field
			if strings.HasSuffix(field, "s") {
				at = fmt.Sprintf("%s[%d]", field, j)
			}
			u = scheme + u
			if reason := jimpOriginReason(u); reason != "" {
				c.add(i, at, fmt.Sprintf("%q: %s origins are http:// or https:// URLs: it %s", u, name, strings.TrimPrefix(reason, "must ")))
				continue
			}
			out = append(out, u)
		}
		return out
	}
	out.prim, out.back = urls(primField, prim), urls(backField, back)
	switch {
	case len(prim) == 0:
		c.add(i, "sourceUrl", name+" rules need an origin URL")
	case len(prim) > t.maxPrim:
		c.add(i, primField, fmt.Sprintf("has %d origins; %s takes at most %d primaries", len(prim), name, t.maxPrim))
	}
	if r.StorageClass != "" && r.Mode != ModeRedirect {
		c.add(i, "storageClass", name+" rules have no storage class")
	}
	if r.KeepSlashes != nil && !*r.KeepSlashes {
		c.add(i, "keepSlashes", "false: "+name+" writes the key's slashes as they are")
	}
	if r.Mode != ModeRedirect {
		convPolicy(c, i, r, t, len(prim))
	}
	return out
}

// convPolicy checks that the provider's policy, which its importer writes
// out in full, is the rule's.
func convPolicy(c *convProblems, i int, r *Rule, t convJSONTarget, primaries int) {
	name := t.name
	pick := r.Pick
	if pick == "" {
		pick = PickOrdered
		if len(r.SourceWeights) > 0 {
			pick = PickWeighted
		}
	}
	if len(r.SourceWeights) > 0 {
		c.add(i, "sourceWeights", name+" has no origin weights")
	} else if pick != t.pick && primaries > 1 {
		c.add(i, "pick", fmt.Sprintf("%s: %s picks among its primaries %s", pick, name, map[Pick]string{PickOrdered: "in order", PickRandom: "at random"}[t.pick]))
	}
	if f := r.Fetch; f != nil {
		if f.FollowRedirects != 0 && f.FollowRedirects != jimpFollowHops {
			c.add(i, "fetch.followRedirects", fmt.Sprintf("%d: %s follows no origin redirect, or %d", f.FollowRedirects, name, jimpFollowHops))
		}
		if f.CheckMD5 {
			c.add(i, "fetch.checkMd5", name+" has no Content-MD5 check option")
		}
		if f.Store != nil && !*f.Store {
			c.add(i, "fetch.store", "false: "+name+" stores what it fetches")
		}
		// Neither provider has a probe URL or a switch for the origin's user
		// metadata, and neither says when a stored object dates from: its
		// importer keeps the native default, the origin's Last-Modified.
		if f.Probe != "" {
			c.add(i, "fetch.probe", name+" has no probe URL")
		}
		if f.SaveMeta {
			c.add(i, "fetch.saveMeta", "true: "+name+" has no option to keep the origin's user metadata with the object")
		}
		if f.LastModified == "fetched" {
			c.add(i, "fetch.lastModified", "fetched: "+name+" has no such option, and its import keeps the origin's Last-Modified")
		}
		for j, s := range f.PassStatus {
			if _, ok := statusCode(s); !ok || t.name == "OBS" {
				what := "has no origin statuses to pass to the client"
				if t.name != "OBS" {
					what = "passes status codes only, not classes"
				}
				c.add(i, fmt.Sprintf("fetch.passStatus[%d]", j), fmt.Sprintf("%q: %s %s", s, name, what))
			}
		}
	}
}

// convFailoverOBS writes failoverOn as OBS retryConditions: OBS fails
// over on its retryConditions (5XX when absent), timeouts and connection
// failures, so the rule's list must name "timeout" and "connection".
func convFailoverOBS(c *convProblems, i int, r *Rule) []string {
	if r.FailoverOn == nil {
		c.add(i, "failoverOn", "is unset (the serving layer's default); OBS always names when to fail over: its retryConditions, "+
			"timeouts and connection failures: give failoverOn [\"5xx\", \"timeout\", \"connection\"]")
		return nil
	}
	out := []string{}
	var timeout, conn bool
	classes := map[byte]bool{}
	for _, s := range r.FailoverOn {
		if s == "4xx" || s == "5xx" {
			classes[s[0]] = true
		}
	}
	for j, s := range r.FailoverOn {
		at := fmt.Sprintf("failoverOn[%d]", j)
		switch n, isCode := statusCode(s); {
		case s == "timeout":
			timeout = true
		case s == "connection":
			conn = true
		case s == "4xx" || s == "5xx":
			out = append(out, strings.ToUpper(s))
		case isCode && n >= 400 && classes[s[0]]:
			c.add(i, at, fmt.Sprintf("%s beside %cxx: OBS refuses a class and a code of it together", s, s[0]))
		case isCode && n >= 400:
			out = append(out, s)
		default:
			c.add(i, at, fmt.Sprintf("%q: OBS fails over on 4XX, 5XX and codes 400 to 599 only", s))
		}
	}
	if !timeout || !conn {
		c.add(i, "failoverOn", "lacks \"timeout\" or \"connection\": OBS always fails over on timeouts and connection failures")
	}
	if len(out) > obsMaxRetryConds {
		c.add(i, "failoverOn", fmt.Sprintf("has %d statuses; OBS takes at most %d", len(out), obsMaxRetryConds))
	}
	return out
}

// convFailoverTOS checks failoverOn against what TOS does: fail over on
// 5xx, timeouts and connection failures.
func convFailoverTOS(c *convProblems, i int, r *Rule) {
	want := []string{"5xx", "connection", "timeout"}
	got := slices.Clone(r.FailoverOn)
	slices.Sort(got)
	got = slices.Compact(got)
	if !slices.Equal(got, want) {
		reason := "is unset (the serving layer's default)"
		if r.FailoverOn != nil {
			reason = fmt.Sprintf("is %v", []string(r.FailoverOn))
		}
		c.add(i, "failoverOn", reason+"; TOS fails over on 5xx, timeouts and connection failures, and says no other: "+
			"give failoverOn [\"5xx\", \"timeout\", \"connection\"]")
	}
}

// convHeaders writes the header lists as the providers' header policy
// {passAll, pass, remove, set} under their own member names; nil when the
// rule has none.
func convHeaders(r *Rule, names [4]string, key, value string) map[string]any {
	if len(r.PassHeaders) == 0 && len(r.IgnoreHeaders) == 0 && len(r.CustomHeaders) == 0 {
		return nil
	}
	m := map[string]any{}
	var pass []string
	for _, h := range r.PassHeaders {
		if h == "*" {
			m[names[0]] = true
		} else {
			pass = append(pass, h)
		}
	}
	if len(pass) > 0 {
		m[names[1]] = pass
	}
	if len(r.IgnoreHeaders) > 0 {
		m[names[2]] = r.IgnoreHeaders
	}
	if len(r.CustomHeaders) > 0 {
		set := make([]map[string]string, len(r.CustomHeaders))
		for j, h := range r.CustomHeaders {
			set[j] = map[string]string{key: h.Name, value: h.Value}
		}
		m[names[3]] = set
	}
	return m
}

// convKeyTemplate writes a native rewrite.key as an OBS replaceKeyWith,
// where "${key}" is the key and every other "$" literal; ok is false when
// OBS can not say it (a literal "${key}").
func convKeyTemplate(key string) (string, bool) {
	pieces, reason := parseKeyTemplate(key)
	if reason != "" {
		return "", false
	}
	text := joinKeyTemplate(pieces)
	back, _ := parseKeyTemplate(obsKeyTemplate(text))
	return text, slices.Equal(back, pieces)
}

// The OBS document written.
type (
	convOBSDoc struct {
		Rules []convOBSRule `json:"rules"`
	}
	convOBSRule struct {
		ID        string          `json:"id"`
		Condition convOBSCond     `json:"condition"`
		Redirect  convOBSRedirect `json:"redirect"`
	}
	convOBSCond struct {
		Code   int    `json:"httpErrorCodeReturnedEquals"`
		Prefix string `json:"objectKeyPrefixEquals"`
	}
	convOBSRedirect struct {
		Agency               string         `json:"agency"`
		PublicSource         convOBSSource  `json:"publicSource"`
		RetryConditions      []string       `json:"retryConditions"`
		PassQueryString      bool           `json:"passQueryString"`
		MirrorFollowRedirect bool           `json:"mirrorFollowRedirect"`
		MirrorHTTPHeader     map[string]any `json:"mirrorHttpHeader,omitempty"`
		ReplaceKeyWith       string         `json:"replaceKeyWith,omitempty"`
		ReplaceKeyPrefixWith *string        `json:"replaceKeyPrefixWith,omitempty"`
		MirrorAllowMethod    []string       `json:"mirrorAllowHttpMethod"`
	}
	convOBSSource struct {
		SourceEndpoint struct {
			Master []string `json:"master"`
			Slave  []string `json:"slave,omitempty"`
		} `json:"sourceEndpoint"`
	}
)

// exportOBS writes a Huawei OBS mirrorBackToSource body. OBS says: 1 to 10
// fetch rules on a miss, each of a key prefix that neither repeats nor
// contains another rule's (so their order never matters), for GET (and
// HEAD), from ordered masters and slaves with its failover; the query or
// not; header pass/remove/set; a whole-key template or a replacement of
// the matched prefix; following origin redirects (10) or not. Each rule's
// id is "rule-N" and its agency OBSAgencyPlaceholder.
func exportOBS(e *Engine) ([]byte, error) {
	var c convProblems
	if n := e.Len(); n < 1 || n > obsMaxRules {
		c.add(-1, "", fmt.Sprintf("has %d rules; OBS takes 1 to %d", n, obsMaxRules))
	}
	doc := convOBSDoc{Rules: make([]convOBSRule, 0, e.Len())}
	type prefixAt struct {
		rule   int
		prefix string
	}
	var prefixes []prefixAt
	for i := range e.Len() {
		r := e.Rule(i)
		cr := convCommon(&c, i, &r, convOBS)
		if cr.prefixOK {
			for _, p := range prefixes {
				if strings.HasPrefix(cr.prefix, p.prefix) || strings.HasPrefix(p.prefix, cr.prefix) {
					c.add(i, cr.prefixField, fmt.Sprintf("%q and rules[%d]'s prefix %q overlap (one starts with the other): "+
						"OBS refuses rule prefixes that repeat or contain one another", cr.prefix, p.rule, p.prefix))
					break
				}
			}
			prefixes = append(prefixes, prefixAt{i, cr.prefix})
		}
		if len(cr.prefix) > 0 && len([]rune(cr.prefix)) > obsMaxPrefixLen {
			c.add(i, cr.prefixField, fmt.Sprintf("is %d characters; OBS takes at most %d", len([]rune(cr.prefix)), obsMaxPrefixLen))
		}
		o := convOBSRule{ID: fmt.Sprintf("rule-%d", i), Condition: convOBSCond{Code: 404, Prefix: cr.prefix}}
		rd := &o.Redirect
		rd.Agency = OBSAgencyPlaceholder
		rd.PublicSource.SourceEndpoint.Master = cr.prim
		rd.PublicSource.SourceEndpoint.Slave = cr.back
		rd.RetryConditions = convFailoverOBS(&c, i, &r)
		rd.PassQueryString = r.PassQueryString
		rd.MirrorFollowRedirect = r.Fetch != nil && r.Fetch.FollowRedirects == jimpFollowHops
		rd.MirrorHTTPHeader = convHeaders(&r, [4]string{"passAll", "pass", "remove", "set"}, "key", "value")
		rd.MirrorAllowMethod = cr.methods
		// The origin key.
		for _, f := range []struct{ name, v string }{{"prefix", r.Prefix}, {"suffix", r.Suffix}} {
			if f.v != "" {
				c.add(i, f.name, "OBS puts nothing around the origin key")
			}
		}
		if r.Version == "v2" {
			c.add(i, "version", "v2 joins prefixReplace with \"/\": OBS replaces the prefix as it is")
		}
		if r.FixedKey != "" {
			if strings.Contains(r.FixedKey, "${key}") {
				c.add(i, "fixedKey", "holds \"${key}\", which OBS's replaceKeyWith reads as the key")
			}
			rd.ReplaceKeyWith = r.FixedKey
		}
		if rw := r.Rewrite; rw != nil {
			if rw.Key != "" {
				if k, ok := convKeyTemplate(rw.Key); ok {
					rd.ReplaceKeyWith = k
				} else {
					c.add(i, "rewrite.key", "holds a literal \"${key}\" (written \"$${key}\"), which OBS's replaceKeyWith reads as the key")
				}
			}
			if p := rw.ReplacePrefix; p != nil {
				switch {
				case rw.Key != "":
					c.add(i, "rewrite.replacePrefix", "beside rewrite.key: OBS does not say which of the two wins, and the importer refuses both")
				case p.From != nil && *p.From != cr.prefix:
					c.add(i, "rewrite.replacePrefix.from", fmt.Sprintf("%q: OBS replaces the rule's prefix (%q) only", *p.From, cr.prefix))
				case p.Join == "slash":
					c.add(i, "rewrite.replacePrefix.join", "slash: OBS puts the replacement and the rest side by side")
				default:
					to := p.To
					rd.ReplaceKeyPrefixWith = &to
				}
			}
			if rw.ReplaceSuffix != nil {
				c.add(i, "rewrite.replaceSuffix", "OBS has no suffix replacement")
			}
			if rw.AddPrefix != "" {
				c.add(i, "rewrite.addPrefix", "OBS puts nothing around the origin key")
			}
			if rw.AddSuffix != "" {
				c.add(i, "rewrite.addSuffix", "OBS puts nothing around the origin key")
			}
		}
		doc.Rules = append(doc.Rules, o)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return convMarshal(doc)
}

// The TOS document written.
type (
	convTOSDoc struct {
		Rules []convTOSRule `json:"Rules"`
	}
	convTOSRule struct {
		ID        string          `json:"ID"`
		Condition convTOSCond     `json:"Condition"`
		Redirect  convTOSRedirect `json:"Redirect"`
	}
	convTOSCond struct {
		HTTPCode   int      `json:"HttpCode"`
		KeyPrefix  string   `json:"KeyPrefix,omitempty"`
		KeySuffix  string   `json:"KeySuffix,omitempty"`
		AllowHost  []string `json:"AllowHost,omitempty"`
		HTTPMethod []string `json:"HttpMethod"`
	}
	convTOSRedirect struct {
		RedirectType          string         `json:"RedirectType"`
		FetchSourceOnRedirect bool           `json:"FetchSourceOnRedirect,omitempty"`
		PassQuery             bool           `json:"PassQuery"`
		FollowRedirect        bool           `json:"FollowRedirect"`
		MirrorHeader          map[string]any `json:"MirrorHeader,omitempty"`
		PublicSource          convTOSSource  `json:"PublicSource"`
		Transform             *convTransform `json:"Transform,omitempty"`
		PassStatus            []int          `json:"PassStatusCodeFromSource,omitempty"`
	}
	convTOSSource struct {
		SourceEndpoint struct {
			Primary  []string `json:"Primary"`
			Follower []string `json:"Follower,omitempty"`
		} `json:"SourceEndpoint"`
	}
	convTransform struct {
		WithKeyPrefix    string            `json:"WithKeyPrefix,omitempty"`
		WithKeySuffix    string            `json:"WithKeySuffix,omitempty"`
		ReplaceKeyPrefix map[string]string `json:"ReplaceKeyPrefix,omitempty"`
	}
)

// exportTOS writes a Volcengine TOS PUT ?mirror body. TOS says: 1 to 20
// rules, first match in list order, on a miss, of a key prefix and
// suffix, allowed hosts and GET (and HEAD); Mirror (fetch), Async
// (redirect, 302) or Async with the fetch (redirectFetch); 1 to 5
// primaries picked at random and followers, failing over on 5xx,
// timeouts and connection failures; the query or not; header
// pass/remove/set; a replacement of a leading literal, then a prefix and
// a suffix put around the key; following origin redirects (10) or not;
// origin statuses passed to the client.
func exportTOS(e *Engine) ([]byte, error) {
	var c convProblems
	if n := e.Len(); n < 1 || n > tosMaxRules {
		c.add(-1, "", fmt.Sprintf("has %d rules; TOS takes 1 to %d", n, tosMaxRules))
	}
	doc := convTOSDoc{Rules: make([]convTOSRule, 0, e.Len())}
	for i := range e.Len() {
		r := e.Rule(i)
		cr := convCommon(&c, i, &r, convTOS)
		t := convTOSRule{ID: fmt.Sprintf("rule-%d", i), Condition: convTOSCond{HTTPCode: 404, KeyPrefix: cr.prefix, HTTPMethod: cr.methods}}
		if m := r.Match; m != nil {
			t.Condition.KeySuffix = m.Suffix
			t.Condition.AllowHost = m.Hosts
		}
		rd := &t.Redirect
		switch r.Mode {
		case ModeFetch:
			rd.RedirectType = "Mirror"
		case ModeRedirect:
			rd.RedirectType = "Async"
		case ModeRedirectFetch:
			rd.RedirectType, rd.FetchSourceOnRedirect = "Async", true
		}
		if r.Mode != ModeFetch {
			code, field := r.RedirectCode, "redirectCode"
			if r.Redirect != nil && r.Redirect.Code != 0 {
				code, field = r.Redirect.Code, "redirect.code"
			}
			if code != 0 && code != 302 {
				c.add(i, field, fmt.Sprintf("%d: a TOS Async rule redirects with 302", code))
			}
			if r.Redirect != nil && (r.Redirect.Host != "" || r.Redirect.Scheme != "") {
				c.add(i, "redirect", "TOS redirects to its origins only, not to a host or scheme of the redirect's own")
			}
		}
		if r.Mode != ModeRedirect {
			convFailoverTOS(&c, i, &r)
			if f := r.Fetch; f != nil {
				rd.FollowRedirect = f.FollowRedirects == jimpFollowHops
				for _, s := range f.PassStatus {
					if n, ok := statusCode(s); ok {
						rd.PassStatus = append(rd.PassStatus, n)
					}
				}
			}
		}
		rd.PassQuery = r.PassQueryString
		rd.MirrorHeader = convHeaders(&r, [4]string{"PassAll", "Pass", "Remove", "Set"}, "Key", "Value")
		rd.PublicSource.SourceEndpoint.Primary = cr.prim
		rd.PublicSource.SourceEndpoint.Follower = cr.back
		// The origin key.
		var tr convTransform
		tr.WithKeyPrefix, tr.WithKeySuffix = r.Prefix, r.Suffix
		if r.FixedKey != "" {
			c.add(i, "fixedKey", "TOS has no whole-key replacement")
		}
		if r.Version == "v2" {
			c.add(i, "version", "v2 joins prefixReplace with \"/\": TOS replaces the prefix as it is")
		}
		if rw := r.Rewrite; rw != nil {
			if rw.Key != "" {
				c.add(i, "rewrite.key", "TOS has no whole-key replacement")
			}
			if p := rw.ReplacePrefix; p != nil {
				from := cr.prefix
				if p.From != nil {
					from = *p.From
				}
				if p.Join == "slash" {
					c.add(i, "rewrite.replacePrefix.join", "slash: TOS puts the replacement and the rest side by side")
				} else if p.From != nil || cr.prefixOK {
					tr.ReplaceKeyPrefix = map[string]string{"KeyPrefix": from, "ReplaceWith": p.To}
				}
			}
			if rw.ReplaceSuffix != nil {
				c.add(i, "rewrite.replaceSuffix", "TOS has no suffix replacement")
			}
			tr.WithKeyPrefix, tr.WithKeySuffix = rw.AddPrefix, rw.AddSuffix
		}
		if tr.WithKeyPrefix != "" || tr.WithKeySuffix != "" || tr.ReplaceKeyPrefix != nil {
			rd.Transform = &tr
		}
		doc.Rules = append(doc.Rules, t)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return convMarshal(doc)
}
