package mirror

import (
	"fmt"
	"math"
	"strings"
)

// Aliyun OSS PutBucketWebsite (PROVIDERS.md §1): <WebsiteConfiguration>
// with <RoutingRules><RoutingRule>…, RedirectType Mirror, External or
// AliCDN. Paths leave the root out and count rules from 0:
// "RoutingRules.RoutingRule[2].Redirect.MirrorURL". docs/PROVIDERS-IMPORT.md
// lists the mapping and every choice.

// ossMaxRules is OSS's limit on routing rules.
const ossMaxRules = 20

// ossMaxList is OSS's limit on IncludeHeader and on each of
// MirrorHeaders Pass, Remove and Set.
const ossMaxList = 10

var ossSchema = func() *xmlSchema {
	redirect := box(map[string]*xmlSchema{
		"RedirectType": leaf(), "PassQueryString": leaf(), "MirrorURL": leaf(), "MirrorURLSlave": leaf(),
		"MirrorURLProbe": leaf(), "MirrorSwitchAllErrors": leaf(), "MirrorPassQueryString": leaf(),
		"MirrorFollowRedirect": leaf(), "MirrorCheckMd5": leaf(),
		"MirrorHeaders": box(map[string]*xmlSchema{
			"PassAll": leaf(), "Pass": leaves(), "Remove": leaves(),
			"Set": boxes(map[string]*xmlSchema{"Key": leaf(), "Value": leaf()}),
		}),
		"MirrorMultiAlternates": box(map[string]*xmlSchema{
			"MirrorMultiAlternate": boxes(map[string]*xmlSchema{
				"MirrorMultiAlternateNumber": leaf(), "MirrorMultiAlternateURL": leaf(),
				"MirrorMultiAlternateVpcId": leaf(), "MirrorMultiAlternateDstRegion": leaf(),
			}),
		}),
		"Protocol": leaf(), "HostName": leaf(), "HttpRedirectCode": leaf(),
		"ReplaceKeyWith": leaf(), "ReplaceKeyPrefixWith": leaf(), "EnableReplacePrefix": leaf(),
		"MirrorPassOriginalSlashes": leaf(), "TransparentMirrorResponseCodes": leaf(), "MirrorProxyPass": leaf(),
		"MirrorAllowHeadObject": leaf(), "MirrorSaveOssMeta": leaf(), "MirrorUserLastModified": leaf(),
		// The keys are never read: the gateway signs with the operator's
		// credentials file (importOSSAuth).
		"MirrorAuth": box(map[string]*xmlSchema{
			"AuthType": leaf(), "Region": leaf(), "AccessKeyId": secretLeaf(), "AccessKeySecret": secretLeaf(),
		}),
		// Refused when set (see importOSSRefused).
		"MirrorSNI": leaf(), "MirrorUsingRole": leaf(), "MirrorRole": leaf(),
		"MirrorTaggings": opaqueBox(), "MirrorReturnHeaders": opaqueBox(),
		"MirrorAllowGetImageInfo": leaf(), "MirrorAllowVideoSnapshot": leaf(),
		"MirrorAsyncStatus": leaf(), "MirrorIsExpressTunnel": leaf(), "MirrorDstVpcId": leaf(),
		"MirrorDstSlaveVpcId": leaf(), "MirrorDstRegion": leaf(), "MirrorTunnelId": leaf(),
	})
	rule := boxes(map[string]*xmlSchema{
		"RuleNumber": leaf(),
		"Condition": box(map[string]*xmlSchema{
			"KeyPrefixEquals": leaf(), "KeySuffixEquals": leaf(), "HttpErrorCodeReturnedEquals": leaf(),
			"IncludeHeader": boxes(map[string]*xmlSchema{"Key": leaf(), "Equals": leaf()}),
		}),
		"Redirect":  redirect,
		"LuaConfig": box(map[string]*xmlSchema{"Script": leaf()}),
	})
	rule.rule = true
	return box(map[string]*xmlSchema{
		"IndexDocument": box(map[string]*xmlSchema{"Suffix": leaf(), "SupportSubDir": leaf(), "Type": leaf()}),
		"ErrorDocument": box(map[string]*xmlSchema{"Key": leaf(), "HttpStatus": leaf()}),
		"RoutingRules":  box(map[string]*xmlSchema{"RoutingRule": rule}),
	})
}()

// importOSS turns an OSS PutBucketWebsite body into a native document.
// Rules are ordered by RuleNumber, ties in document order. Index and
// error documents are website settings, not mirror rules: they are
// checked for shape and not imported.
func importOSS(data []byte) ([]byte, error) {
	var probs importProblems
	top := readXML(data, "WebsiteConfiguration", ossSchema, &probs)
	if top == nil {
		return nil, probs.err()
	}
	list := top.child("RoutingRules")
	items := list.all("RoutingRule")
	if len(items) > ossMaxRules {
		probs.add("RoutingRules", -1, "RoutingRules", fmt.Sprintf("has %d rules; OSS allows at most %d", len(items), ossMaxRules))
	}
	var rules []*impRule
	var numbers []int
	for _, it := range items {
		r, n := importOSSRule(it, &probs)
		rules = append(rules, r)
		numbers = append(numbers, n)
	}
	if probs.failed() {
		return nil, probs.err()
	}
	sortRules(rules, numbers)
	return marshalImported(rules)
}

func importOSSRule(it *elem, probs *importProblems) (*impRule, int) {
	r := &impRule{Match: &impMatch{}}
	number, ok := readInt(it, "RuleNumber", 1, math.MaxInt32, probs)
	if !ok && !it.has("RuleNumber") {
		probs.in(it, "RuleNumber", "is required")
	}
	if it.has("LuaConfig") {
		probs.at(it.child("LuaConfig"), "a Lua script can not be imported: the native model runs no scripts")
	}
	cond := it.child("Condition")
	if cond == nil {
		probs.in(it, "Condition", "is required")
	}
	red := it.child("Redirect")
	if red == nil {
		probs.in(it, "Redirect", "is required")
		return r, number
	}
	prefix, _ := cond.str("KeyPrefixEquals")
	r.Match.Prefix = prefix
	r.Match.Suffix, _ = cond.str("KeySuffixEquals")
	hs := cond.all("IncludeHeader")
	if len(hs) > ossMaxList {
		probs.in(cond, "IncludeHeader", fmt.Sprintf("%d conditions; OSS allows at most %d", len(hs), ossMaxList))
	}
	for _, h := range hs {
		k, okK := h.str("Key")
		v, okV := h.str("Equals")
		switch {
		case !okK || k == "":
			probs.in(h, "Key", "is required")
		case !tokenOK(k):
			probs.at(h.child("Key"), quoteShort(k)+" is not a header name")
		case !okV:
			probs.in(h, "Equals", "is required: what a condition without a value matches is not documented")
		case !valueOK(v):
			probs.at(h.child("Equals"), "holds a control character")
		default:
			r.Match.Headers = append(r.Match.Headers, impMatchHeader{Name: k, Value: v})
		}
	}
	status, hasStatus := readInt(cond, "HttpErrorCodeReturnedEquals", 400, 599, probs)

	typ, _ := red.str("RedirectType")
	switch typ {
	case "Mirror":
		r.Mode = "fetch"
		if hasStatus && status != 404 {
			probs.at(cond.child("HttpErrorCodeReturnedEquals"), "a Mirror rule runs only on 404")
		}
		r.On = "miss"
		importOSSMirror(red, prefix, r, probs)
	case "External", "AliCDN":
		r.Mode = "redirect"
		if hasStatus {
			r.On = []any{status}
		} else if !cond.has("HttpErrorCodeReturnedEquals") {
			r.On = "always"
		}
		importOSSExternal(red, prefix, r, probs)
	case "":
		probs.in(red, "RedirectType", "is required: Mirror, External or AliCDN")
	default:
		probs.at(red.child("RedirectType"), quoteShort(typ)+" is not Mirror, External or AliCDN")
	}
	importOSSKey(red, prefix, typ == "Mirror", r, probs)
	importOSSAuth(red, r, probs)
	importOSSRefused(red, probs)
	return r, number
}

// importOSSMirror maps the fetch side of a Mirror rule.
func importOSSMirror(red *elem, prefix string, r *impRule, probs *importProblems) {
	url, ok := red.str("MirrorURL")
	switch {
	case !ok || url == "":
		probs.in(red, "MirrorURL", "is required for a Mirror rule")
	case !ossURLOK(url):
		probs.at(red.child("MirrorURL"), quoteShort(url)+" must start with http:// or https:// and end with /")
	case red.has("MirrorAuth"):
		// A private bucket: see importOSSAuth.
		if s3, ok := ossPrivateOrigin(red.child("MirrorURL"), url, probs); ok {
			r.SourceURLs = []string{s3}
		}
	default:
		r.SourceURLs = []string{url}
	}
	if s, ok := red.str("MirrorURLSlave"); ok && s != "" {
		if ossURLOK(s) {
			r.BackSourceURLs = append(r.BackSourceURLs, s)
		} else {
			probs.at(red.child("MirrorURLSlave"), quoteShort(s)+" must start with http:// or https:// and end with /")
		}
	}
	// MirrorMultiAlternates: by MirrorMultiAlternateNumber, after the slave.
	alts := red.child("MirrorMultiAlternates").all("MirrorMultiAlternate")
	var altURLs []*impRule // reuse sortRules: one pseudo-rule per URL
	var altNums []int
	seen := map[int]bool{}
	for _, a := range alts {
		n, ok := readInt(a, "MirrorMultiAlternateNumber", 1, math.MaxInt32, probs)
		if !ok && !a.has("MirrorMultiAlternateNumber") {
			probs.in(a, "MirrorMultiAlternateNumber", "is required")
		}
		if ok && seen[n] {
			probs.at(a.child("MirrorMultiAlternateNumber"), "repeats the number of another alternate")
		}
		seen[n] = true
		refuseSet(a, probs, "a VPC or region route to the origin can not be carried by the native model",
			"MirrorMultiAlternateVpcId", "MirrorMultiAlternateDstRegion")
		u, _ := a.str("MirrorMultiAlternateURL")
		switch {
		case u == "":
			probs.in(a, "MirrorMultiAlternateURL", "is required")
		case !ossURLOK(u):
			probs.at(a.child("MirrorMultiAlternateURL"), quoteShort(u)+" must start with http:// or https:// and end with /")
		default:
			altURLs = append(altURLs, &impRule{Mode: u})
			altNums = append(altNums, n)
		}
	}
	sortRules(altURLs, altNums)
	for _, a := range altURLs {
		r.BackSourceURLs = append(r.BackSourceURLs, a.Mode)
	}
	if len(r.BackSourceURLs) > 0 {
		if readBool(red, "MirrorSwitchAllErrors", false, probs) {
			r.FailoverOn = ossAllErrors()
		} else {
			r.FailoverOn = []any{"5xx", "timeout"}
		}
	} else if red.has("MirrorSwitchAllErrors") {
		readBool(red, "MirrorSwitchAllErrors", false, probs) // validated; no backup to switch to
	}
	pass := readBool(red, "PassQueryString", false, probs)
	if red.has("MirrorPassQueryString") {
		pass = readBool(red, "MirrorPassQueryString", false, probs)
	}
	r.PassQueryString = ptr(pass)
	hops := 0
	if readBool(red, "MirrorFollowRedirect", true, probs) {
		hops = followHops
	}
	f := &impFetch{
		FollowRedirects: ptr(hops),
		CheckMd5:        ptr(readBool(red, "MirrorCheckMd5", false, probs)),
		Store:           ptr(!readBool(red, "MirrorProxyPass", false, probs)),
		Probe:           ossProbe(red, probs),
		SaveMeta:        ptr(readBool(red, "MirrorSaveOssMeta", false, probs)),
		LastModified:    ossLastModified(red, probs),
	}
	if k := red.child("TransparentMirrorResponseCodes"); k != nil && strings.TrimSpace(k.text) != "" {
		for _, c := range strings.Split(k.text, ",") {
			if n, ok := parseIntIn(k, strings.TrimSpace(c), 100, 599, probs); ok {
				f.PassStatus = append(f.PassStatus, n)
			} else {
				break
			}
		}
	}
	r.Fetch = f
	r.KeepSlashes = readBool(red, "MirrorPassOriginalSlashes", false, probs)
	r.Match.Methods = []string{"GET"}
	if readBool(red, "MirrorAllowHeadObject", false, probs) {
		r.Match.Methods = []string{"GET", "HEAD"}
	}
	// Header policy.
	mh := red.child("MirrorHeaders")
	if mh != nil {
		passAll := readBool(mh, "PassAll", false, probs)
		names := func(name string) []string {
			ks := mh.all(name)
			if len(ks) > ossMaxList {
				probs.in(mh, name, fmt.Sprintf("%d headers; OSS allows at most %d", len(ks), ossMaxList))
			}
			var out []string
			for _, k := range ks {
				if !headerNameOK(k.text) {
					probs.at(k, quoteShort(k.text)+" is not a header name of 0-9, A-Z, a-z and -")
					continue
				}
				out = append(out, k.text)
			}
			return out
		}
		pass := names("Pass")
		if passAll {
			pass = []string{"*"}
		}
		r.PassHeaders = pass
		r.IgnoreHeaders = names("Remove")
		sets := mh.all("Set")
		if len(sets) > ossMaxList {
			probs.in(mh, "Set", fmt.Sprintf("%d headers; OSS allows at most %d", len(sets), ossMaxList))
		}
		for _, s := range sets {
			k, _ := s.str("Key")
			v, _ := s.str("Value")
			switch {
			case !headerNameOK(k):
				probs.in(s, "Key", quoteShort(k)+" is not a header name of 0-9, A-Z, a-z and -")
			case !valueOK(v):
				probs.in(s, "Value", "holds a control character (CR or LF)")
			default:
				r.CustomHeaders = append(r.CustomHeaders, Header{Name: k, Value: v})
			}
		}
	}
	// Protocol, HostName and HttpRedirectCode only shape an External
	// Location; the SDK's own fixtures send them on Mirror rules too. They
	// are validated and have no effect here.
	if p, ok := red.str("Protocol"); ok && p != "http" && p != "https" {
		probs.at(red.child("Protocol"), quoteShort(p)+" is not http or https")
	}
	readCode(red, "HttpRedirectCode", []int{301, 302, 307}, probs)
}

// ossAllErrors is MirrorSwitchAllErrors=true: every origin answer except
// 200, 206, 301, 302, 303, 307 and 404 is a failure, as are timeouts.
// 1xx never reaches a client as a final answer; the other 2xx are the
// registered ones.
func ossAllErrors() []any {
	out := []any{"timeout", "5xx"}
	for _, c := range []int{201, 202, 203, 204, 205, 207, 208, 226, 300, 304, 305, 308} {
		out = append(out, c)
	}
	for c := 400; c < 500; c++ {
		if c != 404 {
			out = append(out, c)
		}
	}
	return out
}

// importOSSExternal maps an External or AliCDN rule's Location.
func importOSSExternal(red *elem, prefix string, r *impRule, probs *importProblems) {
	rd := &impRedirect{Code: 301}
	if p, ok := red.str("Protocol"); ok {
		switch p {
		case "http", "https":
			rd.Scheme = p
		default:
			probs.at(red.child("Protocol"), quoteShort(p)+" is not http or https")
		}
	}
	if h, ok := red.str("HostName"); ok {
		if hostNameOK(h) {
			rd.Host = h
		} else {
			probs.at(red.child("HostName"), quoteShort(h)+" is not a host name")
		}
	}
	if c, ok := readCode(red, "HttpRedirectCode", []int{301, 302, 307}, probs); ok {
		rd.Code = c
	}
	r.Redirect = rd
	r.PassQueryString = ptr(readBool(red, "PassQueryString", false, probs))
	// The Mirror* fetch options have no effect on a redirect (the SDK's
	// own fixtures send them on AliCDN rules): they are not carried, and
	// those the native model has are validated as on a Mirror rule. The
	// refusals of importOSSRefused apply to every rule.
	ossProbe(red, probs)
	ossLastModified(red, probs)
	readBool(red, "MirrorSaveOssMeta", false, probs)
}

// ossProbe reads MirrorURLProbe, OSS's "master-backup switching decision
// URL", as fetch.probe: an http:// or https:// URL (as OSS writes every
// URL of a rule) that the engine takes as an origin URL, its problems
// named at the OSS path. Absent or empty is none.
func ossProbe(red *elem, probs *importProblems) string {
	k := red.child("MirrorURLProbe")
	if k == nil || strings.TrimSpace(k.text) == "" {
		return ""
	}
	u := k.text
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		probs.at(k, quoteShort(u)+" must start with http:// or https://")
		return ""
	}
	if _, reason := parseOrigin(u, true); reason != "" {
		probs.at(k, quoteShort(u)+" is not a probe URL the engine takes: "+reason)
		return ""
	}
	return u
}

// ossLastModified reads MirrorUserLastModified as fetch.lastModified: true
// keeps the origin's Last-Modified ("origin"); false or absent, OSS's
// default, is when OSS stored the object ("fetched": the OSS guide's
// back-to-origin overview, "Last-Modified: not preserved").
func ossLastModified(red *elem, probs *importProblems) string {
	if readBool(red, "MirrorUserLastModified", false, probs) {
		return "origin"
	}
	return "fetched"
}

// importOSSAuth reads MirrorAuth, which makes a Mirror rule's MirrorURL a
// private bucket fetched with signed requests (ossPrivateOrigin writes it
// as s3://ENDPOINT/BUCKET/...). Only AuthType is read: S3V4, the one type
// OSS's SDKs show. AccessKeyId and AccessKeySecret are never read, into
// the rules or into an error: the gateway signs with the credentials the
// operator binds to the gateway bucket (-s3-origin-credentials), and a
// tenant's document carries no secret into the stored configuration.
// Region is not carried either: the credentials file says where to sign.
// On an External or AliCDN rule it has no effect and is only validated.
func importOSSAuth(red *elem, r *impRule, probs *importProblems) {
	auth := red.child("MirrorAuth")
	if auth == nil {
		return
	}
	switch t, ok := auth.str("AuthType"); {
	case !ok || strings.TrimSpace(t) == "":
		probs.in(auth, "AuthType", "is required: S3V4 (requests signed with AWS Signature V4)")
	case t != "S3V4":
		probs.at(auth.child("AuthType"), quoteShort(t)+" is not S3V4: the gateway signs private origins with AWS Signature V4 only")
	}
	slave, _ := red.str("MirrorURLSlave")
	if r.Mode == "fetch" && (slave != "" || len(red.child("MirrorMultiAlternates").all("MirrorMultiAlternate")) > 0) {
		probs.at(auth, "OSS does not say whether MirrorAuth signs the backup origins (MirrorURLSlave, "+
			"MirrorMultiAlternates) too; give it with MirrorURL alone, or write the rule natively with s3:// origins")
	}
}

// ossPrivateOrigin writes a MirrorURL with MirrorAuth as the s3:// origin
// the gateway fetches signed: its host is the bucket's virtual-hosted
// name, BUCKET.ENDPOINT (the first label the bucket, the rest, at least
// two labels, its endpoint), and its path the key prefix in the bucket:
// https://bkt.s3.example.com/dir/ is s3://s3.example.com/bkt/dir/. A
// bucket name with a "." can not be told from its endpoint this way.
// s3:// origins are fetched over https, whatever MirrorURL's scheme.
func ossPrivateOrigin(k *elem, u string, probs *importProblems) (string, bool) {
	_, rest, _ := strings.Cut(u, "://")
	authority, path := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority, "]") {
		host, port = authority[:i], authority[i:]
	}
	bucket, endpoint, _ := strings.Cut(strings.ToLower(host), ".")
	if !strings.Contains(endpoint, ".") || !validS3Bucket(bucket) {
		probs.at(k, quoteShort(u)+" is not http(s)://BUCKET.ENDPOINT/[PATH/]: with MirrorAuth the origin is a private "+
			"bucket, named by its host's first label (3 to 63 of a-z 0-9 -) before its endpoint")
		return "", false
	}
	raw := "s3://" + endpoint + port + "/" + bucket + path
	if _, reason := parseOrigin(raw, true); reason != "" {
		probs.at(k, "with MirrorAuth it is the private bucket "+quoteShort(raw)+", which the engine does not take: "+reason)
		return "", false
	}
	return raw, true
}

// importOSSKey maps ReplaceKeyWith, ReplaceKeyPrefixWith and
// EnableReplacePrefix.
func importOSSKey(red *elem, prefix string, mirror bool, r *impRule, probs *importProblems) {
	with, hasWith := red.str("ReplaceKeyWith")
	pw, hasPW := red.str("ReplaceKeyPrefixWith")
	enable := readBool(red, "EnableReplacePrefix", false, probs)
	rw := &impRewrite{}
	switch {
	case hasWith && (hasPW || enable):
		probs.at(red.child("ReplaceKeyWith"), "ReplaceKeyWith excludes ReplaceKeyPrefixWith and EnableReplacePrefix=true")
	case hasWith:
		rw.Key = templateKey(with)
	case mirror && hasPW && !enable:
		probs.at(red.child("ReplaceKeyPrefixWith"), "takes effect in a Mirror rule only with EnableReplacePrefix=true")
	case mirror && enable, !mirror && hasPW:
		rw.ReplacePrefix = &impReplacePrefix{From: prefix, To: pw, Join: "concat"}
	}
	r.Rewrite = rw
}

// importOSSRefused refuses the fields that change which origin is
// contacted, with which credentials, or what is stored, and that the
// native model can not carry. A credential's value is never quoted.
func importOSSRefused(red *elem, probs *importProblems) {
	refuseTrue(red, probs, "fetching with a RAM role's credentials can not be carried by the native model", "MirrorUsingRole")
	refuseSet(red, probs, "fetching with a RAM role's credentials can not be carried by the native model", "MirrorRole")
	refuseTrue(red, probs, "passing the client's SNI to the origin changes which TLS host is contacted and "+
		"can not be carried by the native model", "MirrorSNI")
	refuseTrue(red, probs, "an express tunnel route to the origin can not be carried by the native model", "MirrorIsExpressTunnel")
	refuseSet(red, probs, "a VPC, region or tunnel route to the origin can not be carried by the native model",
		"MirrorDstVpcId", "MirrorDstSlaveVpcId", "MirrorDstRegion", "MirrorTunnelId")
	refuse(red, probs, "tags on the stored object can not be carried by the native model", "MirrorTaggings")
	refuse(red, probs, "headers added to the client's response can not be carried by the native model", "MirrorReturnHeaders")
	refuseTrue(red, probs, "image-info and video-snapshot requests that trigger a fetch can not be carried by the native model",
		"MirrorAllowGetImageInfo", "MirrorAllowVideoSnapshot")
	refuseSet(red, probs, "asynchronous mirroring can not be carried by the native model", "MirrorAsyncStatus")
}

// ossURLOK: OSS's MirrorURL rule (starts with http:// or https://, ends
// with /), and no control bytes or white space.
func ossURLOK(u string) bool {
	if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) || !strings.HasSuffix(u, "/") {
		return false
	}
	return !strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// hostNameOK: a Location host (name, IPv4 or [IPv6], optional port); the
// engine's own checks apply when the native document is compiled.
func hostNameOK(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("-.:[]_", c) >= 0) {
			return false
		}
	}
	return true
}
