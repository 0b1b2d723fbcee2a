package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Reading a rules document (docs/SEMANTICS.md §1): the top level picks the
// format, then each RULE object is read field by field, so that a value of
// the wrong JSON type is reported once, at its own path, and does not hide
// the other fields' problems.

// topLevel is what the top level of a document holds.
type topLevel struct {
	format  Format
	list    json.RawMessage // bos and native: the list of RULE objects
	items   int             // its length
	site    string          // qingstor: source_site
	badSite bool            // source_site was not a string
}

// readTop reads the top level of a document and resolves FormatAuto.
func readTop(data []byte, format Format, probs *problems) (topLevel, bool) {
	var raw struct {
		BOS      json.RawMessage `json:"bucketMirroringConfiguration"`
		QingStor json.RawMessage `json:"source_site"`
		Native   json.RawMessage `json:"rules"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		probs.add(-1, "document", jsonReason(data, err))
		return topLevel{}, false
	}
	present := func(v json.RawMessage) bool { return !isNull(v) }
	switch format {
	case FormatAuto, "":
		switch {
		case present(raw.BOS):
			format = FormatBOS
		case present(raw.QingStor):
			format = FormatQingStor
		case present(raw.Native):
			format = FormatNative
		default:
			probs.add(-1, "document", `has none of "bucketMirroringConfiguration" (bos), "source_site" (qingstor) `+
				`or "rules" (native); a misspelt member would compile into rules that match nothing`)
			return topLevel{}, false
		}
	case FormatBOS, FormatQingStor, FormatNative:
	default:
		probs.add(-1, "format", fmt.Sprintf("%q is not auto, bos, qingstor, native, oss, cos, s3, obs or tos", string(format)))
		return topLevel{}, false
	}
	top := topLevel{format: format}
	probs.at = namerFor(format)
	member := map[Format]struct {
		name string
		v    json.RawMessage
	}{
		FormatBOS:      {"bucketMirroringConfiguration", raw.BOS},
		FormatQingStor: {"source_site", raw.QingStor},
		FormatNative:   {"rules", raw.Native},
	}[format]
	if !present(member.v) {
		probs.add(-1, "document", fmt.Sprintf("a %s document needs a %q member", format, member.name))
		return top, false
	}
	if format == FormatQingStor {
		var ok bool
		if top.site, ok = decodeString(member.v); !ok {
			probs.add(-1, "", "must be a string")
			top.badSite = true
		}
		return top, true
	}
	top.list = member.v
	if !eachItem(top.list, func(int, json.RawMessage) { top.items++ }) {
		probs.add(-1, "", "must be a list of rules")
		return top, false
	}
	return top, true
}

// eachItem calls fn for each element of a JSON list, one at a time, so
// that a long list costs no more memory than its longest element (a list
// decoded whole costs about 30 bytes per element, which "[1,1,…]" makes
// 15 times its own size). It reports false when v is not a list. v is
// valid JSON: the whole document was checked first.
func eachItem(v json.RawMessage, fn func(i int, item json.RawMessage)) bool {
	dec := json.NewDecoder(bytes.NewReader(v))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return false
	}
	for i := 0; dec.More(); i++ {
		var item json.RawMessage
		if dec.Decode(&item) != nil {
			return false
		}
		fn(i, item)
	}
	return true
}

// jsonReason words an encoding/json error for a person: where the problem
// is, as a line and a byte column, and never a Go type name.
func jsonReason(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineColumn(data, max(syn.Offset-1, 0))
		return fmt.Sprintf("line %d, column %d: %s", line, col, syn.Error())
	}
	kind := "value"
	switch b := bytes.TrimSpace(data); {
	case len(b) == 0:
	case b[0] == '[':
		kind = "list"
	case b[0] == '"':
		kind = "string"
	case b[0] == 't' || b[0] == 'f':
		kind = "boolean"
	default:
		kind = "number"
	}
	return "must be a JSON object ({...}), not a " + kind
}

// lineColumn gives the 1-based line and byte column of data[off].
func lineColumn(data []byte, off int64) (line, col int) {
	off = min(off, int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// fieldSet is a set of rule field names (JSON spelling).
type fieldSet map[string]bool

// wholeRule in a fieldSet means the rule was not an object at all.
const wholeRule = "*"

// rawRule receives one RULE object. Decoding into json.RawMessage fields
// lets encoding/json do the name matching (case-insensitive, last
// occurrence wins) while each value's type is checked field by field.
type rawRule struct {
	Mode            json.RawMessage `json:"mode"`
	SourceURL       json.RawMessage `json:"sourceUrl"`
	BackSourceURL   json.RawMessage `json:"backSourceUrl"`
	Resource        json.RawMessage `json:"resource"`
	Prefix          json.RawMessage `json:"prefix"`
	Suffix          json.RawMessage `json:"suffix"`
	FixedKey        json.RawMessage `json:"fixedKey"`
	Version         json.RawMessage `json:"version"`
	PrefixReplace   json.RawMessage `json:"prefixReplace"`
	PassQueryString json.RawMessage `json:"passQuerystring"`
	StorageClass    json.RawMessage `json:"storageClass"`
	PassHeaders     json.RawMessage `json:"passHeaders"`
	IgnoreHeaders   json.RawMessage `json:"ignoreHeaders"`
	CustomHeaders   json.RawMessage `json:"customHeaders"`
	RedirectCode    json.RawMessage `json:"redirectCode"`
	ResourceSyntax  json.RawMessage `json:"resourceSyntax"`
	// The extended model: native only.
	Match          json.RawMessage `json:"match"`
	On             json.RawMessage `json:"on"`
	SourceURLs     json.RawMessage `json:"sourceUrls"`
	BackSourceURLs json.RawMessage `json:"backSourceUrls"`
	SourceWeights  json.RawMessage `json:"sourceWeights"`
	Pick           json.RawMessage `json:"pick"`
	FailoverOn     json.RawMessage `json:"failoverOn"`
	Scheme         json.RawMessage `json:"scheme"`
	Rewrite        json.RawMessage `json:"rewrite"`
	Redirect       json.RawMessage `json:"redirect"`
	KeepSlashes    json.RawMessage `json:"keepSlashes"`
	Fetch          json.RawMessage `json:"fetch"`
}

type rawHeader struct {
	Name  json.RawMessage `json:"headerName"`
	Value json.RawMessage `json:"headerValue"`
}

// parseRule fills r from one RULE object of a format's document and
// returns the fields whose value had the wrong type (reported here, unset
// in r).
func parseRule(item json.RawMessage, format Format, r *Rule, i int, probs *problems) fieldSet {
	var raw rawRule
	if isNull(item) || json.Unmarshal(item, &raw) != nil {
		probs.add(i, "", "must be a rule object")
		return fieldSet{wholeRule: true}
	}
	var bad fieldSet
	mark := func(field string) {
		if bad == nil {
			bad = fieldSet{}
		}
		bad[field] = true
	}
	fail := func(field, reason string) {
		probs.add(i, field, reason)
		mark(field)
	}
	str := func(field string, v json.RawMessage, dst *string) {
		if s, ok := decodeString(v); ok {
			*dst = s
		} else {
			fail(field, "must be a string")
		}
	}
	var mode string
	str("mode", raw.Mode, &mode)
	r.Mode = Mode(mode)
	str("sourceUrl", raw.SourceURL, &r.SourceURL)
	str("backSourceUrl", raw.BackSourceURL, &r.BackSourceURL)
	str("resource", raw.Resource, &r.Resource)
	str("prefix", raw.Prefix, &r.Prefix)
	str("suffix", raw.Suffix, &r.Suffix)
	str("fixedKey", raw.FixedKey, &r.FixedKey)
	str("version", raw.Version, &r.Version)
	str("prefixReplace", raw.PrefixReplace, &r.PrefixReplace)
	str("storageClass", raw.StorageClass, &r.StorageClass)
	if !decodeBool(raw.PassQueryString, format == FormatBOS, &r.PassQueryString) {
		if format == FormatBOS {
			fail("passQuerystring", `must be true or false (or the string "true" or "false")`)
		} else {
			fail("passQuerystring", "must be true or false")
		}
	}
	var ok bool
	if r.PassHeaders, ok = decodeNames("passHeaders", raw.PassHeaders, i, probs); !ok {
		mark("passHeaders")
	}
	if r.IgnoreHeaders, ok = decodeNames("ignoreHeaders", raw.IgnoreHeaders, i, probs); !ok {
		mark("ignoreHeaders")
	}
	if r.CustomHeaders, ok = decodeHeaders(raw.CustomHeaders, i, probs); !ok {
		mark("customHeaders")
	}
	switch format {
	case FormatNative:
		if !isNull(raw.RedirectCode) && json.Unmarshal(raw.RedirectCode, &r.RedirectCode) != nil {
			fail("redirectCode", "must be an integer")
		}
		str("resourceSyntax", raw.ResourceSyntax, &r.ResourceSyntax)
		parseExtended(&raw, r, (&reader{i: i, probs: probs, mark: mark}))
	case FormatBOS:
		// BOS's Go SDK test and the bcecmd guide send rules without a
		// resource, and BOS takes them as covering every key.
		if r.Resource == "" && !bad["resource"] {
			r.Resource = "*"
		}
	}
	return bad
}

// decodeBool reads a JSON boolean into dst; with strings, also the BOS
// Java SDK's "true" and "false" ("" is unset). ok is false for anything
// else.
func decodeBool(v json.RawMessage, strings bool, dst *bool) bool {
	if isNull(v) {
		return true
	}
	if json.Unmarshal(v, dst) == nil {
		return true
	}
	if !strings {
		return false
	}
	s, ok := decodeString(v)
	switch {
	case !ok:
		return false
	case s == "true":
		*dst = true
	case s == "false", s == "":
	default:
		return false
	}
	return true
}

// decodeNames reads a list of header names; a non-list or a non-string
// element is reported at the list or the element, and ok is false.
func decodeNames(field string, v json.RawMessage, i int, probs *problems) (names []string, ok bool) {
	if isNull(v) {
		return nil, true
	}
	ok = true
	isList := eachItem(v, func(j int, item json.RawMessage) {
		s, isStr := decodeString(item)
		if !isStr || isNull(item) {
			probs.add(i, field+"["+strconv.Itoa(j)+"]", "must be a string")
			ok = false
			return
		}
		if ok {
			names = append(names, s)
		}
	})
	if !isList {
		probs.add(i, field, "must be a list of header names")
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return names, true
}

// decodeHeaders reads customHeaders the way decodeNames reads a name list.
func decodeHeaders(v json.RawMessage, i int, probs *problems) (hs []Header, ok bool) {
	const field = "customHeaders"
	if isNull(v) {
		return nil, true
	}
	ok = true
	isList := eachItem(v, func(j int, item json.RawMessage) {
		at := field + "[" + strconv.Itoa(j) + "]"
		var raw rawHeader
		if isNull(item) || json.Unmarshal(item, &raw) != nil {
			probs.add(i, at, "must be a {headerName, headerValue} object")
			ok = false
			return
		}
		name, okName := decodeString(raw.Name)
		value, okValue := decodeString(raw.Value)
		if !okName {
			probs.add(i, at+".headerName", "must be a string")
		}
		if !okValue {
			probs.add(i, at+".headerValue", "must be a string")
		}
		if !okName || !okValue {
			ok = false
			return
		}
		if ok {
			hs = append(hs, Header{Name: name, Value: value})
		}
	})
	if !isList {
		probs.add(i, field, "must be a list of {headerName, headerValue} objects")
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return hs, true
}

// decodeString reads a JSON string; null and absent are "" and ok.
func decodeString(v json.RawMessage) (string, bool) {
	if isNull(v) {
		return "", true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}
