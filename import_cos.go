package mirror

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Tencent COS PUT Bucket origin (PROVIDERS.md §2): <OriginConfiguration>
// with <OriginRule>s. Paths leave the root out and count rules from 0:
// "OriginRule[1].OriginInfo.HostInfo[0].HostName".

// cosMaxHosts is COS's limit on HostInfo in a Mirror rule, and on the
// standby hosts of one HostInfo.
const cosMaxHosts = 10

var cosSchema = func() *xmlSchema {
	header := boxes(map[string]*xmlSchema{"Key": leaf(), "Value": leaf()})
	headers := box(map[string]*xmlSchema{"Header": header})
	hostInfo := boxes(map[string]*xmlSchema{
		"HostName": leaf(), "Weight": leaf(), "PrivateHost": opaqueBox(),
	})
	hostInfo.numbered = map[string]*xmlSchema{"StandbyHostName_": leaf(), "PrivateStandbyHost_": opaqueBox()}
	rule := boxes(map[string]*xmlSchema{
		"RulePriority": leaf(), "OriginType": leaf(),
		"OriginCondition": box(map[string]*xmlSchema{
			"HTTPStatusCode": leaf(), "Prefix": leaf(), "Suffix": leaf(),
			"FilterHost": box(map[string]*xmlSchema{"ForbidHost": box(map[string]*xmlSchema{
				"DomainList": box(map[string]*xmlSchema{"Domain": leaves()})})}),
		}),
		"OriginParameter": box(map[string]*xmlSchema{
			"Protocol": leaf(), "TransparentErrorCode": leaf(), "FollowQueryString": leaf(),
			"HttpHeader": box(map[string]*xmlSchema{
				"FollowAllHeaders": leaf(), "NewHttpHeaders": headers, "FollowHttpHeaders": headers,
				"ForbidFollowHeaders": headers, "ForbidFollowHttpHeaders": headers,
			}),
			"FollowRedirection": leaf(),
			"FollowRedirectionConfiguration": box(map[string]*xmlSchema{
				"FollowOriginHeaders": leaf(), "FollowUrlAutoDecode": leaf()}),
			"HttpRedirectCode": leaf(), "CopyOriginData": leaf(),
		}),
		"HTTPStandbyCode": box(map[string]*xmlSchema{"StatusCode": leaves()}),
		"OriginInfo": box(map[string]*xmlSchema{
			"HostInfo": hostInfo,
			"FileInfo": box(map[string]*xmlSchema{
				"PrefixConfiguration":    box(map[string]*xmlSchema{"Prefix": leaf(), "ReplacedWithPrefix": leaf()}),
				"SuffixConfiguration":    box(map[string]*xmlSchema{"Suffix": leaf(), "ReplacedWithSuffix": leaf()}),
				"FixedFileConfiguration": box(map[string]*xmlSchema{"FixedFilePath": leaf()}),
				"PrefixDirective":        leaf(), "Prefix": leaf(), "Suffix": leaf(),
			}),
		}),
	})
	rule.rule = true
	return box(map[string]*xmlSchema{"OriginRule": rule})
}()

// importCOS turns a COS PUT Bucket origin body into a native document.
// Rules are ordered by RulePriority, smallest first; two rules may not
// share a priority.
func importCOS(data []byte) ([]byte, error) {
	var probs importProblems
	top := readXML(data, "OriginConfiguration", cosSchema, &probs)
	if top == nil {
		return nil, probs.err()
	}
	items := top.all("OriginRule")
	var rules []*impRule
	var prio []int
	seen := map[int]int{}
	for i, it := range items {
		r, p, ok := importCOSRule(it, &probs)
		if ok {
			if j, dup := seen[p]; dup {
				probs.at(it.child("RulePriority"), fmt.Sprintf("%d is also the priority of OriginRule[%d]; COS needs distinct priorities", p, j))
			}
			seen[p] = i
		}
		rules = append(rules, r)
		prio = append(prio, p)
	}
	if probs.failed() {
		return nil, probs.err()
	}
	sortRules(rules, prio)
	return marshalImported(rules)
}

func importCOSRule(it *elem, probs *importProblems) (*impRule, int, bool) {
	r := &impRule{Match: &impMatch{}}
	prio, okPrio := readInt(it, "RulePriority", math.MinInt32, math.MaxInt32, probs)
	if !it.has("RulePriority") {
		probs.in(it, "RulePriority", "is required")
	}
	cond := it.child("OriginCondition")
	if cond == nil {
		probs.in(it, "OriginCondition", "is required")
	}
	typ, _ := it.str("OriginType")
	switch typ {
	case "Mirror":
		r.Mode = "fetch"
	case "Proxy":
		r.Mode = "redirectFetch"
	case "Redirect":
		r.Mode = "redirect"
	case "":
		probs.in(it, "OriginType", "is required: Mirror, Proxy or Redirect")
	default:
		probs.at(it.child("OriginType"), quoteShort(typ)+" is not Mirror, Proxy or Redirect")
	}
	// Condition.
	if k := cond.child("HTTPStatusCode"); k != nil {
		if n, ok := parseIntIn(k, strings.TrimSpace(k.text), 400, 599, probs); ok {
			switch {
			case typ == "Redirect":
				r.On = []any{n}
			case n != 404:
				probs.at(k, "a Mirror or Proxy rule runs only on 404")
			default:
				r.On = "miss"
			}
		}
	} else if cond != nil {
		probs.in(cond, "HTTPStatusCode", "is required")
	}
	r.Match.Prefix, _ = cond.str("Prefix")
	r.Match.Suffix, _ = cond.str("Suffix")
	for _, d := range cond.child("FilterHost").child("ForbidHost").child("DomainList").all("Domain") {
		if hostNameOK(d.text) {
			r.Match.NotHosts = append(r.Match.NotHosts, d.text)
		} else {
			probs.at(d, quoteShort(d.text)+" is not a domain")
		}
	}
	// Parameters.
	par := it.child("OriginParameter")
	if par == nil && typ != "Redirect" {
		probs.in(it, "OriginParameter", "is required")
	}
	scheme := "request"
	if p, ok := par.str("Protocol"); ok {
		switch p {
		case "HTTP":
			scheme = "http"
		case "HTTPS":
			scheme = "https"
		case "FOLLOW":
		default:
			probs.at(par.child("Protocol"), quoteShort(p)+" is not HTTP, HTTPS or FOLLOW")
		}
	}
	if scheme == "request" {
		r.Scheme = scheme
	}
	r.PassQueryString = ptr(readBool(par, "FollowQueryString", true, probs))
	if typ == "Redirect" || typ == "Proxy" {
		rd := &impRedirect{Code: 302}
		if c, ok := readCode(par, "HttpRedirectCode", []int{301, 302, 307}, probs); ok {
			rd.Code = c
		}
		r.Redirect = rd
	} else if par.has("HttpRedirectCode") {
		// COS's own case 1 (a Mirror rule) sends it: validated, no effect.
		readCode(par, "HttpRedirectCode", []int{301, 302, 307}, probs)
	}
	if typ != "Redirect" {
		hops := 0
		if readBool(par, "FollowRedirection", true, probs) {
			hops = followHops
		}
		// COS stores a fetched object with the origin's x-cos-meta-* and,
		// as its Last-Modified, when it stored it: its console guide lists
		// the metadata that "follows the origin" (cache-control,
		// content-disposition, content-encoding, content-type, expires,
		// x-cos-meta-*), and Last-Modified is not among them.
		f := &impFetch{FollowRedirects: ptr(hops), CheckMd5: ptr(false), Store: ptr(true),
			SaveMeta: ptr(true), LastModified: "fetched"}
		if readBool(par, "TransparentErrorCode", false, probs) {
			f.PassStatus = []any{"4xx", "5xx"}
		}
		r.Fetch = f
	} else {
		for _, n := range []string{"FollowRedirection", "TransparentErrorCode", "HttpHeader"} {
			if par.has(n) {
				probs.at(par.child(n), "is for Mirror and Proxy rules; a Redirect rule fetches nothing")
			}
		}
	}
	if k := par.child("FollowRedirectionConfiguration"); k != nil {
		refuseTrue(k, probs, "passing headers to, or decoding the URL of, a followed origin redirect is not "+
			"documented and can not be carried by the native model", "FollowOriginHeaders", "FollowUrlAutoDecode")
	}
	refuseTrue(par, probs, "copying origin data (an SDK-only, undocumented field) can not be carried by the native model",
		"CopyOriginData")
	if hh := par.child("HttpHeader"); hh != nil {
		importCOSHeaders(hh, r, probs)
	}
	importCOSOrigins(it, typ, scheme, r, probs)
	importCOSFile(it, cond, r, probs)
	return r, prio, okPrio
}

func importCOSHeaders(hh *elem, r *impRule, probs *importProblems) {
	keys := func(name string) []string {
		var out []string
		for _, h := range hh.child(name).all("Header") {
			k, _ := h.str("Key")
			if !tokenOK(k) {
				probs.in(h, "Key", quoteShort(k)+" is not a header name")
				continue
			}
			if h.has("Value") {
				probs.at(h.child("Value"), "a header to pass or to withhold has no value")
			}
			out = append(out, k)
		}
		return out
	}
	r.PassHeaders = keys("FollowHttpHeaders")
	if readBool(hh, "FollowAllHeaders", false, probs) {
		r.PassHeaders = []string{"*"}
	}
	if hh.has("ForbidFollowHeaders") && hh.has("ForbidFollowHttpHeaders") {
		probs.at(hh.child("ForbidFollowHttpHeaders"), "give ForbidFollowHeaders (API) or ForbidFollowHttpHeaders (Go SDK), not both")
	}
	r.IgnoreHeaders = append(keys("ForbidFollowHeaders"), keys("ForbidFollowHttpHeaders")...)
	news := hh.child("NewHttpHeaders").all("Header")
	if len(news) > cosMaxHosts {
		probs.at(hh.child("NewHttpHeaders"), fmt.Sprintf("has %d headers; COS allows at most 10", len(news)))
	}
	for _, h := range news {
		k, _ := h.str("Key")
		v, _ := h.str("Value")
		switch {
		case !tokenOK(k):
			probs.in(h, "Key", quoteShort(k)+" is not a header name")
		case !valueOK(v):
			probs.in(h, "Value", "holds a control character (CR or LF)")
		case v == "":
			// COS: "if the value is empty, the header is not added".
		default:
			r.CustomHeaders = append(r.CustomHeaders, Header{Name: k, Value: v})
		}
	}
}

func importCOSOrigins(it *elem, typ, scheme string, r *impRule, probs *importProblems) {
	oi := it.child("OriginInfo")
	hosts := oi.all("HostInfo")
	switch {
	case oi == nil:
		probs.in(it, "OriginInfo", "is required")
		return
	case len(hosts) == 0:
		probs.in(oi, "HostInfo", "is required")
		return
	case typ == "Mirror" && len(hosts) > cosMaxHosts:
		probs.in(oi, "HostInfo", fmt.Sprintf("has %d origins; a Mirror rule takes at most %d", len(hosts), cosMaxHosts))
	case (typ == "Proxy" || typ == "Redirect") && len(hosts) > 1:
		probs.in(oi, "HostInfo", fmt.Sprintf("has %d origins; a %s rule takes exactly one", len(hosts), typ))
	}
	// HTTP and HTTPS origins are written as URLs; FOLLOW's are host[:port]
	// with the rule's scheme "request" (the engine's form for both).
	base := ""
	switch scheme {
	case "http":
		base = "http://"
	case "https":
		base = "https://"
	}
	var weights []int
	standbyOwners := 0
	for _, h := range hosts {
		if h.has("PrivateHost") {
			probs.at(h.child("PrivateHost"), "a private origin fetched with stored credentials is not imported: COS does not "+
				"document what its Host names; write the rule natively with an s3://ENDPOINT/BUCKET origin (the credentials are not echoed)")
		}
		name, _ := h.str("HostName")
		if !cosHostOK(name) {
			if name == "" {
				probs.in(h, "HostName", "is required: a domain or IP, with an optional :port and no scheme")
			} else {
				probs.at(h.child("HostName"), quoteShort(name)+" is not a domain or IP with an optional :port (no scheme, no path)")
			}
		}
		r.SourceURLs = append(r.SourceURLs, base+name)
		w := 1
		if n, ok := readInt(h, "Weight", 1, 1<<20, probs); ok {
			w = n
		}
		weights = append(weights, w)
		var standby []*elem
		for _, k := range h.kids {
			switch {
			case strings.HasPrefix(k.name, "StandbyHostName_"):
				standby = append(standby, k)
			case strings.HasPrefix(k.name, "PrivateStandbyHost_"):
				probs.at(k, "a private standby origin fetched with stored credentials is not imported: COS does not "+
					"document what its Host names; write the rule natively with s3://ENDPOINT/BUCKET origins (the credentials are not echoed)")
			}
		}
		sort.SliceStable(standby, func(a, b int) bool { return standby[a].number < standby[b].number })
		if len(standby) > 0 {
			standbyOwners++
		}
		for _, s := range standby {
			if s.number < 1 || s.number > cosMaxHosts {
				probs.at(s, "standby hosts are numbered 1 to 10")
				continue
			}
			if !cosHostOK(s.text) {
				probs.at(s, quoteShort(s.text)+" is not a domain or IP with an optional :port (no scheme, no path)")
				continue
			}
			r.BackSourceURLs = append(r.BackSourceURLs, base+s.text)
		}
	}
	if standbyOwners > 0 && len(hosts) > 1 {
		probs.at(oi, "standby hosts belong to one HostInfo each; with several weighted origins the native model "+
			"has one backup list for all, which would change which origin is contacted; give one HostInfo, or none with standbys")
	}
	if len(hosts) > 1 {
		r.Pick = "weighted"
		r.SourceWeights = weights
	}
	if len(r.BackSourceURLs) > 0 {
		r.FailoverOn = []any{"5xx"}
		for _, c := range it.child("HTTPStandbyCode").all("StatusCode") {
			if n, ok := parseIntIn(c, strings.TrimSpace(c.text), 400, 599, probs); ok {
				r.FailoverOn = append(r.FailoverOn, n)
			}
		}
	} else if it.has("HTTPStandbyCode") {
		probs.at(it.child("HTTPStandbyCode"), "switches to a standby host, and the rule has none")
	}
}

func importCOSFile(it *elem, cond *elem, r *impRule, probs *importProblems) {
	fi := it.child("OriginInfo").child("FileInfo")
	if fi == nil {
		return
	}
	rw := &impRewrite{}
	legacy := fi.has("PrefixDirective") || fi.has("Prefix") || fi.has("Suffix")
	modern := fi.has("PrefixConfiguration") || fi.has("SuffixConfiguration") || fi.has("FixedFileConfiguration")
	if legacy && modern {
		probs.at(fi, "mixes the old PrefixDirective/Prefix/Suffix with the Prefix/Suffix/FixedFileConfiguration containers")
	}
	if legacy {
		if readBool(fi, "PrefixDirective", false, probs) {
			probs.at(fi.child("PrefixDirective"), "the old PrefixDirective's meaning is not documented; use PrefixConfiguration")
		}
		rw.AddPrefix, _ = fi.str("Prefix")
		rw.AddSuffix, _ = fi.str("Suffix")
	}
	pc := fi.child("PrefixConfiguration")
	sc := fi.child("SuffixConfiguration")
	if p, ok := pc.str("Prefix"); ok {
		rw.AddPrefix = p
	}
	if s, ok := sc.str("Suffix"); ok {
		rw.AddSuffix = s
	}
	if k := pc.child("ReplacedWithPrefix"); k != nil {
		probs.at(k, "what ReplacedWithPrefix replaces is not documented (the condition's Prefix or the added one); "+
			"write the rule natively with rewrite.replacePrefix")
	}
	if k := sc.child("ReplacedWithSuffix"); k != nil {
		probs.at(k, "what ReplacedWithSuffix replaces is not documented; write the rule natively with rewrite.replaceSuffix")
	}
	if fixed, ok := fi.child("FixedFileConfiguration").str("FixedFilePath"); ok && fixed != "" {
		if rw.AddPrefix != "" || rw.AddSuffix != "" {
			probs.at(fi.child("FixedFileConfiguration"), "a fixed file excludes an added prefix or suffix")
		}
		rw.Key = literalKey(fixed)
	}
	r.Rewrite = rw
	_ = cond
}

// cosHostOK: host[:port], a domain or an IP, no scheme and no path.
func cosHostOK(h string) bool {
	return hostNameOK(h) && !strings.Contains(h, "://")
}
