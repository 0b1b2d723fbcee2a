package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// The JSON provider importers (import_obs.go, import_tos.go) share what
// is here: a strict reader of the provider document, the problem list
// with the provider's own paths, the native document they write, and
// detectJSONFormat, which tells the JSON documents apart
// (docs/PROVIDERS-IMPORT-JSON.md).
//
// Every name here starts with "jimp" so that it stays clear of the
// engine's own types.

// Limits of a provider document. A real one is small (OBS holds at most
// 10 rules, TOS 20, each a few hundred bytes), so the limits are far
// above any real document and far below what would cost time or memory.
const (
	jimpMaxBytes  = 256 << 10 // the whole document
	jimpMaxDepth  = 32        // nesting of lists and objects
	jimpMaxValues = 20000     // JSON values in the whole document
	// jimpMaxOrigins is the engine's bound on sourceUrls and
	// backSourceUrls (rule.go), checked here so that the problem is
	// named at the provider's path.
	jimpMaxOrigins = 10
)

// jimpKind is the JSON type of a value.
type jimpKind uint8

const (
	jimpNull jimpKind = iota
	jimpBool
	jimpNumber
	jimpString
	jimpArray
	jimpObject
)

// jimpVal is one JSON value of a provider document. Objects keep their
// members in document order, repeated names included, so that the
// checker can refuse a repeated member instead of taking the last one.
type jimpVal struct {
	kind jimpKind
	text string // a string's value, a number's literal
	b    bool
	keys []string   // object member names
	vals []*jimpVal // object member values, or list elements
}

var (
	errJimpDepth  = errors.New("nests lists and objects more than 32 deep")
	errJimpValues = errors.New("holds more than 20000 JSON values")
)

// jimpParse reads a whole document into a tree, within the limits above.
func jimpParse(data []byte) (*jimpVal, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n := 0
	var value func(depth int) (*jimpVal, error)
	value = func(depth int) (*jimpVal, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if n++; n > jimpMaxValues {
			return nil, errJimpValues
		}
		switch t := tok.(type) {
		case json.Delim:
			if depth >= jimpMaxDepth {
				return nil, errJimpDepth
			}
			v := &jimpVal{kind: jimpArray}
			if t == '{' {
				v.kind = jimpObject
			}
			for dec.More() {
				if v.kind == jimpObject {
					k, err := dec.Token()
					if err != nil {
						return nil, err
					}
					v.keys = append(v.keys, k.(string))
				}
				e, err := value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				return nil, err
			}
			return v, nil
		case string:
			return &jimpVal{kind: jimpString, text: t}, nil
		case json.Number:
			return &jimpVal{kind: jimpNumber, text: string(t)}, nil
		case bool:
			return &jimpVal{kind: jimpBool, b: t}, nil
		}
		return &jimpVal{kind: jimpNull}, nil
	}
	v, err := value(0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("has more after its top-level object")
	}
	return v, nil
}

// jimpCheck collects the problems of one provider document, with paths
// in the provider's own terms ("rules[2].redirect.retryConditions[0]").
type jimpCheck struct {
	an   string // "an OBS" or "a TOS"
	root string // the rule list's member: "rules" or "Rules"
	list []*FieldError
	more int
}

// add records a problem. rule -1 is the document: field is then the
// whole path ("document", "rules"); otherwise field is the path inside
// rule number rule ("" for the rule itself).
func (c *jimpCheck) add(rule int, field, reason string) {
	if len(c.list) == MaxProblems {
		c.more++
		return
	}
	path, f := field, field
	switch {
	case rule < 0 && field == c.root:
		f = ""
	case rule >= 0:
		path = c.root + "[" + strconv.Itoa(rule) + "]"
		if field != "" {
			path += "." + field
		}
	}
	c.list = append(c.list, &FieldError{Path: path, Rule: rule, Field: f, Reason: reason})
}

func (c *jimpCheck) failed() bool { return len(c.list) > 0 }

func (c *jimpCheck) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return &CompileError{Problems: c.list, More: c.more}
}

// document reads data into a tree whose top level is an object, or
// records why not at "document" and returns nil.
func (c *jimpCheck) document(data []byte) *jimpVal {
	if len(data) > jimpMaxBytes {
		c.add(-1, "document", fmt.Sprintf("is %d bytes; %s document may be at most %d", len(data), c.an, jimpMaxBytes))
		return nil
	}
	var probe struct{}
	if err := json.Unmarshal(data, &probe); err != nil {
		c.add(-1, "document", jsonReason(data, err))
		return nil
	}
	if b := bytes.TrimSpace(data); len(b) == 0 || b[0] != '{' {
		c.add(-1, "document", "must be a JSON object ({...}), not null")
		return nil
	}
	top, err := jimpParse(data)
	if err != nil {
		c.add(-1, "document", err.Error())
		return nil
	}
	return top
}

// join appends a member name to a path inside a rule.
func jimpJoin(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func jimpIndex(at string, j int) string { return at + "[" + strconv.Itoa(j) + "]" }

// fields returns the members of the object v by name, leaving out those
// whose value is null (null is absent). It refuses, each at its own
// path, a v that is not an object, a member that occurs twice, and a
// member not in known; names are matched exactly (case-sensitively).
func (c *jimpCheck) fields(v *jimpVal, rule int, at string, known ...string) map[string]*jimpVal {
	if v.kind != jimpObject {
		c.add(rule, at, "must be an object")
		return nil
	}
	m := make(map[string]*jimpVal, len(v.keys))
	seen := make(map[string]bool, len(v.keys))
	for j, k := range v.keys {
		p := jimpJoin(at, k)
		if rule < 0 && at == "" {
			p = k
		}
		switch {
		case !jimpHas(known, k):
			c.add(rule, p, c.unknown(k, known))
		case seen[k]:
			c.add(rule, p, "occurs twice; give each member once")
		default:
			seen[k] = true
			if v.vals[j].kind != jimpNull {
				m[k] = v.vals[j]
			}
		}
	}
	return m
}

func jimpHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unknown words the refusal of a member name the provider does not have
// at that place.
func (c *jimpCheck) unknown(name string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return fmt.Sprintf("is not %s member: member names are case-sensitive; did you mean %q?", c.an, k)
		}
	}
	return fmt.Sprintf("is not %s member here (the members are %s); a misspelt member is refused, never dropped",
		c.an, strings.Join(known, ", "))
}

// str reads a string; ok is false (and the problem recorded) otherwise.
func (c *jimpCheck) str(v *jimpVal, rule int, at string) (string, bool) {
	if v == nil {
		return "", true
	}
	if v.kind != jimpString {
		c.add(rule, at, "must be a string")
		return "", false
	}
	return v.text, true
}

// boolean reads true or false; absent is false.
func (c *jimpCheck) boolean(v *jimpVal, rule int, at string) (bool, bool) {
	if v == nil {
		return false, true
	}
	if v.kind != jimpBool {
		c.add(rule, at, "must be true or false")
		return false, false
	}
	return v.b, true
}

// strs reads a list of strings, each problem at its element's path.
func (c *jimpCheck) strs(v *jimpVal, rule int, at string) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	if v.kind != jimpArray {
		c.add(rule, at, "must be a list of strings")
		return nil, false
	}
	ok := true
	out := make([]string, 0, len(v.vals))
	for j, e := range v.vals {
		if e.kind != jimpString {
			c.add(rule, jimpIndex(at, j), "must be a string")
			ok = false
			continue
		}
		out = append(out, e.text)
	}
	return out, ok
}

// origins reads a list of origin URLs of at most max elements.
func (c *jimpCheck) origins(v *jimpVal, rule int, at string, max int) ([]string, bool) {
	urls, ok := c.strs(v, rule, at)
	if len(urls) > max {
		c.add(rule, at, fmt.Sprintf("has %d origins; at most %d are allowed", len(urls), max))
		ok = false
	}
	for j, u := range urls {
		if reason := jimpOriginReason(u); reason != "" {
			c.add(rule, jimpIndex(at, j), reason)
			ok = false
		}
	}
	return urls, ok
}

// jimpOriginReason says what is wrong with an origin URL, or "". The
// engine checks the URL fully when it compiles the native document;
// this catches what a provider document gets wrong most often, at the
// provider's own path.
func jimpOriginReason(s string) string {
	if s == "" {
		return "must be an origin URL, not empty"
	}
	if len(s) > maxFieldLen {
		return fmt.Sprintf("is %d bytes; an origin URL may be at most %d", len(s), maxFieldLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return "must not hold spaces or control characters"
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http:// or https:// URL with a host"
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "must not hold user information, a query or a fragment"
	}
	return ""
}

// headerPolicy reads the provider's {passAll, pass, remove, set} header
// policy, whose member names differ in case between OBS and TOS.
func (c *jimpCheck) headerPolicy(v *jimpVal, rule int, at string, names [4]string, key, value string, r *jimpRule) {
	if v == nil {
		return
	}
	m := c.fields(v, rule, at, names[:]...)
	if m == nil {
		return
	}
	passAll, _ := c.boolean(m[names[0]], rule, jimpJoin(at, names[0]))
	pass, okPass := c.strs(m[names[1]], rule, jimpJoin(at, names[1]))
	remove, okRemove := c.strs(m[names[2]], rule, jimpJoin(at, names[2]))
	okPass = c.headerNames(pass, okPass, rule, jimpJoin(at, names[1]))
	okRemove = c.headerNames(remove, okRemove, rule, jimpJoin(at, names[2]))
	switch {
	case passAll:
		// "*" covers the named headers too.
		r.PassHeaders = []string{"*"}
	case okPass && len(pass) > 0:
		r.PassHeaders = pass
	}
	if okRemove && len(remove) > 0 {
		r.IgnoreHeaders = remove
	}
	set := m[names[3]]
	if set == nil {
		return
	}
	setAt := jimpJoin(at, names[3])
	if set.kind != jimpArray {
		c.add(rule, setAt, "must be a list of {"+key+", "+value+"} objects")
		return
	}
	for j, e := range set.vals {
		eAt := jimpIndex(setAt, j)
		hm := c.fields(e, rule, eAt, key, value)
		if hm == nil {
			continue
		}
		k, okK := c.str(hm[key], rule, jimpJoin(eAt, key))
		val, okV := c.str(hm[value], rule, jimpJoin(eAt, value))
		if okK && (k == "" || strings.ContainsAny(k, " \t\r\n:")) {
			c.add(rule, jimpJoin(eAt, key), "must be a header name")
			okK = false
		}
		if okK && okV {
			r.CustomHeaders = append(r.CustomHeaders, jimpHeader{Name: k, Value: val})
		}
	}
}

// headerNames refuses an element of a header name list that is not a
// header name ("*" included: passAll says "every header").
func (c *jimpCheck) headerNames(list []string, ok bool, rule int, at string) bool {
	for j, h := range list {
		if h == "" || strings.ContainsAny(h, " \t\r\n:*") {
			c.add(rule, jimpIndex(at, j), "must be a header name")
			ok = false
		}
	}
	return ok
}

// methods reads an HTTP method list (GET, HEAD) into match.methods;
// absent is GET only, the one method both providers document as
// triggering by default.
func (c *jimpCheck) methods(v *jimpVal, rule int, at string) []string {
	list, ok := c.strs(v, rule, at)
	if v == nil {
		return []string{"GET"}
	}
	var out []string
	for j, m := range list {
		if m != "GET" && m != "HEAD" {
			c.add(rule, jimpIndex(at, j), fmt.Sprintf("%q is not GET or HEAD", m))
			ok = false
			continue
		}
		if !jimpHas(out, m) {
			out = append(out, m)
		}
	}
	if ok && len(out) == 0 {
		c.add(rule, at, "must name GET, HEAD or both")
	}
	return out
}

// set reports whether a provider value is present and not empty: null,
// "", false, [] and {} are all "not set".
func jimpSet(v *jimpVal) bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case jimpNull:
		return false
	case jimpString:
		return v.text != ""
	case jimpBool:
		return v.b
	case jimpArray, jimpObject:
		return len(v.vals) > 0
	}
	return true
}

// The native document the importers write: the field names of
// PROVIDERS.md §8.1, every default the provider implies written out.

type jimpDoc struct {
	Rules []jimpRule `json:"rules"`
}

type jimpRule struct {
	Mode            string         `json:"mode"`
	Match           *jimpMatch     `json:"match"`
	On              string         `json:"on"`
	SourceURLs      []string       `json:"sourceUrls"`
	BackSourceURLs  []string       `json:"backSourceUrls,omitempty"`
	Pick            string         `json:"pick"`
	FailoverOn      []any          `json:"failoverOn"`
	Rewrite         *jimpRewrite   `json:"rewrite,omitempty"`
	PassQuerystring bool           `json:"passQuerystring"`
	PassHeaders     []string       `json:"passHeaders,omitempty"`
	IgnoreHeaders   []string       `json:"ignoreHeaders,omitempty"`
	CustomHeaders   []jimpHeader   `json:"customHeaders,omitempty"`
	KeepSlashes     bool           `json:"keepSlashes"`
	Fetch           *jimpFetch     `json:"fetch,omitempty"`
	Provider        map[string]any `json:"provider"`
}

type jimpMatch struct {
	Prefix  string   `json:"prefix"`
	Suffix  string   `json:"suffix,omitempty"`
	Hosts   []string `json:"hosts,omitempty"`
	Methods []string `json:"methods"`
}

type jimpRewrite struct {
	Key           string             `json:"key,omitempty"`
	ReplacePrefix *jimpReplacePrefix `json:"replacePrefix,omitempty"`
	AddPrefix     string             `json:"addPrefix,omitempty"`
	AddSuffix     string             `json:"addSuffix,omitempty"`
}

// jimpReplacePrefix always writes From: the native model reads an
// absent from as the match prefix and "" as "put To in front".
type jimpReplacePrefix struct {
	From string `json:"from"`
	To   string `json:"to"`
	Join string `json:"join"`
}

type jimpHeader struct {
	Name  string `json:"headerName"`
	Value string `json:"headerValue"`
}

type jimpFetch struct {
	FollowRedirects int   `json:"followRedirects"`
	CheckMd5        bool  `json:"checkMd5"`
	PassStatus      []int `json:"passStatus,omitempty"`
	Store           bool  `json:"store"`
}

// jimpFailoverDefault is what failoverOn adds to the provider's own
// statuses: an origin that can not be reached, or does not answer in
// time, is a failed origin for every provider.
var jimpFailoverDefault = []any{"timeout", "connection"}

// jimpFollowHops is followRedirects for a provider's "follow origin
// redirects" switch, which names no count.
const jimpFollowHops = 10

func jimpMarshal(doc jimpDoc) ([]byte, error) {
	return json.MarshalIndent(doc, "", "  ")
}

// detectJSONFormat tells which format a JSON rules document is, from
// what the document itself says, for Load's auto format:
//
//   - "bos": a non-null bucketMirroringConfiguration member (any case,
//     as today);
//   - "qingstor": a non-null source_site member (any case, as today);
//   - then the rule list, the one non-null member whose name is "rules"
//     in any case, and the member names of its rule objects: a rule
//     with "condition" or "id" (exactly so spelt) is an OBS rule, one
//     with "Condition", "ID" or "Redirect" a TOS rule, one with "mode"
//     (any case) a native rule. "obs" needs at least one OBS rule, no
//     other kind, and the list spelt "rules"; "tos" likewise a TOS rule
//     and "Rules". A list with no rule of either provider is "native",
//     as every such document was before.
//
// ok is false when the document is not a JSON object, has no rule list,
// or does not say which it is (two spellings of "rules", rules of two
// kinds, provider rules under the other spelling): the caller then asks
// for the format by name. Only the first 64 rules are looked at (see
// jimpDetectItems).
func detectJSONFormat(data []byte) (format string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	var bos, qing bool
	var listKeys []string
	var list json.RawMessage
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return "", false
		}
		name := k.(string)
		if isNull(v) {
			continue
		}
		switch {
		case strings.EqualFold(name, "bucketMirroringConfiguration"):
			bos = true
		case strings.EqualFold(name, "source_site"):
			qing = true
		case strings.EqualFold(name, "rules"):
			if !jimpHas(listKeys, name) {
				listKeys = append(listKeys, name)
			}
			list = v
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	switch {
	case bos:
		return string(FormatBOS), true
	case qing:
		return string(FormatQingStor), true
	case len(listKeys) != 1:
		return "", false
	}
	var native, obs, tos int
	mixed := false
	jimpFirstItems(list, jimpDetectItems, func(item json.RawMessage) {
		keys := jimpObjectKeys(item)
		var kinds int
		if jimpAny(keys, func(k string) bool { return strings.EqualFold(k, "mode") }) {
			native++
			kinds++
		}
		if jimpAny(keys, func(k string) bool { return k == "condition" || k == "id" }) {
			obs++
			kinds++
		}
		if jimpAny(keys, func(k string) bool { return k == "Condition" || k == "ID" || k == "Redirect" }) {
			tos++
			kinds++
		}
		if kinds > 1 {
			mixed = true
		}
	})
	switch {
	case mixed:
		return "", false
	case obs > 0 && native == 0 && tos == 0 && listKeys[0] == "rules":
		return "obs", true
	case tos > 0 && native == 0 && obs == 0 && listKeys[0] == "Rules":
		return "tos", true
	case obs > 0 || tos > 0:
		return "", false
	}
	return string(FormatNative), true
}

// jimpDetectItems is how many rules detectJSONFormat looks at. An OBS
// or TOS document has at most 20, so a longer list is native or refused
// by the importer whichever its later rules are; and a list of a
// million numbers costs no more than a short one.
const jimpDetectItems = 64

// jimpFirstItems calls fn for each of the first n elements of the JSON
// list v (nothing when v is not a list).
func jimpFirstItems(v json.RawMessage, n int, fn func(item json.RawMessage)) {
	dec := json.NewDecoder(bytes.NewReader(v))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return
	}
	for i := 0; i < n && dec.More(); i++ {
		var item json.RawMessage
		if dec.Decode(&item) != nil {
			return
		}
		fn(item)
	}
}

// jimpObjectKeys lists the member names of a JSON object (nil for
// anything else), skipping over the values.
func jimpObjectKeys(v json.RawMessage) []string {
	if v = trimmed(v); len(v) == 0 || v[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return keys
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
		keys = append(keys, k.(string))
	}
	return keys
}

func jimpAny(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}
