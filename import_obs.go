package mirror

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Huawei OBS, PUT /?mirrorBackToSource: {"rules": [RULE, ...]}
// (PROVIDERS.md §4; docs/PROVIDERS-IMPORT-JSON.md says each choice).
//
// RULE is
//
//	{"id": "...",
//	 "condition": {"httpErrorCodeReturnedEquals": 404, "objectKeyPrefixEquals": "..."},
//	 "redirect": {"agency": "...",
//	   "publicSource": {"sourceEndpoint": {"master": [URL...], "slave": [URL...]}},
//	   "retryConditions": ["4XX", "5XX", "503", ...], "passQueryString": bool,
//	   "mirrorFollowRedirect": bool, "redirectWithoutReferer": bool,
//	   "mirrorHttpHeader": {"passAll": bool, "pass": [...], "remove": [...], "set": [{"key", "value"}]},
//	   "replaceKeyWith": "...${key}...", "replaceKeyPrefixWith": "...",
//	   "vpcEndpointURN": "...", "mirrorAllowHttpMethod": ["GET", "HEAD"]}}

// OBS's limits (https://support.huaweicloud.com/intl/en-us/api-obs/obs_04_0119.html).
const (
	obsMaxRules      = 10
	obsMaxIDLen      = 256
	obsMaxPrefixLen  = 1023 // characters
	obsMaxRetryConds = 20
)

var (
	obsTopMembers       = []string{"rules"}
	obsRuleMembers      = []string{"id", "condition", "redirect"}
	obsConditionMembers = []string{"httpErrorCodeReturnedEquals", "objectKeyPrefixEquals"}
	obsRedirectMembers  = []string{
		"agency", "publicSource", "privateSource", "retryConditions", "passQueryString",
		"mirrorFollowRedirect", "redirectWithoutReferer", "mirrorHttpHeader", "replaceKeyWith",
		"replaceKeyPrefixWith", "vpcEndpointURN", "mirrorAllowHttpMethod",
		// Newer members (terraform-provider-huaweicloud's example) whose
		// behaviour OBS does not document: refused when set.
		"returnBaseErrorConditions", "ReturnBaseErrorBodyNewRule", "redirectHttpCode", "redirectOriginServer",
	}
	obsUndocumented = []string{"returnBaseErrorConditions", "ReturnBaseErrorBodyNewRule", "redirectHttpCode", "redirectOriginServer"}
)

// importOBS turns an OBS mirrorBackToSource document into a native
// document. Every problem is reported, at its OBS path, in one
// CompileError.
func importOBS(data []byte) ([]byte, error) {
	c := &jimpCheck{an: "an OBS", root: "rules"}
	top := c.document(data)
	if top == nil {
		return nil, c.err()
	}
	m := c.fields(top, -1, "", obsTopMembers...)
	if m == nil {
		return nil, c.err()
	}
	list := m["rules"]
	switch {
	case list == nil:
		if !c.failed() {
			c.add(-1, "rules", `is required: an OBS document is {"rules": [RULE, ...]}`)
		}
		return nil, c.err()
	case list.kind != jimpArray:
		c.add(-1, "rules", "must be a list of rules")
		return nil, c.err()
	case len(list.vals) == 0 || len(list.vals) > obsMaxRules:
		c.add(-1, "rules", fmt.Sprintf("has %d rules; OBS takes 1 to %d", len(list.vals), obsMaxRules))
	}
	doc := jimpDoc{Rules: make([]jimpRule, 0, len(list.vals))}
	ids := map[string]int{}
	type prefixAt struct {
		rule   int
		prefix string
	}
	var prefixes []prefixAt
	for i, item := range list.vals {
		r, prefix, ok := obsRule(c, i, item, ids)
		if ok {
			// Containment is checked between the rules whose prefix was read.
			for _, p := range prefixes {
				if strings.HasPrefix(prefix, p.prefix) || strings.HasPrefix(p.prefix, prefix) {
					c.add(i, "condition.objectKeyPrefixEquals", fmt.Sprintf(
						"%q and rules[%d]'s prefix %q overlap (one starts with the other; \"\" starts every key): "+
							"OBS refuses rule prefixes that repeat or contain one another", prefix, p.rule, p.prefix))
					break
				}
			}
			prefixes = append(prefixes, prefixAt{i, prefix})
		}
		doc.Rules = append(doc.Rules, r)
	}
	if c.failed() {
		return nil, c.err()
	}
	return jimpMarshal(doc)
}

// obsRule reads rule i. prefixOK says whether its prefix was read, for
// the containment check.
func obsRule(c *jimpCheck, i int, item *jimpVal, ids map[string]int) (r jimpRule, prefix string, prefixOK bool) {
	m := c.fields(item, i, "", obsRuleMembers...)
	if m == nil {
		return r, "", false
	}
	r = jimpRule{Mode: "fetch", On: "miss", Pick: "ordered", KeepSlashes: true, Provider: map[string]any{"format": "obs"}}

	// id
	if m["id"] == nil {
		c.add(i, "id", "is required: 1 to 256 of A-Z, a-z, 0-9, _ and -, unique in the document")
	} else if id, ok := c.str(m["id"], i, "id"); ok {
		switch {
		case id == "" || len(id) > obsMaxIDLen || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "":
			c.add(i, "id", "must be 1 to 256 of A-Z, a-z, 0-9, _ and -")
		default:
			if j, dup := ids[id]; dup {
				c.add(i, "id", fmt.Sprintf("repeats rules[%d]'s id %q; rule ids must be unique", j, id))
			} else {
				ids[id] = i
			}
			r.Provider["id"] = id
		}
	}

	// condition
	if m["condition"] == nil {
		c.add(i, "condition", `is required: {"httpErrorCodeReturnedEquals": 404}`)
	} else if cm := c.fields(m["condition"], i, "condition", obsConditionMembers...); cm != nil {
		const at = "condition.httpErrorCodeReturnedEquals"
		switch code := cm["httpErrorCodeReturnedEquals"]; {
		case code == nil:
			c.add(i, at, "is required, and must be 404 (OBS mirrors on 404 only)")
		case (code.kind == jimpNumber || code.kind == jimpString) && code.text == "404":
			// OBS documents an integer; its SDKs and console send "404".
		default:
			c.add(i, at, "must be 404 (OBS mirrors on 404 only)")
		}
		var ok bool
		prefix, ok = c.str(cm["objectKeyPrefixEquals"], i, "condition.objectKeyPrefixEquals")
		if ok && utf8.RuneCountInString(prefix) > obsMaxPrefixLen {
			c.add(i, "condition.objectKeyPrefixEquals", fmt.Sprintf("is %d characters; OBS allows at most %d",
				utf8.RuneCountInString(prefix), obsMaxPrefixLen))
			ok = false
		}
		prefixOK = ok
	}
	r.Match = &jimpMatch{Prefix: prefix}

	// redirect
	if m["redirect"] == nil {
		c.add(i, "redirect", "is required: it holds the agency and the origins")
		return r, prefix, prefixOK
	}
	rm := c.fields(m["redirect"], i, "redirect", obsRedirectMembers...)
	if rm == nil {
		return r, prefix, prefixOK
	}
	obsRedirect(c, i, rm, prefix, &r)
	return r, prefix, prefixOK
}

func obsRedirect(c *jimpCheck, i int, rm map[string]*jimpVal, prefix string, r *jimpRule) {
	// agency names the IAM agency OBS itself writes with; it is carried,
	// not acted on.
	if rm["agency"] == nil {
		c.add(i, "redirect.agency", "is required: the IAM agency that lets OBS write the mirrored objects")
	} else if a, ok := c.str(rm["agency"], i, "redirect.agency"); ok {
		if a == "" {
			c.add(i, "redirect.agency", "must not be empty: it names the IAM agency that lets OBS write the mirrored objects")
		}
		r.Provider["agency"] = a
	}

	// Origins. A private (credentialed) origin is refused: OBS documents
	// no members of privateSource, so no endpoint and bucket can be read
	// from it. Its content is never read, so that no secret of it is ever
	// echoed.
	private := jimpSet(rm["privateSource"])
	if private {
		c.add(i, "redirect.privateSource", "OBS does not document what privateSource holds, so its endpoint and "+
			"bucket can not be read: write the rule natively with an s3://ENDPOINT/BUCKET origin, which the gateway "+
			"fetches signed with the operator's credentials (its content is not read)")
	}
	switch ps := rm["publicSource"]; {
	case ps == nil && !private:
		c.add(i, "redirect.publicSource", `is required: {"sourceEndpoint": {"master": [URL, ...], "slave": [URL, ...]}}`)
	case ps != nil:
		if pm := c.fields(ps, i, "redirect.publicSource", "sourceEndpoint"); pm != nil {
			const at = "redirect.publicSource.sourceEndpoint"
			if pm["sourceEndpoint"] == nil {
				c.add(i, at, `is required: {"master": [URL, ...], "slave": [URL, ...]}`)
			} else if em := c.fields(pm["sourceEndpoint"], i, at, "master", "slave"); em != nil {
				if em["master"] == nil || (em["master"].kind == jimpArray && len(em["master"].vals) == 0) {
					c.add(i, at+".master", "is required: at least one origin URL")
				} else {
					r.SourceURLs, _ = c.origins(em["master"], i, at+".master", jimpMaxOrigins)
				}
				r.BackSourceURLs, _ = c.origins(em["slave"], i, at+".slave", jimpMaxOrigins)
			}
		}
	}

	r.FailoverOn = obsRetryConditions(c, i, rm["retryConditions"])
	r.PassQuerystring, _ = c.boolean(rm["passQueryString"], i, "redirect.passQueryString")
	follow, _ := c.boolean(rm["mirrorFollowRedirect"], i, "redirect.mirrorFollowRedirect")
	r.Fetch = &jimpFetch{Store: true}
	if follow {
		r.Fetch.FollowRedirects = jimpFollowHops
	}
	if noReferer, ok := c.boolean(rm["redirectWithoutReferer"], i, "redirect.redirectWithoutReferer"); ok && noReferer {
		r.Provider["redirectWithoutReferer"] = true
	}
	c.headerPolicy(rm["mirrorHttpHeader"], i, "redirect.mirrorHttpHeader",
		[4]string{"passAll", "pass", "remove", "set"}, "key", "value", r)

	// Key rewrite.
	key, okKey := c.str(rm["replaceKeyWith"], i, "redirect.replaceKeyWith")
	repl, okRepl := c.str(rm["replaceKeyPrefixWith"], i, "redirect.replaceKeyPrefixWith")
	switch {
	case !okKey || !okRepl:
	case key != "" && repl != "":
		c.add(i, "redirect.replaceKeyPrefixWith", "can not be used with replaceKeyWith: OBS does not say which "+
			"of the two wins (its own sample sets both), so keep the one you mean")
	case key != "":
		r.Rewrite = &jimpRewrite{Key: obsKeyTemplate(key)}
	case rm["replaceKeyPrefixWith"] != nil:
		// Present, even "", replaces the matched prefix ("" strips it);
		// with no prefix condition it is put in front of every key.
		r.Rewrite = &jimpRewrite{ReplacePrefix: &jimpReplacePrefix{From: prefix, To: repl, Join: "concat"}}
	}

	if urn, ok := c.str(rm["vpcEndpointURN"], i, "redirect.vpcEndpointURN"); ok && urn != "" {
		r.Provider["vpcEndpointURN"] = urn
	}
	r.Match.Methods = c.methods(rm["mirrorAllowHttpMethod"], i, "redirect.mirrorAllowHttpMethod")

	for _, name := range obsUndocumented {
		if jimpSet(rm[name]) {
			c.add(i, "redirect."+name, "is an OBS member whose behaviour OBS does not document; "+
				"it is refused rather than guessed at (leave it out, or empty)")
		}
	}
}

// obsRetryConditions turns retryConditions ("4XX", "5XX", or codes
// 400-599 as strings; a class and a code of that class may not be
// mixed; at most 20) into failoverOn, adding timeout and connection
// failures. Absent is "5XX".
func obsRetryConditions(c *jimpCheck, i int, v *jimpVal) []any {
	const at = "redirect.retryConditions"
	list, _ := c.strs(v, i, at)
	if v == nil {
		return append([]any{"5xx"}, jimpFailoverDefault...)
	}
	if len(list) > obsMaxRetryConds {
		c.add(i, at, fmt.Sprintf("has %d conditions; OBS allows at most %d", len(list), obsMaxRetryConds))
	}
	var out []any
	classes := map[byte]bool{}
	codes := map[byte]int{} // class digit → index of a code of it
	for j, s := range list {
		p := jimpIndex(at, j)
		switch {
		case s == "4XX" || s == "5XX":
			classes[s[0]] = true
			out = append(out, strings.ToLower(s))
		case len(s) == 3 && s >= "400" && s <= "599" && strings.Trim(s, "0123456789") == "":
			codes[s[0]] = j
			n, _ := strconv.Atoi(s)
			out = append(out, n)
		default:
			c.add(i, p, fmt.Sprintf("%q is not 4XX, 5XX or a status code from 400 to 599", s))
		}
	}
	for _, d := range []byte{'4', '5'} {
		if j, ok := codes[d]; ok && classes[d] {
			c.add(i, jimpIndex(at, j), fmt.Sprintf("can not be given beside %cXX, which covers it (OBS refuses the mix)", d))
		}
	}
	return append(out, jimpFailoverDefault...)
}

// obsKeyTemplate writes replaceKeyWith in the native rewrite.key
// syntax: "${key}" stays the request key; every other "$" is literal in
// OBS and is written "$$".
func obsKeyTemplate(s string) string {
	var b strings.Builder
	for {
		k := strings.Index(s, "${key}")
		if k < 0 {
			b.WriteString(strings.ReplaceAll(s, "$", "$$"))
			return b.String()
		}
		b.WriteString(strings.ReplaceAll(s[:k], "$", "$$"))
		b.WriteString("${key}")
		s = s[k+len("${key}"):]
	}
}
