package mirror

import (
	"encoding/xml"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Writing an engine's rules as Aliyun OSS, AWS S3 and Tencent COS XML:
// the inverse of import_oss.go, import_s3.go and import_cos.go
// (docs/PROVIDERS-IMPORT.md). Each exporter writes, for every rule in
// order, the provider element its importer reads back into a rule that
// decides as the original does for every request: the same keys and
// conditions, mode, URLs, origin key, query, headers, redirect code and
// policy. What the provider can not say is refused, never dropped: each
// problem is a FieldError at the SOURCE rule's native path
// ("rules[2].sourceWeights"), all of them at once.
//
// Rule fields that do not change a decision of the rule's mode are not
// written: a redirect's headers, storage class, backups, weights, pick,
// failoverOn and fetch options (a redirect decision carries none of
// them). A rule of the BOS model (no extended field) decides with a nil
// Policy; it is exported as the policy the serving layer reads for it:
// its primary, then its backup, ordered, not following redirects, stored.

// exporter collects the problems of one export.
type exporter struct {
	provider string // "Aliyun OSS", for messages
	probs    problems
}

func newExporter(provider string) *exporter {
	return &exporter{provider: provider, probs: problems{at: namerFor(FormatNative)}}
}

// xrule is one rule being exported.
type xrule struct {
	x *exporter
	i int
	r Rule
	c *compiledRule
}

func (v *xrule) fail(field, reason string) { v.x.probs.add(v.i, field, reason) }

func (x *exporter) rules(e *Engine) []*xrule {
	out := make([]*xrule, e.Len())
	for i := range out {
		out[i] = &xrule{x: x, i: i, r: e.Rule(i), c: &e.compiled[i]}
	}
	return out
}

// match returns r.Match, never nil.
func (v *xrule) match() *Match {
	if v.r.Match == nil {
		return &Match{}
	}
	return v.r.Match
}

// cover is the key prefix and suffix every key the rule decides starts
// and ends with, as the providers write them (independent startsWith and
// endsWith): from match.prefix, or a wildcard resource p*s whose p and s
// can not overlap in a key (then BOS's length rule adds nothing), and
// match.suffix. suffixField names the field the suffix came from.
func (v *xrule) cover() (prefix, suffix, suffixField string) {
	r := v.r
	var resSuffix string
	switch {
	case r.Resource == "":
		prefix = v.match().Prefix
	case r.ResourceSyntax == "glob":
		v.fail("resource", v.x.provider+" has no glob patterns: a rule covers a key prefix and suffix only")
	default:
		first, last := strings.IndexByte(r.Resource, '*'), strings.LastIndexByte(r.Resource, '*')
		switch {
		case first < 0:
			v.fail("resource", v.x.provider+" has no exact-key condition: its prefix and suffix conditions also take longer keys")
		case strings.Trim(r.Resource[first:last+1], "*") != "":
			v.fail("resource", v.x.provider+` has no pattern with a "*" in the middle: a rule covers a key prefix and suffix only`)
		default:
			prefix, resSuffix = r.Resource[:first], r.Resource[last+1:]
		}
	}
	suffix, suffixField = resSuffix, "resource"
	if ms := v.match().Suffix; ms != "" {
		switch {
		case strings.HasSuffix(resSuffix, ms):
		case strings.HasSuffix(ms, resSuffix):
			suffix, suffixField = ms, "match.suffix"
		default:
			v.fail("match.suffix", "differs from the resource's literal suffix: the rule decides no key, and "+
				v.x.provider+" has one suffix condition")
			return prefix, "", ""
		}
	}
	// p*s takes keys of at least len(p)+len(s) bytes; startsWith(p) and
	// endsWith(suffix) also take shorter ones when p's end overlaps the
	// suffix's start.
	if resSuffix != "" && prefix != "" {
		for o := max(1, len(suffix)-len(resSuffix)+1); o <= min(len(prefix), len(suffix)); o++ {
			if strings.HasSuffix(prefix, suffix[:o]) {
				v.fail("resource", "its literal prefix and suffix overlap, so "+v.x.provider+
					"'s independent prefix and suffix conditions would also take keys shorter than the two")
				break
			}
		}
	}
	return prefix, suffix, suffixField
}

// onCode is the single status the rule answers (404 for a miss), 0 for
// "always", -1 for anything else.
func onCode(t Trigger) int {
	switch {
	case len(t) == 0 || len(t) == 1 && t[0] == "miss":
		return 404
	case len(t) == 1 && t[0] == "always":
		return 0
	}
	code := -1
	for _, s := range t {
		n, ok := statusCode(s)
		if !ok || code > 0 && n != code {
			return -1
		}
		code = n
	}
	return code
}

// refuseConditions refuses the match conditions the provider has none of.
func (v *xrule) refuseConditions(headers, hosts, notHosts, methods bool) {
	m := v.match()
	lack := func(field string, has bool, what string) {
		if has {
			v.fail(field, v.x.provider+" has no "+what)
		}
	}
	lack("match.headers", !headers && len(m.Headers) > 0, "header conditions")
	lack("match.hosts", !hosts && len(m.Hosts) > 0, "host conditions")
	lack("match.notHosts", !notHosts && len(m.NotHosts) > 0, "excluded-host conditions")
	lack("match.methods", !methods && len(m.Methods) > 0, "method conditions")
}

// redirectCode is the rule's redirect code and the field that sets it.
func (v *xrule) redirectCode() (int, string) {
	if rd := v.r.Redirect; rd != nil && rd.Code != 0 {
		return rd.Code, "redirect.code"
	}
	if v.r.RedirectCode != 0 {
		return v.r.RedirectCode, "redirectCode"
	}
	return 302, "redirectCode"
}

func (v *xrule) codeIn(codes ...int) int {
	code, field := v.redirectCode()
	if !slices.Contains(codes, code) {
		words := make([]string, len(codes))
		for j, c := range codes {
			words[j] = strconv.Itoa(c)
		}
		v.fail(field, v.x.provider+" has no redirect code "+strconv.Itoa(code)+": only "+strings.Join(words, ", "))
	}
	return code
}

// Origins.

// xorigin is one origin URL of a rule: as written and compiled (for
// scheme "request", its http form).
type xorigin struct {
	field string // "sourceUrls[1]", "backSourceUrl"
	raw   string
	o     *origin
}

// authority is the origin's host[:port] as written.
func (o xorigin) authority() string {
	s := o.raw
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	host, _, _ := strings.Cut(s, "/")
	return host
}

// origins are the rule's primaries and backups.
func (v *xrule) origins() (prim, back []xorigin) {
	r := v.r
	list := func(one string, many []string, field string) []xorigin {
		if one != "" {
			return []xorigin{{field: strings.TrimSuffix(field, "s"), raw: one}}
		}
		out := make([]xorigin, len(many))
		for j, u := range many {
			out[j] = xorigin{field: field + "[" + strconv.Itoa(j) + "]", raw: u}
		}
		return out
	}
	if v.c.ext == nil {
		prim = []xorigin{{field: "sourceUrl", raw: v.c.primary.raw, o: v.c.primary}}
		if v.c.backup != nil {
			back = []xorigin{{field: "backSourceUrl", raw: v.c.backup.raw, o: v.c.backup}}
		}
		return prim, back
	}
	prim = list(r.SourceURL, r.SourceURLs, "sourceUrls")
	back = list(r.BackSourceURL, r.BackSourceURLs, "backSourceUrls")
	x := v.c.ext
	if len(x.origins) != len(prim)+len(back) {
		return prim, back // a redirect to redirect.host: no origins
	}
	for j := range prim {
		prim[j].o = x.origins[j]
	}
	for j := range back {
		back[j].o = x.origins[len(prim)+j]
	}
	return prim, back
}

// policy is the rule's fetch policy; for a rule of the BOS model, the
// one the serving layer reads for it.
func (v *xrule) policy() *Policy {
	if v.c.ext != nil {
		if p := v.c.ext.policy; p != nil {
			return p
		}
	}
	return &Policy{Primaries: 1, Pick: PickOrdered, Store: true}
}

// followFlag maps fetch.followRedirects to a provider's follow flag.
func (v *xrule) followFlag(pol *Policy) bool {
	switch pol.FollowRedirects {
	case 0:
		return false
	case followHops:
		return true
	}
	v.fail("fetch.followRedirects", v.x.provider+" follows "+strconv.Itoa(followHops)+
		" origin redirects or none: set 0 or 10")
	return false
}

// redirectTo is where a redirect rule sends the client, as a provider
// writes it: host ("" the request's) and scheme ("" the request's).
func (v *xrule) redirectTo(prim []xorigin) (host, scheme string) {
	if x := v.c.ext; x != nil && x.target != nil {
		return v.r.Redirect.Host, v.r.Redirect.Scheme
	}
	if len(prim) == 0 || prim[0].o == nil {
		return "", ""
	}
	o := prim[0]
	if o.o.path != "/" {
		v.fail(o.field, "has a base path; an "+v.x.provider+" redirect goes to scheme://host/ and the key")
	}
	if v.c.ext != nil && v.c.ext.fromRequest {
		return o.authority(), ""
	}
	return o.o.hostport, o.o.scheme
}

// The origin key.

// keyForm is a rule's origin key K' of the request key K: a literal
// (lit set), K' = add + K[len(drop):] + tail (simple), or a template of
// pieces. field names where it was written.
type keyForm struct {
	lit              *string
	simple           bool
	add, drop, tail  string
	pieces           []string
	field            string
	fromReplace      bool // written as rewrite.replacePrefix
	identityTemplate bool // rewrite.key "${key}"
}

func (k keyForm) identity() bool {
	return k.simple && k.add == "" && k.drop == "" && k.tail == ""
}

// key works out the rule's origin key as a keyForm; prefix is the literal
// prefix every covered key starts with.
func (v *xrule) key(prefix string) (keyForm, bool) {
	r := v.r
	if r.KeepSlashes != nil && !*r.KeepSlashes {
		v.fail("keepSlashes", v.x.provider+" keeps the origin key's slashes as they are (the importer reads no other setting)")
		return keyForm{}, false
	}
	rw := r.Rewrite
	if rw == nil {
		switch {
		case r.FixedKey != "":
			lit := r.FixedKey
			return keyForm{lit: &lit, field: "fixedKey"}, true
		case r.Version == "v2":
			v.fail("version", v.x.provider+` has no BOS v2 prefix replacement (its "/" join)`)
			return keyForm{}, false
		}
		return keyForm{simple: true, add: r.Prefix, tail: r.Suffix, field: "prefix"}, true
	}
	ok := true
	if s := rw.ReplaceSuffix; s != nil && s.From != s.To {
		v.fail("rewrite.replaceSuffix", v.x.provider+" has no suffix replacement")
		ok = false
	}
	var pieces []string
	if rw.Key != "" {
		pieces, _ = parseKeyTemplate(rw.Key)
	}
	identity := len(pieces) == 1 && pieces[0] == keyRef
	if p := rw.ReplacePrefix; p != nil {
		if p.Join == "slash" {
			v.fail("rewrite.replacePrefix.join", v.x.provider+` has no "slash" join: its prefix replacement concatenates`)
			ok = false
		}
		if len(pieces) > 0 && !identity {
			v.fail("rewrite", v.x.provider+" can not replace a prefix of a rewritten key (rewrite.key with rewrite.replacePrefix)")
			ok = false
		}
		if !ok {
			return keyForm{}, false
		}
		from := prefix
		if p.From != nil {
			from = *p.From
		}
		switch {
		case strings.HasPrefix(prefix, from):
			return keyForm{simple: true, add: rw.AddPrefix + p.To, drop: from, tail: rw.AddSuffix,
				field: "rewrite.replacePrefix", fromReplace: true}, true
		case strings.HasPrefix(from, prefix):
			v.fail("rewrite.replacePrefix.from", "is longer than the rule's key prefix, so it replaces in some keys only; "+
				v.x.provider+" replaces the rule's whole key prefix")
			return keyForm{}, false
		}
		// No covered key starts with from: nothing is replaced.
		return keyForm{simple: true, add: rw.AddPrefix, tail: rw.AddSuffix, field: "rewrite"}, true
	}
	if !ok {
		return keyForm{}, false
	}
	if len(pieces) == 0 {
		return keyForm{simple: true, add: rw.AddPrefix, tail: rw.AddSuffix, field: "rewrite"}, true
	}
	// rewrite.key, with addPrefix and addSuffix folded in.
	var all []string
	if rw.AddPrefix != "" {
		all = append(all, rw.AddPrefix)
	}
	for _, p := range pieces {
		if p != keyRef && len(all) > 0 && all[len(all)-1] != keyRef {
			all[len(all)-1] += p
			continue
		}
		all = append(all, p)
	}
	if rw.AddSuffix != "" {
		if len(all) > 0 && all[len(all)-1] != keyRef {
			all[len(all)-1] += rw.AddSuffix
		} else {
			all = append(all, rw.AddSuffix)
		}
	}
	refs := 0
	at := -1
	for j, p := range all {
		if p == keyRef {
			refs++
			at = j
		}
	}
	switch refs {
	case 0:
		lit := strings.Join(all, "")
		return keyForm{lit: &lit, field: "rewrite.key"}, true
	case 1:
		k := keyForm{simple: true, field: "rewrite.key", pieces: all, identityTemplate: identity && rw.AddPrefix == "" && rw.AddSuffix == ""}
		k.add = strings.Join(all[:at], "")
		k.tail = strings.Join(all[at+1:], "")
		return k, true
	}
	return keyForm{pieces: all, field: "rewrite.key"}, true
}

// ossTemplate writes pieces as an OSS ReplaceKeyWith template, which
// OSS reads with every "${key}" the key: ok is false when a literal
// piece would read back as "${key}".
func ossTemplate(pieces []string) (string, bool) {
	s := joinKeyTemplate(pieces)
	back, _ := parseKeyTemplate(templateKey(s))
	return s, slices.Equal(back, pieces)
}

// Headers.

// headers checks the header lists against a provider's name rule and
// count limit (0: none).
func (v *xrule) headers(nameOK func(string) bool, limit int, what string) {
	r := v.r
	for _, l := range []struct {
		field string
		names []string
	}{{"passHeaders", r.PassHeaders}, {"ignoreHeaders", r.IgnoreHeaders}} {
		if limit > 0 && len(l.names) > limit {
			v.fail(l.field, v.x.provider+" takes at most "+strconv.Itoa(limit)+" names")
		}
		for j, n := range l.names {
			if n != "*" && !nameOK(n) {
				v.fail(l.field+"["+strconv.Itoa(j)+"]", quoteShort(n)+" is not a header name "+v.x.provider+" takes ("+what+")")
			}
		}
	}
	if limit > 0 && len(r.CustomHeaders) > limit {
		v.fail("customHeaders", v.x.provider+" sets at most "+strconv.Itoa(limit)+" headers")
	}
	for j, h := range r.CustomHeaders {
		if !nameOK(h.Name) {
			v.fail("customHeaders["+strconv.Itoa(j)+"].headerName", quoteShort(h.Name)+" is not a header name "+
				v.x.provider+" takes ("+what+")")
		}
	}
}

func (v *xrule) refuseStorageClass() {
	if v.r.StorageClass != "" {
		v.fail("storageClass", v.x.provider+" has no storage class for a fetched object")
	}
}

// finish marshals doc, unless there were problems, and reads it back
// with the provider's importer: a document the importer would refuse is
// never handed out (its problems are named by the rule they belong to).
func (x *exporter) finish(doc any, reimport func([]byte) ([]byte, error), header bool) ([]byte, error) {
	if x.probs.failed() {
		return nil, x.probs.err()
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if header {
		out = append([]byte(xml.Header), out...)
	}
	out = append(out, '\n')
	if _, err := reimport(out); err != nil {
		var ce *CompileError
		if !errors.As(err, &ce) {
			return nil, err
		}
		for _, p := range ce.Problems {
			x.probs.add(max(p.Rule, -1), "", "the "+x.provider+" document written for it does not load back: "+p.Error())
		}
		return nil, x.probs.err()
	}
	return out, nil
}

func boolPtr(b bool) *bool { return &b }

// Aliyun OSS.

type ossXMLWebsite struct {
	XMLName      xml.Name    `xml:"WebsiteConfiguration"`
	RoutingRules ossXMLRules `xml:"RoutingRules"`
}

type ossXMLRules struct {
	Rules []ossXMLRule `xml:"RoutingRule"`
}

type ossXMLRule struct {
	RuleNumber int             `xml:"RuleNumber"`
	Condition  ossXMLCondition `xml:"Condition"`
	Redirect   ossXMLRedirect  `xml:"Redirect"`
}

type ossXMLCondition struct {
	KeyPrefixEquals string            `xml:"KeyPrefixEquals,omitempty"`
	KeySuffixEquals string            `xml:"KeySuffixEquals,omitempty"`
	StatusEquals    int               `xml:"HttpErrorCodeReturnedEquals,omitempty"`
	IncludeHeader   []ossXMLKeyEquals `xml:"IncludeHeader"`
}

type ossXMLKeyEquals struct {
	Key    string `xml:"Key"`
	Equals string `xml:"Equals"`
}

type ossXMLRedirect struct {
	RedirectType           string            `xml:"RedirectType"`
	PassQueryString        *bool             `xml:"PassQueryString,omitempty"`
	MirrorURL              string            `xml:"MirrorURL,omitempty"`
	MirrorURLSlave         string            `xml:"MirrorURLSlave,omitempty"`
	MirrorMultiAlternates  *ossXMLAlternates `xml:"MirrorMultiAlternates,omitempty"`
	MirrorSwitchAllErrors  *bool             `xml:"MirrorSwitchAllErrors,omitempty"`
	MirrorFollowRedirect   *bool             `xml:"MirrorFollowRedirect,omitempty"`
	MirrorCheckMd5         *bool             `xml:"MirrorCheckMd5,omitempty"`
	MirrorProxyPass        *bool             `xml:"MirrorProxyPass,omitempty"`
	TransparentCodes       string            `xml:"TransparentMirrorResponseCodes,omitempty"`
	MirrorKeepSlashes      *bool             `xml:"MirrorPassOriginalSlashes,omitempty"`
	MirrorAllowHeadObject  *bool             `xml:"MirrorAllowHeadObject,omitempty"`
	MirrorURLProbe         string            `xml:"MirrorURLProbe,omitempty"`
	MirrorSaveOssMeta      *bool             `xml:"MirrorSaveOssMeta,omitempty"`
	MirrorUserLastModified *bool             `xml:"MirrorUserLastModified,omitempty"`
	MirrorHeaders          *ossXMLHeaders    `xml:"MirrorHeaders,omitempty"`
	Protocol               string            `xml:"Protocol,omitempty"`
	HostName               string            `xml:"HostName,omitempty"`
	RedirectCode           int               `xml:"HttpRedirectCode,omitempty"`
	ReplaceKeyWith         *string           `xml:"ReplaceKeyWith,omitempty"`
	EnableReplacePrefix    *bool             `xml:"EnableReplacePrefix,omitempty"`
	ReplaceKeyPrefixWith   *string           `xml:"ReplaceKeyPrefixWith,omitempty"`
}

type ossXMLAlternates struct {
	Alternates []ossXMLAlternate `xml:"MirrorMultiAlternate"`
}

type ossXMLAlternate struct {
	Number int    `xml:"MirrorMultiAlternateNumber"`
	URL    string `xml:"MirrorMultiAlternateURL"`
}

type ossXMLHeaders struct {
	PassAll *bool             `xml:"PassAll,omitempty"`
	Pass    []string          `xml:"Pass"`
	Remove  []string          `xml:"Remove"`
	Set     []ossXMLHeaderSet `xml:"Set"`
}

type ossXMLHeaderSet struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// exportOSS writes the engine's rules as an Aliyun OSS PutBucketWebsite
// body: RoutingRule i+1 for rule i, a fetch rule as RedirectType Mirror,
// a redirect rule as External.
func exportOSS(e *Engine) ([]byte, error) {
	x := newExporter("Aliyun OSS")
	if e.Len() > ossMaxRules {
		x.probs.add(-1, "", "has "+strconv.Itoa(e.Len())+" rules; Aliyun OSS allows at most "+strconv.Itoa(ossMaxRules))
	}
	doc := ossXMLWebsite{}
	for _, v := range x.rules(e) {
		doc.RoutingRules.Rules = append(doc.RoutingRules.Rules, v.oss())
	}
	return x.finish(doc, importOSS, false)
}

func (v *xrule) oss() ossXMLRule {
	r := v.r
	out := ossXMLRule{RuleNumber: v.i + 1}
	prefix, suffix, _ := v.cover()
	out.Condition.KeyPrefixEquals, out.Condition.KeySuffixEquals = prefix, suffix
	m := v.match()
	if len(m.Headers) > ossMaxList {
		v.fail("match.headers", "Aliyun OSS takes at most "+strconv.Itoa(ossMaxList)+" header conditions")
	}
	for j, h := range m.Headers {
		if !tokenOK(h.Name) {
			v.fail("match.headers["+strconv.Itoa(j)+"].name", quoteShort(h.Name)+" is not a header name Aliyun OSS takes")
		}
		out.Condition.IncludeHeader = append(out.Condition.IncludeHeader, ossXMLKeyEquals{Key: h.Name, Equals: h.Value})
	}
	key, keyOK := v.key(prefix)
	rd := &out.Redirect
	if r.PassQueryString {
		rd.PassQueryString = boolPtr(true)
	}
	switch r.Mode {
	case ModeFetch:
		rd.RedirectType = "Mirror"
		v.refuseConditions(true, false, false, true)
		if onCode(r.On) != 404 {
			v.fail("on", "an Aliyun OSS Mirror rule answers a miss (404) only")
		}
		out.Condition.StatusEquals = 404
		v.ossMethods(rd)
		v.ossMirror(rd)
		if r.KeepSlashes != nil && *r.KeepSlashes {
			rd.MirrorKeepSlashes = boolPtr(true)
		}
	case ModeRedirect:
		rd.RedirectType = "External"
		v.refuseConditions(true, false, false, false)
		switch code := onCode(r.On); {
		case code == 0:
		case code >= 400 && code <= 599:
			out.Condition.StatusEquals = code
		default:
			v.fail("on", "an Aliyun OSS redirect rule answers every request or one status from 400 to 599")
		}
		prim, _ := v.origins()
		rd.HostName, rd.Protocol = v.redirectTo(prim)
		if code := v.codeIn(301, 302, 307); code != 301 {
			rd.RedirectCode = code
		}
	default:
		v.fail("mode", "Aliyun OSS has no "+strconv.Quote(string(r.Mode))+" mode: Mirror fetches, External redirects")
	}
	if keyOK {
		v.ossKey(key, prefix, rd)
	}
	return out
}

// ossMethods: a Mirror rule takes GET, and HEAD with MirrorAllowHeadObject.
func (v *xrule) ossMethods(rd *ossXMLRedirect) {
	var get, head, other bool
	for _, m := range v.match().Methods {
		switch strings.ToUpper(m) {
		case "GET":
			get = true
		case "HEAD":
			head = true
		default:
			other = true
		}
	}
	if !get || other {
		v.fail("match.methods", `an Aliyun OSS Mirror rule fetches for GET (and HEAD) only: set ["GET"] or ["GET", "HEAD"]`)
	}
	if head {
		rd.MirrorAllowHeadObject = boolPtr(true)
	}
}

// ossMirror writes a Mirror rule's origins, failover, fetch options and
// headers.
func (v *xrule) ossMirror(rd *ossXMLRedirect) {
	r := v.r
	prim, back := v.origins()
	fromRequest := v.c.ext != nil && v.c.ext.fromRequest
	if fromRequest {
		v.fail("scheme", "Aliyun OSS has no origin that takes the request's scheme")
	}
	url := func(o xorigin) string {
		switch {
		case o.o == nil || fromRequest:
			return ""
		case o.o.signed():
			v.fail(o.field, "Aliyun OSS fetches from http:// and https:// origins only, not "+o.o.scheme+"://")
		case ossURLOK(o.raw) && (strings.HasPrefix(o.raw, "http://") || strings.HasPrefix(o.raw, "https://")):
			return o.raw
		}
		return o.o.base
	}
	if len(prim) > 1 {
		v.fail("sourceUrls", "Aliyun OSS has one primary origin (MirrorURL); the others are backups")
	}
	if len(prim) > 0 {
		rd.MirrorURL = url(prim[0])
	}
	for j, o := range back {
		if j == 0 {
			rd.MirrorURLSlave = url(o)
			continue
		}
		if rd.MirrorMultiAlternates == nil {
			rd.MirrorMultiAlternates = &ossXMLAlternates{}
		}
		rd.MirrorMultiAlternates.Alternates = append(rd.MirrorMultiAlternates.Alternates, ossXMLAlternate{Number: j, URL: url(o)})
	}
	pol := v.policy()
	if len(r.SourceWeights) > 0 {
		v.fail("sourceWeights", "Aliyun OSS has no origin weights")
	} else if pol.Pick != PickOrdered {
		v.fail("pick", "Aliyun OSS tries its origins in order")
	}
	switch fo := []string(pol.FailoverOn); {
	case len(back) == 0 && len(fo) > 0:
		v.fail("failoverOn", "Aliyun OSS has no failover without a backup origin")
	case len(back) == 0:
	case slices.Equal(fo, []string{"5xx", "timeout"}):
	case slices.Equal(fo, statusStrings(ossAllErrors())):
		rd.MirrorSwitchAllErrors = boolPtr(true)
	default:
		v.fail("failoverOn", `Aliyun OSS switches to the backup on ["5xx", "timeout"] or on every error (MirrorSwitchAllErrors)`)
	}
	if !v.followFlag(pol) {
		rd.MirrorFollowRedirect = boolPtr(false)
	}
	if pol.CheckMD5 {
		rd.MirrorCheckMd5 = boolPtr(true)
	}
	if !pol.Store {
		rd.MirrorProxyPass = boolPtr(true)
	}
	// OSS's MirrorUserLastModified defaults to false (the object dates
	// from when OSS stored it), the native lastModified to the origin's:
	// it is written for "origin" and for unset.
	if pol.LastModified != "fetched" {
		rd.MirrorUserLastModified = boolPtr(true)
	}
	if pol.SaveMeta {
		rd.MirrorSaveOssMeta = boolPtr(true)
	}
	if p := pol.Probe; p != "" {
		if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
			rd.MirrorURLProbe = p
		} else {
			v.fail("fetch.probe", "Aliyun OSS takes a probe URL that starts with http:// or https:// (MirrorURLProbe): write its scheme")
		}
	}
	var codes []string
	for j, s := range pol.PassStatus {
		if _, ok := statusCode(s); !ok {
			v.fail("fetch.passStatus["+strconv.Itoa(j)+"]", "Aliyun OSS passes listed status codes only, not "+strconv.Quote(s))
		}
		codes = append(codes, s)
	}
	rd.TransparentCodes = strings.Join(codes, ",")
	v.refuseStorageClass()
	v.headers(headerNameOK, ossMaxList, "0-9, A-Z, a-z and -")
	if len(r.PassHeaders) > 0 || len(r.IgnoreHeaders) > 0 || len(r.CustomHeaders) > 0 {
		h := &ossXMLHeaders{Remove: r.IgnoreHeaders}
		if slices.Equal(r.PassHeaders, []string{"*"}) {
			h.PassAll = boolPtr(true)
		} else {
			h.Pass = r.PassHeaders
		}
		for _, c := range r.CustomHeaders {
			h.Set = append(h.Set, ossXMLHeaderSet{Key: c.Name, Value: c.Value})
		}
		rd.MirrorHeaders = h
	}
}

// ossKey writes the origin key: ReplaceKeyWith (a template) or
// ReplaceKeyPrefixWith, which replaces KeyPrefixEquals.
func (v *xrule) ossKey(k keyForm, prefix string, rd *ossXMLRedirect) {
	mirror := rd.RedirectType == "Mirror"
	template := func(pieces []string) {
		s, ok := ossTemplate(pieces)
		if !ok {
			v.fail(k.field, `holds the literal text "${key}", which Aliyun OSS's ReplaceKeyWith reads as the key`)
		}
		rd.ReplaceKeyWith = &s
	}
	switch {
	case k.lit != nil:
		template([]string{*k.lit})
	case k.identityTemplate:
		template(k.pieces)
	case k.identity():
	case !k.simple:
		template(k.pieces)
	case k.tail == "" && (k.drop != "" || k.fromReplace || k.pieces == nil):
		with := k.add + prefix[len(k.drop):]
		rd.ReplaceKeyPrefixWith = &with
		if mirror {
			rd.EnableReplacePrefix = boolPtr(true)
		}
	case k.drop == "":
		pieces := k.pieces
		if pieces == nil {
			pieces = []string{k.add, keyRef, k.tail}
			if k.add == "" {
				pieces = pieces[1:]
			}
		}
		template(pieces)
	default:
		v.fail(k.field, "Aliyun OSS can not both replace the key prefix and add a suffix")
	}
}

func statusStrings(l []any) []string {
	out := make([]string, len(l))
	for j, s := range l {
		switch s := s.(type) {
		case int:
			out[j] = strconv.Itoa(s)
		case string:
			out[j] = s
		}
	}
	return out
}

// AWS S3.

type s3XMLWebsite struct {
	XMLName     xml.Name          `xml:"http://s3.amazonaws.com/doc/2006-03-01/ WebsiteConfiguration"`
	RedirectAll *s3XMLRedirectAll `xml:"RedirectAllRequestsTo,omitempty"`
	Rules       *s3XMLRules       `xml:"RoutingRules,omitempty"`
}

type s3XMLRedirectAll struct {
	HostName string `xml:"HostName"`
	Protocol string `xml:"Protocol,omitempty"`
}

type s3XMLRules struct {
	Rules []s3XMLRule `xml:"RoutingRule"`
}

type s3XMLRule struct {
	Condition *s3XMLCondition `xml:"Condition,omitempty"`
	Redirect  s3XMLRedirect   `xml:"Redirect"`
}

type s3XMLCondition struct {
	KeyPrefixEquals string `xml:"KeyPrefixEquals,omitempty"`
	StatusEquals    int    `xml:"HttpErrorCodeReturnedEquals,omitempty"`
}

type s3XMLRedirect struct {
	Protocol             string  `xml:"Protocol,omitempty"`
	HostName             string  `xml:"HostName,omitempty"`
	ReplaceKeyPrefixWith *string `xml:"ReplaceKeyPrefixWith,omitempty"`
	ReplaceKeyWith       *string `xml:"ReplaceKeyWith,omitempty"`
	RedirectCode         int     `xml:"HttpRedirectCode,omitempty"`
}

// exportS3 writes the engine's rules as the XML body of an AWS S3
// PutBucketWebsite: one RoutingRule per rule, in order (S3 has redirect
// rules only). An engine of the one rule RedirectAllRequestsTo imports
// to is written as RedirectAllRequestsTo.
func exportS3(e *Engine) ([]byte, error) {
	x := newExporter("AWS S3")
	if e.Len() > s3MaxRules {
		x.probs.add(-1, "", "has "+strconv.Itoa(e.Len())+" rules; AWS S3 allows at most "+strconv.Itoa(s3MaxRules))
	}
	doc := s3XMLWebsite{}
	var rules []s3XMLRule
	views := x.rules(e)
	for _, v := range views {
		rules = append(rules, v.s3())
	}
	if len(rules) == 1 && !x.probs.failed() {
		if all := s3RedirectAll(rules[0], views[0]); all != nil {
			doc.RedirectAll = all
			rules = nil
		}
	}
	if len(rules) > 0 {
		doc.Rules = &s3XMLRules{Rules: rules}
	}
	return x.finish(doc, importS3, true)
}

// s3RedirectAll is RedirectAllRequestsTo when the rule is what it
// imports to: every key and status, a given host, code 301, the key and
// no query.
func s3RedirectAll(w s3XMLRule, v *xrule) *s3XMLRedirectAll {
	rd := w.Redirect
	code, _ := v.redirectCode()
	if w.Condition != nil || rd.HostName == "" || rd.ReplaceKeyWith != nil || rd.ReplaceKeyPrefixWith != nil ||
		code != 301 || v.r.PassQueryString {
		return nil
	}
	return &s3XMLRedirectAll{HostName: rd.HostName, Protocol: rd.Protocol}
}

func (v *xrule) s3() s3XMLRule {
	r := v.r
	var out s3XMLRule
	if r.Mode != ModeRedirect {
		v.fail("mode", "AWS S3 has no "+strconv.Quote(string(r.Mode))+" mode: its routing rules redirect only")
		return out
	}
	prefix, suffix, suffixField := v.cover()
	if suffix != "" {
		v.fail(suffixField, "AWS S3 has no key suffix condition")
	}
	v.refuseConditions(false, false, false, false)
	if r.PassQueryString {
		v.fail("passQuerystring", "AWS S3 does not say that it passes the query string into the Location: the importer reads it as not passed")
	}
	cond := &s3XMLCondition{KeyPrefixEquals: prefix}
	switch code := onCode(r.On); {
	case code == 0:
	case code >= 400 && code <= 599:
		cond.StatusEquals = code
	default:
		v.fail("on", "an AWS S3 routing rule answers every request or one status from 400 to 599")
	}
	if *cond != (s3XMLCondition{}) {
		out.Condition = cond
	}
	prim, _ := v.origins()
	rd := &out.Redirect
	rd.HostName, rd.Protocol = v.redirectTo(prim)
	code := v.codeIn(s3RedirectCodes...)
	if k, ok := v.key(prefix); ok {
		switch {
		case k.lit != nil:
			rd.ReplaceKeyWith = k.lit
		case k.identity():
		case k.simple && k.tail == "":
			with := k.add + prefix[len(k.drop):]
			rd.ReplaceKeyPrefixWith = &with
		default:
			v.fail(k.field, "AWS S3 replaces the whole key (a literal) or its prefix only: it can not add a suffix or insert the key into a template")
		}
	}
	if code != 301 || *rd == (s3XMLRedirect{}) {
		rd.RedirectCode = code
	}
	return out
}

// Tencent COS.

type cosXMLConfig struct {
	XMLName xml.Name     `xml:"OriginConfiguration"`
	Rules   []cosXMLRule `xml:"OriginRule"`
}

type cosXMLRule struct {
	RulePriority    int                `xml:"RulePriority"`
	OriginType      string             `xml:"OriginType"`
	OriginCondition cosXMLCondition    `xml:"OriginCondition"`
	OriginParameter cosXMLParameter    `xml:"OriginParameter"`
	StandbyCode     *cosXMLStandbyCode `xml:"HTTPStandbyCode,omitempty"`
	OriginInfo      cosXMLInfo         `xml:"OriginInfo"`
}

type cosXMLCondition struct {
	StatusCode int              `xml:"HTTPStatusCode"`
	Prefix     string           `xml:"Prefix,omitempty"`
	Suffix     string           `xml:"Suffix,omitempty"`
	FilterHost *cosXMLForbidden `xml:"FilterHost,omitempty"`
}

type cosXMLForbidden struct {
	Domains []string `xml:"ForbidHost>DomainList>Domain"`
}

type cosXMLParameter struct {
	Protocol             string            `xml:"Protocol"`
	FollowQueryString    *bool             `xml:"FollowQueryString,omitempty"`
	HTTPHeader           *cosXMLHTTPHeader `xml:"HttpHeader,omitempty"`
	FollowRedirection    *bool             `xml:"FollowRedirection,omitempty"`
	RedirectCode         int               `xml:"HttpRedirectCode,omitempty"`
	TransparentErrorCode *bool             `xml:"TransparentErrorCode,omitempty"`
}

type cosXMLHTTPHeader struct {
	FollowAllHeaders    *bool          `xml:"FollowAllHeaders,omitempty"`
	FollowHTTPHeaders   *cosXMLHeaders `xml:"FollowHttpHeaders,omitempty"`
	ForbidFollowHeaders *cosXMLHeaders `xml:"ForbidFollowHeaders,omitempty"`
	NewHTTPHeaders      *cosXMLHeaders `xml:"NewHttpHeaders,omitempty"`
}

type cosXMLHeaders struct {
	Header []cosXMLHeader `xml:"Header"`
}

type cosXMLHeader struct {
	Key   string  `xml:"Key"`
	Value *string `xml:"Value,omitempty"`
}

type cosXMLStandbyCode struct {
	StatusCode []string `xml:"StatusCode"`
}

type cosXMLInfo struct {
	HostInfo []cosXMLHostInfo `xml:"HostInfo"`
	FileInfo *cosXMLFileInfo  `xml:"FileInfo,omitempty"`
}

type cosXMLFileInfo struct {
	PrefixConfiguration *struct {
		Prefix string `xml:"Prefix"`
	} `xml:"PrefixConfiguration,omitempty"`
	SuffixConfiguration *struct {
		Suffix string `xml:"Suffix"`
	} `xml:"SuffixConfiguration,omitempty"`
	FixedFileConfiguration *struct {
		FixedFilePath string `xml:"FixedFilePath"`
	} `xml:"FixedFileConfiguration,omitempty"`
}

// cosXMLHostInfo is a HostInfo: its standby hosts are numbered elements,
// StandbyHostName_1 to StandbyHostName_10.
type cosXMLHostInfo struct {
	HostName string
	Weight   int // 0: not written
	Standby  []string
}

// MarshalXML writes the HostInfo with its numbered standby elements.
func (h cosXMLHostInfo) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	elem := func(name string, v any) error {
		return enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: name}})
	}
	if err := elem("HostName", h.HostName); err != nil {
		return err
	}
	if h.Weight > 0 {
		if err := elem("Weight", h.Weight); err != nil {
			return err
		}
	}
	for j, s := range h.Standby {
		if err := elem("StandbyHostName_"+strconv.Itoa(j+1), s); err != nil {
			return err
		}
	}
	return enc.EncodeToken(start.End())
}

// exportCOS writes the engine's rules as a Tencent COS PUT Bucket origin
// body: OriginRule with RulePriority i+1 for rule i (the importer takes
// the smallest first); fetch is Mirror, redirectFetch Proxy and redirect
// Redirect.
func exportCOS(e *Engine) ([]byte, error) {
	x := newExporter("Tencent COS")
	doc := cosXMLConfig{}
	for _, v := range x.rules(e) {
		doc.Rules = append(doc.Rules, v.cos())
	}
	return x.finish(doc, importCOS, false)
}

func (v *xrule) cos() cosXMLRule {
	r := v.r
	out := cosXMLRule{RulePriority: v.i + 1}
	prefix, suffix, _ := v.cover()
	cond := &out.OriginCondition
	cond.Prefix, cond.Suffix = prefix, suffix
	v.refuseConditions(false, false, true, false)
	if nh := v.match().NotHosts; len(nh) > 0 {
		cond.FilterHost = &cosXMLForbidden{Domains: nh}
	}
	par := &out.OriginParameter
	if !r.PassQueryString {
		par.FollowQueryString = boolPtr(false)
	}
	code := onCode(r.On)
	switch r.Mode {
	case ModeFetch, ModeRedirectFetch:
		out.OriginType = "Mirror"
		if r.Mode == ModeRedirectFetch {
			out.OriginType = "Proxy"
			if c := v.codeIn(301, 302, 307); c != 302 {
				par.RedirectCode = c
			}
		}
		if code != 404 {
			v.fail("on", "a Tencent COS "+out.OriginType+" rule answers a miss (404) only")
		}
		cond.StatusCode = 404
		v.cosFetch(&out)
	case ModeRedirect:
		out.OriginType = "Redirect"
		if code < 400 || code > 599 {
			v.fail("on", "a Tencent COS Redirect rule answers one status from 400 to 599")
		}
		cond.StatusCode = code
		if c := v.codeIn(301, 302, 307); c != 302 {
			par.RedirectCode = c
		}
		v.cosRedirect(&out)
	default:
		v.fail("mode", "Tencent COS has no "+strconv.Quote(string(r.Mode))+" mode")
	}
	if k, ok := v.key(prefix); ok {
		fi := &cosXMLFileInfo{}
		switch {
		case k.lit != nil:
			fi.FixedFileConfiguration = &struct {
				FixedFilePath string `xml:"FixedFilePath"`
			}{*k.lit}
		case k.simple && k.drop == "":
			if k.add != "" {
				fi.PrefixConfiguration = &struct {
					Prefix string `xml:"Prefix"`
				}{k.add}
			}
			if k.tail != "" {
				fi.SuffixConfiguration = &struct {
					Suffix string `xml:"Suffix"`
				}{k.tail}
			}
		default:
			v.fail(k.field, "Tencent COS adds a prefix and a suffix to the key or fetches one fixed file: it can not replace a key prefix or insert the key into a template")
		}
		if *fi != (cosXMLFileInfo{}) {
			out.OriginInfo.FileInfo = fi
		}
	}
	return out
}

// cosProtocol is the rule's COS Protocol: all origins share one scheme,
// or take the request's (FOLLOW).
func (v *xrule) cosProtocol(list []xorigin) string {
	if x := v.c.ext; x != nil && x.fromRequest {
		return "FOLLOW"
	}
	scheme := ""
	for _, o := range list {
		switch {
		case o.o == nil:
		case o.o.signed():
			v.fail(o.field, "Tencent COS fetches from http:// and https:// origins only, not "+o.o.scheme+"://")
		case scheme == "":
			scheme = o.o.scheme
		case o.o.scheme != scheme:
			v.fail(o.field, "Tencent COS has one scheme (Protocol) for all the origins of a rule")
		}
	}
	return strings.ToUpper(scheme)
}

// cosHost is an origin's HostName: host[:port], without a path.
func (v *xrule) cosHost(o xorigin) string {
	if o.o != nil && !o.o.signed() && o.o.path != "/" {
		v.fail(o.field, "has a base path; a Tencent COS origin is a host[:port] only")
	}
	return o.authority()
}

func (v *xrule) cosFetch(out *cosXMLRule) {
	r := v.r
	prim, back := v.origins()
	par := &out.OriginParameter
	par.Protocol = v.cosProtocol(append(slices.Clone(prim), back...))
	pol := v.policy()
	switch {
	case out.OriginType == "Proxy" && len(prim) > 1:
		v.fail("sourceUrls", "a Tencent COS Proxy rule has one origin")
	case len(prim) > cosMaxHosts:
		v.fail("sourceUrls", "a Tencent COS Mirror rule has at most 10 origins")
	case len(prim) > 1 && len(back) > 0:
		v.fail("backSourceUrls", "Tencent COS keeps standby hosts per weighted origin, not one backup list for several")
	case len(prim) > 1 && pol.Pick != PickWeighted:
		v.fail("pick", "Tencent COS picks among several origins by weight only")
	case len(prim) == 1 && pol.Pick != PickOrdered:
		v.fail("pick", "Tencent COS has no pick for one origin")
	}
	for j, o := range prim {
		h := cosXMLHostInfo{HostName: v.cosHost(o)}
		if len(prim) > 1 && j < len(pol.Weights) {
			h.Weight = pol.Weights[j]
			if h.Weight < 1 {
				v.fail("sourceWeights["+strconv.Itoa(j)+"]", "Tencent COS weights are at least 1")
			}
		}
		out.OriginInfo.HostInfo = append(out.OriginInfo.HostInfo, h)
	}
	if len(back) > 0 && len(out.OriginInfo.HostInfo) == 1 {
		for _, o := range back {
			out.OriginInfo.HostInfo[0].Standby = append(out.OriginInfo.HostInfo[0].Standby, v.cosHost(o))
		}
	}
	fo := []string(pol.FailoverOn)
	switch {
	case len(back) == 0 && len(fo) > 0:
		v.fail("failoverOn", "Tencent COS has no failover without standby hosts")
	case len(back) == 0:
	case len(fo) == 0 || fo[0] != "5xx":
		v.fail("failoverOn", `Tencent COS switches to a standby host on 5xx and the codes of HTTPStandbyCode: write ["5xx", codes...]`)
	default:
		var codes []string
		for j, s := range fo[1:] {
			if n, ok := statusCode(s); !ok || n < 400 {
				v.fail("failoverOn["+strconv.Itoa(j+1)+"]", "Tencent COS switches to a standby host on 5xx and codes from 400 to 599 only")
			}
			codes = append(codes, s)
		}
		if len(codes) > 0 {
			out.StandbyCode = &cosXMLStandbyCode{StatusCode: codes}
		}
	}
	if !v.followFlag(pol) {
		par.FollowRedirection = boolPtr(false)
	}
	if pol.CheckMD5 {
		v.fail("fetch.checkMd5", "Tencent COS has no Content-MD5 check")
	}
	if !pol.Store {
		v.fail("fetch.store", "Tencent COS stores every fetched object")
	}
	if pol.Probe != "" {
		v.fail("fetch.probe", "Tencent COS has no probe URL")
	}
	if !pol.SaveMeta {
		v.fail("fetch.saveMeta", "Tencent COS keeps the origin's x-cos-meta-* with every object it stores: set true")
	}
	if pol.LastModified != "fetched" {
		v.fail("fetch.lastModified", `Tencent COS dates a stored object from when it stored it: set "fetched"`)
	}
	switch ps := []string(pol.PassStatus); {
	case len(ps) == 0:
	case slices.Equal(ps, []string{"4xx", "5xx"}):
		par.TransparentErrorCode = boolPtr(true)
	default:
		v.fail("fetch.passStatus", `Tencent COS passes every origin error or none (TransparentErrorCode): write ["4xx", "5xx"]`)
	}
	v.refuseStorageClass()
	v.headers(tokenOK, 0, "an HTTP token")
	if len(r.CustomHeaders) > cosMaxHosts {
		v.fail("customHeaders", "Tencent COS sets at most 10 headers")
	}
	for j, h := range r.CustomHeaders {
		if h.Value == "" {
			v.fail("customHeaders["+strconv.Itoa(j)+"].headerValue", "Tencent COS does not add a header with an empty value")
		}
	}
	if len(r.PassHeaders) == 0 && len(r.IgnoreHeaders) == 0 && len(r.CustomHeaders) == 0 {
		return
	}
	hh := &cosXMLHTTPHeader{}
	names := func(l []string) *cosXMLHeaders {
		if len(l) == 0 {
			return nil
		}
		out := &cosXMLHeaders{}
		for _, n := range l {
			out.Header = append(out.Header, cosXMLHeader{Key: n})
		}
		return out
	}
	if slices.Equal(r.PassHeaders, []string{"*"}) {
		hh.FollowAllHeaders = boolPtr(true)
	} else {
		hh.FollowHTTPHeaders = names(r.PassHeaders)
	}
	hh.ForbidFollowHeaders = names(r.IgnoreHeaders)
	if len(r.CustomHeaders) > 0 {
		hh.NewHTTPHeaders = &cosXMLHeaders{}
		for _, h := range r.CustomHeaders {
			hh.NewHTTPHeaders.Header = append(hh.NewHTTPHeaders.Header, cosXMLHeader{Key: h.Name, Value: &h.Value})
		}
	}
	par.HTTPHeader = hh
}

// cosRedirect writes a Redirect rule's one origin: its Location is the
// origin and the key.
func (v *xrule) cosRedirect(out *cosXMLRule) {
	par := &out.OriginParameter
	if x := v.c.ext; x != nil && x.target != nil {
		host, scheme := v.r.Redirect.Host, v.r.Redirect.Scheme
		if host == "" {
			v.fail("redirect.host", "a Tencent COS Redirect rule goes to its origin host: it can not redirect to the request's host")
		}
		par.Protocol = "FOLLOW"
		if scheme != "" {
			par.Protocol = strings.ToUpper(scheme)
		}
		out.OriginInfo.HostInfo = []cosXMLHostInfo{{HostName: host}}
		return
	}
	prim, _ := v.origins()
	if len(prim) == 0 {
		return
	}
	par.Protocol = v.cosProtocol(prim[:1])
	out.OriginInfo.HostInfo = []cosXMLHostInfo{{HostName: v.cosHost(prim[0])}}
}

// joinKeyTemplate writes template pieces back as text, keyRef as
// "${key}" and every other piece as it is (whether the provider reads
// that back as meant is each caller's check).
func joinKeyTemplate(pieces []string) string {
	var b strings.Builder
	for _, p := range pieces {
		if p == keyRef {
			b.WriteString("${key}")
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}
