package mirror

import (
	"fmt"
	"strconv"
	"strings"
)

// Volcengine TOS, PUT /?mirror: {"Rules": [RULE, ...]} (PROVIDERS.md §5;
// docs/PROVIDERS-IMPORT-JSON.md says each choice). Member names are the
// JSON tags of the TOS Go SDK (ve-tos-golang-sdk tos/type.go,
// MirrorBackRule and what it holds), matched exactly.
//
// RULE is
//
//	{"ID": "...",
//	 "Condition": {"HttpCode": 404, "KeyPrefix": "...", "KeySuffix": "...",
//	   "AllowHost": ["..."], "HttpMethod": ["GET", "HEAD"]},
//	 "Redirect": {"RedirectType": "Mirror" | "Async", "FetchSourceOnRedirect": bool,
//	   "FetchSourceOnRedirectWithQuery": bool, "PassQuery": bool, "FollowRedirect": bool,
//	   "MirrorHeader": {"PassAll": bool, "Pass": [...], "Remove": [...], "Set": [{"Key", "Value"}]},
//	   "PublicSource": {"SourceEndpoint": {"Primary": [URL...], "Follower": [URL...]}, "FixedEndpoint": bool},
//	   "Transform": {"WithKeyPrefix": "...", "WithKeySuffix": "...",
//	     "ReplaceKeyPrefix": {"KeyPrefix": "...", "ReplaceWith": "..."}},
//	   "PassStatusCodeFromSource": [int...]}}

// TOS's limits: 20 rules (https://www.volcengine.com/docs/6349/196036),
// 5 primaries and 20 allowed hosts (https://www.volcengine.com/docs/6349/1209430).
const (
	tosMaxRules     = 20
	tosMaxPrimaries = 5
	tosMaxHosts     = 20
)

var (
	tosTopMembers       = []string{"Rules"}
	tosRuleMembers      = []string{"ID", "Condition", "Redirect"}
	tosConditionMembers = []string{"HttpCode", "KeyPrefix", "KeySuffix", "AllowHost", "HttpMethod"}
	tosRedirectMembers  = []string{
		"RedirectType", "FetchSourceOnRedirect", "PassQuery", "FollowRedirect", "MirrorHeader",
		"PublicSource", "Transform", "FetchHeaderToMetaDataRules", "PrivateSource",
		"FetchSourceOnRedirectWithQuery", "PassStatusCodeFromSource", "PassHeaderFromSource",
	}
)

// importTOS turns a TOS PutBucketMirrorBack document into a native
// document. Every problem is reported, at its TOS path, in one
// CompileError.
func importTOS(data []byte) ([]byte, error) {
	c := &jimpCheck{an: "a TOS", root: "Rules"}
	top := c.document(data)
	if top == nil {
		return nil, c.err()
	}
	m := c.fields(top, -1, "", tosTopMembers...)
	if m == nil {
		return nil, c.err()
	}
	list := m["Rules"]
	switch {
	case list == nil:
		if !c.failed() {
			c.add(-1, "Rules", `is required: a TOS document is {"Rules": [RULE, ...]}`)
		}
		return nil, c.err()
	case list.kind != jimpArray:
		c.add(-1, "Rules", "must be a list of rules")
		return nil, c.err()
	case len(list.vals) == 0 || len(list.vals) > tosMaxRules:
		c.add(-1, "Rules", fmt.Sprintf("has %d rules; TOS takes 1 to %d", len(list.vals), tosMaxRules))
	}
	doc := jimpDoc{Rules: make([]jimpRule, 0, len(list.vals))}
	for i, item := range list.vals {
		doc.Rules = append(doc.Rules, tosRule(c, i, item))
	}
	if c.failed() {
		return nil, c.err()
	}
	return jimpMarshal(doc)
}

func tosRule(c *jimpCheck, i int, item *jimpVal) jimpRule {
	r := jimpRule{On: "miss", Pick: "random", KeepSlashes: true, Provider: map[string]any{"format": "tos"}}
	m := c.fields(item, i, "", tosRuleMembers...)
	if m == nil {
		return r
	}
	if id, ok := c.str(m["ID"], i, "ID"); ok && id != "" {
		r.Provider["id"] = id
	}

	r.Match = &jimpMatch{}
	if m["Condition"] == nil {
		c.add(i, "Condition", `is required: {"HttpCode": 404}`)
	} else if cm := c.fields(m["Condition"], i, "Condition", tosConditionMembers...); cm != nil {
		if code := cm["HttpCode"]; code == nil || code.kind != jimpNumber || code.text != "404" {
			c.add(i, "Condition.HttpCode", "must be the number 404 (TOS mirrors on 404 only)")
		}
		r.Match.Prefix, _ = c.str(cm["KeyPrefix"], i, "Condition.KeyPrefix")
		r.Match.Suffix, _ = c.str(cm["KeySuffix"], i, "Condition.KeySuffix")
		hosts, _ := c.strs(cm["AllowHost"], i, "Condition.AllowHost")
		if len(hosts) > tosMaxHosts {
			c.add(i, "Condition.AllowHost", fmt.Sprintf("has %d hosts; TOS allows at most %d", len(hosts), tosMaxHosts))
		}
		for j, h := range hosts {
			if h == "" {
				c.add(i, jimpIndex("Condition.AllowHost", j), "must be a host name, not empty")
			}
		}
		if len(hosts) > 0 {
			r.Match.Hosts = hosts
		}
		r.Match.Methods = c.methods(cm["HttpMethod"], i, "Condition.HttpMethod")
	}

	if m["Redirect"] == nil {
		c.add(i, "Redirect", "is required: it holds the RedirectType and the origins")
		return r
	}
	if rm := c.fields(m["Redirect"], i, "Redirect", tosRedirectMembers...); rm != nil {
		tosRedirect(c, i, rm, &r)
	}
	return r
}

func tosRedirect(c *jimpCheck, i int, rm map[string]*jimpVal, r *jimpRule) {
	backfill, _ := c.boolean(rm["FetchSourceOnRedirect"], i, "Redirect.FetchSourceOnRedirect")
	switch t, ok := c.str(rm["RedirectType"], i, "Redirect.RedirectType"); {
	case !ok:
	case t == "Mirror":
		// FetchSourceOnRedirect has nothing to add: a Mirror rule stores
		// what it fetches (TOS's own SDK test sends it with Mirror).
		r.Mode = "fetch"
	case t == "Async" && backfill:
		r.Mode = "redirectFetch"
	case t == "Async":
		r.Mode = "redirect"
	case t == "":
		c.add(i, "Redirect.RedirectType", `is required: "Mirror" (fetch and store) or "Async" (redirect)`)
	default:
		c.add(i, "Redirect.RedirectType", fmt.Sprintf(`%q is not "Mirror" or "Async"`, t))
	}

	// Origins. A private source's buckets are s3:// origins
	// (tosPrivateSource); its CredentialProvider is never read.
	private := jimpSet(rm["PrivateSource"])
	var public bool
	switch ps := rm["PublicSource"]; {
	case ps == nil && !private:
		c.add(i, "Redirect.PublicSource", `is required: {"SourceEndpoint": {"Primary": [URL, ...]}}`)
	case ps != nil:
		if pm := c.fields(ps, i, "Redirect.PublicSource", "SourceEndpoint", "FixedEndpoint"); pm != nil {
			if fixed, ok := c.boolean(pm["FixedEndpoint"], i, "Redirect.PublicSource.FixedEndpoint"); ok && fixed {
				c.add(i, "Redirect.PublicSource.FixedEndpoint", "true is refused: TOS does not document what it does")
			}
			const at = "Redirect.PublicSource.SourceEndpoint"
			var em map[string]*jimpVal
			if pm["SourceEndpoint"] != nil {
				em = c.fields(pm["SourceEndpoint"], i, at, "Primary", "Follower")
			}
			switch {
			case !private && (pm["SourceEndpoint"] == nil || em != nil && !jimpSet(em["Primary"])):
				c.add(i, at+".Primary", "is required: 1 to 5 origin URLs")
			case em != nil:
				r.SourceURLs, _ = c.origins(em["Primary"], i, at+".Primary", tosMaxPrimaries)
			}
			if em != nil {
				r.BackSourceURLs, _ = c.origins(em["Follower"], i, at+".Follower", jimpMaxOrigins)
				public = jimpSet(em["Primary"]) || jimpSet(em["Follower"])
			}
		}
	}
	switch {
	case private && public:
		c.add(i, "Redirect.PrivateSource", "beside PublicSource origins: TOS does not say in which order it tries the two; "+
			"give one of them")
	case private && r.Mode != "fetch" && r.Mode != "":
		c.add(i, "Redirect.PrivateSource", "an Async rule sends the client to its origin, and a client can not "+
			"fetch from a private bucket: a private source is for Mirror rules")
	case private:
		r.SourceURLs, r.BackSourceURLs = tosPrivateSource(c, i, rm["PrivateSource"])
	}
	r.FailoverOn = append([]any{"5xx"}, jimpFailoverDefault...)

	r.PassQuerystring, _ = c.boolean(rm["PassQuery"], i, "Redirect.PassQuery")
	if withQuery := rm["FetchSourceOnRedirectWithQuery"]; withQuery != nil {
		// It says whether the backfill of an Async rule sends the query;
		// the native model has one query switch for the redirect and the
		// fetch, so the two must agree there. Elsewhere TOS has no use for it.
		if q, ok := c.boolean(withQuery, i, "Redirect.FetchSourceOnRedirectWithQuery"); ok && r.Mode == "redirectFetch" && q != r.PassQuerystring {
			c.add(i, "Redirect.FetchSourceOnRedirectWithQuery", fmt.Sprintf("%v differs from PassQuery (%v): "+
				"the native model passes the query to both the redirect and the fetch, or to neither", q, r.PassQuerystring))
		}
	}
	follow, _ := c.boolean(rm["FollowRedirect"], i, "Redirect.FollowRedirect")
	c.headerPolicy(rm["MirrorHeader"], i, "Redirect.MirrorHeader",
		[4]string{"PassAll", "Pass", "Remove", "Set"}, "Key", "Value", r)

	var passStatus []int
	if ps := rm["PassStatusCodeFromSource"]; ps != nil {
		const at = "Redirect.PassStatusCodeFromSource"
		if ps.kind != jimpArray {
			c.add(i, at, "must be a list of status codes")
		} else {
			for j, e := range ps.vals {
				n, err := strconv.Atoi(e.text)
				if e.kind != jimpNumber || err != nil || n < 100 || n > 599 {
					c.add(i, jimpIndex(at, j), "must be a status code from 100 to 599")
					continue
				}
				passStatus = append(passStatus, n)
			}
		}
		if len(passStatus) > 0 && r.Mode == "redirect" {
			c.add(i, at, "only acts when TOS fetches: an Async rule without FetchSourceOnRedirect never does")
		}
	}
	if r.Mode != "redirect" {
		r.Fetch = &jimpFetch{Store: true, PassStatus: passStatus}
		if follow {
			r.Fetch.FollowRedirects = jimpFollowHops
		}
	}

	tosTransform(c, i, rm["Transform"], r)

	if jimpSet(rm["FetchHeaderToMetaDataRules"]) {
		c.add(i, "Redirect.FetchHeaderToMetaDataRules", "is not supported: storing origin headers as user "+
			"metadata is a storage option this engine does not carry")
	}
	if jimpSet(rm["PassHeaderFromSource"]) {
		c.add(i, "Redirect.PassHeaderFromSource", "is not supported: the native model has no list of origin "+
			"response headers to hand to the client")
	}
}

// tosPrivateSource reads PrivateSource.SourceEndpoint's Primary (1 to
// 5) and Follower lists of private buckets, {Endpoint, BucketName,
// CredentialProvider}, as s3://ENDPOINT/BUCKET origins, which the gateway
// fetches signed with the credentials the operator binds to the gateway
// bucket (-s3-origin-credentials). CredentialProvider (a role, or keys
// and their region) is never read, into the rules or into an error: a
// tenant's document carries no secret into the stored configuration.
// Endpoint is host[:port], or that after http:// or https://; s3://
// origins are fetched over https.
func tosPrivateSource(c *jimpCheck, i int, v *jimpVal) (prim, back []string) {
	const at = "Redirect.PrivateSource"
	pm := c.fields(v, i, at, "SourceEndpoint")
	if pm == nil {
		return nil, nil
	}
	if pm["SourceEndpoint"] == nil {
		c.add(i, at+".SourceEndpoint", `is required: {"Primary": [{"Endpoint": ..., "BucketName": ...}, ...]}`)
		return nil, nil
	}
	em := c.fields(pm["SourceEndpoint"], i, at+".SourceEndpoint", "Primary", "Follower")
	if em == nil {
		return nil, nil
	}
	list := func(name string, max int) []string {
		p := at + ".SourceEndpoint." + name
		v := em[name]
		switch {
		case v == nil:
			return nil
		case v.kind != jimpArray:
			c.add(i, p, "must be a list of {Endpoint, BucketName, CredentialProvider} objects")
			return nil
		case len(v.vals) > max:
			c.add(i, p, fmt.Sprintf("has %d origins; at most %d are allowed", len(v.vals), max))
		}
		var out []string
		for j, e := range v.vals {
			if u, ok := tosPrivateOrigin(c, i, jimpIndex(p, j), e); ok {
				out = append(out, u)
			}
		}
		return out
	}
	if !jimpSet(em["Primary"]) {
		c.add(i, at+".SourceEndpoint.Primary", "is required: 1 to 5 private buckets")
	}
	return list("Primary", tosMaxPrimaries), list("Follower", jimpMaxOrigins)
}

// tosPrivateOrigin reads one private bucket as s3://ENDPOINT/BUCKET.
func tosPrivateOrigin(c *jimpCheck, i int, at string, v *jimpVal) (string, bool) {
	m := c.fields(v, i, at, "Endpoint", "BucketName", "CredentialProvider")
	if m == nil {
		return "", false
	}
	ep, okE := c.str(m["Endpoint"], i, at+".Endpoint")
	bucket, okB := c.str(m["BucketName"], i, at+".BucketName")
	host := ep
	if _, rest, ok := strings.Cut(ep, "://"); ok && (strings.HasPrefix(ep, "http://") || strings.HasPrefix(ep, "https://")) {
		host = rest
	}
	ok := okE && okB
	switch {
	case !okE:
	case ep == "":
		c.add(i, at+".Endpoint", "is required: the private bucket's endpoint, host[:port]")
		ok = false
	case host == "" || strings.ContainsAny(host, "/?#@ ") || strings.Contains(host, "://"):
		c.add(i, at+".Endpoint", fmt.Sprintf("%q is not host[:port] (or that after http:// or https://)", ep))
		ok = false
	}
	switch {
	case !okB:
	case bucket == "":
		c.add(i, at+".BucketName", "is required: the private bucket's name")
		ok = false
	case !validS3Bucket(bucket):
		c.add(i, at+".BucketName", fmt.Sprintf("%q is not an S3 bucket name: 3 to 63 of a-z 0-9 . -, "+
			"starting and ending with a letter or digit", bucket))
		ok = false
	}
	if !ok {
		return "", false
	}
	raw := "s3://" + host + "/" + bucket
	if _, reason := parseOrigin(raw, true); reason != "" {
		c.add(i, at+".Endpoint", fmt.Sprintf("%q is not an endpoint the engine takes: %s", ep, reason))
		return "", false
	}
	return raw, true
}

// tosTransform maps Transform to rewrite: ReplaceKeyPrefix first, then
// WithKeyPrefix and WithKeySuffix around the result.
func tosTransform(c *jimpCheck, i int, v *jimpVal, r *jimpRule) {
	const at = "Redirect.Transform"
	if v == nil {
		return
	}
	tm := c.fields(v, i, at, "WithKeyPrefix", "WithKeySuffix", "ReplaceKeyPrefix")
	if tm == nil {
		return
	}
	var rw jimpRewrite
	rw.AddPrefix, _ = c.str(tm["WithKeyPrefix"], i, at+".WithKeyPrefix")
	rw.AddSuffix, _ = c.str(tm["WithKeySuffix"], i, at+".WithKeySuffix")
	if rp := tm["ReplaceKeyPrefix"]; rp != nil {
		if pm := c.fields(rp, i, at+".ReplaceKeyPrefix", "KeyPrefix", "ReplaceWith"); pm != nil {
			from, okF := c.str(pm["KeyPrefix"], i, at+".ReplaceKeyPrefix.KeyPrefix")
			to, okT := c.str(pm["ReplaceWith"], i, at+".ReplaceKeyPrefix.ReplaceWith")
			// The Go SDK writes an unset ReplaceKeyPrefix as {}: both empty
			// is no replacement.
			if okF && okT && (from != "" || to != "") {
				rw.ReplacePrefix = &jimpReplacePrefix{From: from, To: to, Join: "concat"}
			}
		}
	}
	if rw != (jimpRewrite{}) {
		r.Rewrite = &rw
	}
}
