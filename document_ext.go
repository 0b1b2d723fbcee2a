package mirror

import (
	"encoding/json"
	"strconv"
)

// Reading the extended model's fields (docs/SEMANTICS.md §11), native
// documents only, the way document.go reads the others: each value is
// checked at its own path ("rules[2].match.headers[0].name"), a value of
// the wrong type is reported once and left unset, and it hides no other
// field's problem.

// reader reports the type problems of one rule.
type reader struct {
	i     int
	probs *problems
	mark  func(field string)
}

func (rd *reader) fail(field, reason string) {
	rd.probs.add(rd.i, field, reason)
	rd.mark(field)
}

// object decodes v, a JSON object, into dst (a struct of RawMessages); ok
// is false, and the problem reported, when v is not an object. null and
// absent are ok and leave present false.
func (rd *reader) object(field string, v json.RawMessage, dst any) (present, ok bool) {
	if isNull(v) {
		return false, true
	}
	if b := trimmed(v); len(b) == 0 || b[0] != '{' || json.Unmarshal(v, dst) != nil {
		rd.fail(field, "must be an object")
		return false, false
	}
	return true, true
}

func trimmed(v json.RawMessage) json.RawMessage {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
		v = v[1:]
	}
	return v
}

func (rd *reader) str(field string, v json.RawMessage, dst *string) {
	if s, ok := decodeString(v); ok {
		*dst = s
	} else {
		rd.fail(field, "must be a string")
	}
}

func (rd *reader) boolean(field string, v json.RawMessage, dst *bool) {
	if !decodeBool(v, false, dst) {
		rd.fail(field, "must be true or false")
	}
}

func (rd *reader) integer(field string, v json.RawMessage, dst *int) {
	if !isNull(v) && json.Unmarshal(v, dst) != nil {
		rd.fail(field, "must be an integer")
	}
}

// list calls item for each element of the JSON list v; it reports a
// non-list at field and returns false.
func (rd *reader) list(field, what string, v json.RawMessage, item func(at string, it json.RawMessage) bool) bool {
	if isNull(v) {
		return true
	}
	ok := true
	isList := eachItem(v, func(j int, it json.RawMessage) {
		if !item(field+"["+strconv.Itoa(j)+"]", it) {
			ok = false
		}
	})
	if !isList {
		rd.fail(field, "must be a list of "+what)
		return false
	}
	if !ok {
		rd.mark(field)
	}
	return ok
}

// strings reads a list of strings; nil when absent or wrong.
func (rd *reader) strings(field string, v json.RawMessage) []string {
	var out []string
	ok := rd.list(field, "strings", v, func(at string, it json.RawMessage) bool {
		s, isStr := decodeString(it)
		if !isStr || isNull(it) {
			rd.probs.add(rd.i, at, "must be a string")
			return false
		}
		out = append(out, s)
		return true
	})
	if !ok {
		return nil
	}
	return out
}

// ints reads a list of integers.
func (rd *reader) ints(field string, v json.RawMessage) []int {
	var out []int
	ok := rd.list(field, "integers", v, func(at string, it json.RawMessage) bool {
		var n int
		if isNull(it) || json.Unmarshal(it, &n) != nil {
			rd.probs.add(rd.i, at, "must be an integer")
			return false
		}
		out = append(out, n)
		return true
	})
	if !ok {
		return nil
	}
	return out
}

// statuses reads a list of integers and strings.
func (rd *reader) statuses(field string, v json.RawMessage) StatusList {
	var out StatusList
	ok := rd.list(field, "status codes and strings", v, func(at string, it json.RawMessage) bool {
		s, ok := statusItem(it)
		if !ok {
			rd.probs.add(rd.i, at, "must be an integer status code or a string")
			return false
		}
		out = append(out, s)
		return true
	})
	if !ok {
		return nil
	}
	return out
}

type rawMatch struct {
	Prefix   json.RawMessage `json:"prefix"`
	Suffix   json.RawMessage `json:"suffix"`
	Headers  json.RawMessage `json:"headers"`
	Hosts    json.RawMessage `json:"hosts"`
	NotHosts json.RawMessage `json:"notHosts"`
	Methods  json.RawMessage `json:"methods"`
}

type rawNameValue struct {
	Name  json.RawMessage `json:"name"`
	Value json.RawMessage `json:"value"`
}

type rawRewrite struct {
	Key           json.RawMessage `json:"key"`
	ReplacePrefix json.RawMessage `json:"replacePrefix"`
	ReplaceSuffix json.RawMessage `json:"replaceSuffix"`
	AddPrefix     json.RawMessage `json:"addPrefix"`
	AddSuffix     json.RawMessage `json:"addSuffix"`
}

type rawFromTo struct {
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
	Join json.RawMessage `json:"join"`
}

type rawRedirect struct {
	Host   json.RawMessage `json:"host"`
	Scheme json.RawMessage `json:"scheme"`
	Code   json.RawMessage `json:"code"`
}

type rawFetch struct {
	FollowRedirects json.RawMessage `json:"followRedirects"`
	CheckMD5        json.RawMessage `json:"checkMd5"`
	PassStatus      json.RawMessage `json:"passStatus"`
	Store           json.RawMessage `json:"store"`
	Probe           json.RawMessage `json:"probe"`
	SaveMeta        json.RawMessage `json:"saveMeta"`
	LastModified    json.RawMessage `json:"lastModified"`
}

// parseExtended reads the extended model's fields of a native rule.
func parseExtended(raw *rawRule, r *Rule, rd *reader) {
	var m rawMatch
	if present, _ := rd.object("match", raw.Match, &m); present {
		r.Match = &Match{}
		rd.str("match.prefix", m.Prefix, &r.Match.Prefix)
		rd.str("match.suffix", m.Suffix, &r.Match.Suffix)
		rd.list("match.headers", "{name, value} objects", m.Headers, func(at string, it json.RawMessage) bool {
			var nv rawNameValue
			if isNull(it) || json.Unmarshal(it, &nv) != nil || trimmed(it)[0] != '{' {
				rd.probs.add(rd.i, at, "must be a {name, value} object")
				return false
			}
			name, okName := decodeString(nv.Name)
			value, okValue := decodeString(nv.Value)
			if !okName {
				rd.probs.add(rd.i, at+".name", "must be a string")
			}
			if !okValue {
				rd.probs.add(rd.i, at+".value", "must be a string")
			}
			if okName && okValue {
				r.Match.Headers = append(r.Match.Headers, MatchHeader{Name: name, Value: value})
			}
			return okName && okValue
		})
		r.Match.Hosts = rd.strings("match.hosts", m.Hosts)
		r.Match.NotHosts = rd.strings("match.notHosts", m.NotHosts)
		r.Match.Methods = rd.strings("match.methods", m.Methods)
	}
	if !isNull(raw.On) {
		if s, ok := decodeString(raw.On); ok {
			r.On = Trigger{s}
		} else if b := trimmed(raw.On); b[0] == '[' {
			r.On = Trigger(rd.statuses("on", raw.On))
		} else {
			rd.fail("on", `must be "miss", "always" or a list of status codes and classes ("5xx")`)
		}
	}
	r.SourceURLs = rd.strings("sourceUrls", raw.SourceURLs)
	r.BackSourceURLs = rd.strings("backSourceUrls", raw.BackSourceURLs)
	r.SourceWeights = rd.ints("sourceWeights", raw.SourceWeights)
	var pick string
	rd.str("pick", raw.Pick, &pick)
	r.Pick = Pick(pick)
	r.FailoverOn = rd.statuses("failoverOn", raw.FailoverOn)
	rd.str("scheme", raw.Scheme, &r.Scheme)
	var rw rawRewrite
	if present, _ := rd.object("rewrite", raw.Rewrite, &rw); present {
		r.Rewrite = &Rewrite{}
		rd.str("rewrite.key", rw.Key, &r.Rewrite.Key)
		var rp rawFromTo
		if present, _ := rd.object("rewrite.replacePrefix", rw.ReplacePrefix, &rp); present {
			r.Rewrite.ReplacePrefix = &ReplacePrefix{}
			if !isNull(rp.From) {
				var from string
				rd.str("rewrite.replacePrefix.from", rp.From, &from)
				r.Rewrite.ReplacePrefix.From = &from
			}
			rd.str("rewrite.replacePrefix.to", rp.To, &r.Rewrite.ReplacePrefix.To)
			rd.str("rewrite.replacePrefix.join", rp.Join, &r.Rewrite.ReplacePrefix.Join)
		}
		var rs rawFromTo
		if present, _ := rd.object("rewrite.replaceSuffix", rw.ReplaceSuffix, &rs); present {
			r.Rewrite.ReplaceSuffix = &ReplaceSuffix{}
			rd.str("rewrite.replaceSuffix.from", rs.From, &r.Rewrite.ReplaceSuffix.From)
			rd.str("rewrite.replaceSuffix.to", rs.To, &r.Rewrite.ReplaceSuffix.To)
			if !isNull(rs.Join) {
				rd.fail("rewrite.replaceSuffix.join", "is not a field of replaceSuffix")
			}
		}
		rd.str("rewrite.addPrefix", rw.AddPrefix, &r.Rewrite.AddPrefix)
		rd.str("rewrite.addSuffix", rw.AddSuffix, &r.Rewrite.AddSuffix)
	}
	var rr rawRedirect
	if present, _ := rd.object("redirect", raw.Redirect, &rr); present {
		r.Redirect = &Redirect{}
		rd.str("redirect.host", rr.Host, &r.Redirect.Host)
		rd.str("redirect.scheme", rr.Scheme, &r.Redirect.Scheme)
		rd.integer("redirect.code", rr.Code, &r.Redirect.Code)
	}
	if !isNull(raw.KeepSlashes) {
		var keep bool
		rd.boolean("keepSlashes", raw.KeepSlashes, &keep)
		r.KeepSlashes = &keep
	}
	var rf rawFetch
	if present, _ := rd.object("fetch", raw.Fetch, &rf); present {
		r.Fetch = &FetchOptions{}
		rd.integer("fetch.followRedirects", rf.FollowRedirects, &r.Fetch.FollowRedirects)
		rd.boolean("fetch.checkMd5", rf.CheckMD5, &r.Fetch.CheckMD5)
		r.Fetch.PassStatus = rd.statuses("fetch.passStatus", rf.PassStatus)
		if !isNull(rf.Store) {
			var store bool
			rd.boolean("fetch.store", rf.Store, &store)
			r.Fetch.Store = &store
		}
		rd.str("fetch.probe", rf.Probe, &r.Fetch.Probe)
		rd.boolean("fetch.saveMeta", rf.SaveMeta, &r.Fetch.SaveMeta)
		rd.str("fetch.lastModified", rf.LastModified, &r.Fetch.LastModified)
	}
}
