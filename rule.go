package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mode says what a matched request turns into.
type Mode string

// The two modes of a rule.
const (
	// ModeFetch fetches the object from the origin, returns it and stores it.
	ModeFetch Mode = "fetch"
	// ModeRedirect sends the client a redirect to the origin.
	ModeRedirect Mode = "redirect"
)

// Rule is one mirror back-to-origin rule with the fields, JSON names and
// defaults of Baidu BOS PutBucketMirroring, plus the native extension
// fields RedirectCode and ResourceSyntax. The zero value of every optional
// field is its default; see the package documentation for what each does.
type Rule struct {
	Mode            Mode     `json:"mode"`
	SourceURL       string   `json:"sourceUrl"`
	BackSourceURL   string   `json:"backSourceUrl,omitempty"`
	Resource        string   `json:"resource"`
	Prefix          string   `json:"prefix,omitempty"`
	Suffix          string   `json:"suffix,omitempty"`
	FixedKey        string   `json:"fixedKey,omitempty"`
	Version         string   `json:"version,omitempty"`
	PrefixReplace   string   `json:"prefixReplace,omitempty"`
	PassQueryString bool     `json:"passQuerystring,omitempty"`
	StorageClass    string   `json:"storageClass,omitempty"`
	PassHeaders     []string `json:"passHeaders,omitempty"`
	IgnoreHeaders   []string `json:"ignoreHeaders,omitempty"`
	CustomHeaders   []Header `json:"customHeaders,omitempty"`
	RedirectCode    int      `json:"redirectCode,omitempty"`
	ResourceSyntax  string   `json:"resourceSyntax,omitempty"`
}

// Header is a header that a rule sets on every origin request.
type Header struct {
	Name  string `json:"headerName"`
	Value string `json:"headerValue"`
}

// Format names a kind of rules document.
type Format string

// The document formats [ParseDocument] and [Load] read.
const (
	// FormatAuto picks bos when the document has a
	// bucketMirroringConfiguration member, then qingstor when it has
	// source_site, else native.
	FormatAuto Format = "auto"
	// FormatBOS is a Baidu BOS PutBucketMirroring body,
	// {"bucketMirroringConfiguration": [RULE, ...]}, held to BOS's own
	// limits (1 to 20 rules, one "*" per resource, no two rules covering a
	// common key, at most 10 names per header list).
	FormatBOS Format = "bos"
	// FormatQingStor is a QingStor PUT Bucket External Mirror body,
	// {"source_site": "..."}: one fetch rule covering every key.
	FormatQingStor Format = "qingstor"
	// FormatNative is {"rules": [RULE, ...]} with the extension fields,
	// no count limit and overlapping rules allowed (first match wins).
	FormatNative Format = "native"
)

// Document is a rules document read by [ParseDocument]: its rules, and
// the format whose limits and field paths [Document.Compile] applies.
type Document struct {
	// Format is the document's format, never FormatAuto.
	Format Format
	// Rules are the document's rules in document order.
	Rules []Rule

	// unset marks, per rule, the fields whose JSON value had the wrong
	// type: they are reported once, by the parser, and validation leaves
	// them alone instead of also calling them missing.
	unset []fieldSet
}

// ParseDocument reads a rules document. A document that is not JSON, or
// whose fields have the wrong JSON types, gives a *CompileError listing
// every such problem; the rules' values are judged by Document.Compile.
// [Load] does both and lists the problems of both steps together.
//
// Field names match case-insensitively and the last of two equal names
// wins, as with encoding/json, so both passQuerystring (Go SDK) and
// passQueryString (Java SDK) are read. null and missing fields are unset;
// unknown fields are ignored.
func ParseDocument(data []byte, format Format) (*Document, error) {
	doc, probs := parseDocument(data, format)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return doc, nil
}

// Compile validates the document's rules with its format's limits, naming
// problems by the document's own paths, and compiles them into an Engine.
func (d *Document) Compile(opts ...Option) (*Engine, error) {
	probs := &problems{at: namerFor(d.Format)}
	return compile(d.Rules, d.Format, d.unset, probs, opts)
}

// Load reads, validates and compiles a rules document in one step, and
// lists the problems of all three together in one *CompileError.
func Load(data []byte, format Format, opts ...Option) (*Engine, error) {
	doc, probs := parseDocument(data, format)
	if doc == nil {
		return nil, probs.err()
	}
	return compile(doc.Rules, doc.Format, doc.unset, probs, opts)
}

// pathNamer turns (rule index, field) into the document path of §7.
type pathNamer struct {
	list     string // "bucketMirroringConfiguration" or "rules"
	qingstor bool   // every path is "source_site"
}

func namerFor(f Format) pathNamer {
	switch f {
	case FormatBOS:
		return pathNamer{list: "bucketMirroringConfiguration"}
	case FormatQingStor:
		return pathNamer{qingstor: true}
	}
	return pathNamer{list: "rules"}
}

func (n pathNamer) path(i int, field string) string {
	switch {
	case n.qingstor:
		return "source_site"
	case i < 0 && field != "":
		return field
	case i < 0:
		return n.list
	case field == "":
		return n.list + "[" + strconv.Itoa(i) + "]"
	}
	return n.list + "[" + strconv.Itoa(i) + "]." + field
}

// fieldSet is a set of rule field names (JSON spelling).
type fieldSet map[string]bool

// rawRule receives one RULE object. Decoding into json.RawMessage fields
// lets encoding/json do the name matching (case-insensitive, last
// occurrence wins) while each value's type is checked field by field, so
// that one bad field does not hide the others.
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
}

type rawHeader struct {
	Name  json.RawMessage `json:"headerName"`
	Value json.RawMessage `json:"headerValue"`
}

// parseDocument returns the document (nil when it is unreadable as a
// whole) and the problems found so far, with the namer of its format.
func parseDocument(data []byte, format Format) (*Document, *problems) {
	probs := &problems{at: namerFor(format)}
	var top struct {
		BOS      json.RawMessage `json:"bucketMirroringConfiguration"`
		QingStor json.RawMessage `json:"source_site"`
		Native   json.RawMessage `json:"rules"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		probs.add(-1, "document", "not a JSON object: "+jsonReason(err))
		return nil, probs
	}
	if format == FormatAuto || format == "" {
		switch {
		case top.BOS != nil:
			format = FormatBOS
		case top.QingStor != nil:
			format = FormatQingStor
		default:
			format = FormatNative
		}
	}
	probs.at = namerFor(format)
	doc := &Document{Format: format}
	var list json.RawMessage
	switch format {
	case FormatQingStor:
		site, ok := decodeString(top.QingStor)
		if !ok {
			probs.add(-1, "", "must be a string")
		}
		doc.Rules = []Rule{{Mode: ModeFetch, SourceURL: site, Resource: "*"}}
		doc.unset = []fieldSet{nil}
		return doc, probs
	case FormatBOS:
		list = top.BOS
	case FormatNative:
		list = top.Native
	default:
		probs.at = pathNamer{}
		probs.add(-1, "format", fmt.Sprintf("%q is not auto, bos, qingstor or native", string(format)))
		return nil, probs
	}
	var items []json.RawMessage
	if !isNull(list) {
		if err := json.Unmarshal(list, &items); err != nil {
			probs.add(-1, "", "must be a list of rules")
			return doc, probs
		}
	}
	native := format == FormatNative
	doc.Rules = make([]Rule, len(items))
	doc.unset = make([]fieldSet, len(items))
	for i, item := range items {
		doc.unset[i] = parseRule(item, native, &doc.Rules[i], i, probs)
	}
	return doc, probs
}

// parseRule fills r from one RULE object and returns the fields whose
// value had the wrong type (reported here, unset in r).
func parseRule(item json.RawMessage, native bool, r *Rule, i int, probs *problems) fieldSet {
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
	if !isNull(raw.PassQueryString) && json.Unmarshal(raw.PassQueryString, &r.PassQueryString) != nil {
		fail("passQuerystring", "must be true or false")
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
	if native {
		if !isNull(raw.RedirectCode) && json.Unmarshal(raw.RedirectCode, &r.RedirectCode) != nil {
			fail("redirectCode", "must be an integer")
		}
		str("resourceSyntax", raw.ResourceSyntax, &r.ResourceSyntax)
	}
	return bad
}

// wholeRule in a fieldSet means the rule was not an object at all.
const wholeRule = "*"

// decodeNames reads a list of header names; a non-list or a non-string
// element is reported at the list or the element, and ok is false.
func decodeNames(field string, v json.RawMessage, i int, probs *problems) (names []string, ok bool) {
	if isNull(v) {
		return nil, true
	}
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		probs.add(i, field, "must be a list of header names")
		return nil, false
	}
	names = make([]string, 0, len(items))
	ok = true
	for j, item := range items {
		s, isStr := decodeString(item)
		if !isStr || isNull(item) {
			probs.add(i, field+"["+strconv.Itoa(j)+"]", "must be a string")
			ok = false
			continue
		}
		names = append(names, s)
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
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		probs.add(i, field, "must be a list of {headerName, headerValue} objects")
		return nil, false
	}
	hs = make([]Header, 0, len(items))
	ok = true
	for j, item := range items {
		at := field + "[" + strconv.Itoa(j) + "]"
		var raw rawHeader
		if isNull(item) || json.Unmarshal(item, &raw) != nil {
			probs.add(i, at, "must be a {headerName, headerValue} object")
			ok = false
			continue
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
			continue
		}
		hs = append(hs, Header{Name: name, Value: value})
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

// jsonReason words an encoding/json error without its "json: " prefix.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
