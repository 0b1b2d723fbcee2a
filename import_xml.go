package mirror

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reading provider documents for the importers (import_oss.go,
// import_s3.go, import_cos.go; docs/PROVIDERS-IMPORT.md).
//
// A provider document is read into a small tree of elements, checked
// against the provider's schema while it is read: an element the schema
// does not name is refused at its own path (a misspelt element must never
// be dropped), as is a second copy of an element that may occur once, text
// in a container, an element inside a value, an attribute, and a DOCTYPE
// or ENTITY declaration. Every limit below is checked while reading, so a
// hostile document costs at most its own size and is refused in
// milliseconds.

// The limits of a provider document.
const (
	// maxImportBytes is the largest document read (1 MiB). The providers'
	// own limits are far smaller (S3: a PutBucketWebsite request of at
	// most 128 KB); 1 MiB leaves room for pretty-printed documents.
	maxImportBytes = 1 << 20
	// maxImportDepth is the deepest element nesting, root included. The
	// deepest element a schema names is at depth 8
	// (OriginConfiguration/OriginRule/OriginInfo/HostInfo/PrivateHost/
	// CredentialProvider/...).
	maxImportDepth = 12
	// maxImportElements is the most elements (or JSON values) a document
	// may hold. The largest legal documents hold a few thousand at most
	// (OSS: 20 rules of at most ~80 elements; S3: 50 rules of ~10), and
	// each element read costs a few hundred bytes, so a hostile 1 MB
	// document is refused in a few MB (BenchmarkImportAdversarial).
	maxImportElements = 5000
	// maxImportText is the longest value of one element (maxFieldLen).
	maxImportText = maxFieldLen
)

// xmlSchema describes an element of a provider document: a value (kids
// nil) or a container of the named elements.
type xmlSchema struct {
	kids map[string]*xmlSchema
	// numbered holds the schemas of numbered element names: a key
	// "StandbyHostName_" admits StandbyHostName_1 … StandbyHostName_99.
	numbered map[string]*xmlSchema
	// repeated: the element may occur more than once in its parent.
	repeated bool
	// rule: the element is one rule; it and its descendants carry its
	// index.
	rule bool
	// opaque: the element's content is not read at all (not validated,
	// never quoted); used for containers that are refused as a whole,
	// such as credentials.
	opaque bool
}

// leaf is a value element that occurs once; leaves one that may repeat.
func leaf() *xmlSchema   { return &xmlSchema{} }
func leaves() *xmlSchema { return &xmlSchema{repeated: true} }

// box is a container that occurs once.
func box(kids map[string]*xmlSchema) *xmlSchema { return &xmlSchema{kids: kids} }

// boxes is a container that may repeat.
func boxes(kids map[string]*xmlSchema) *xmlSchema {
	return &xmlSchema{kids: kids, repeated: true}
}

// opaqueBox is a container whose content is never read.
func opaqueBox() *xmlSchema { return &xmlSchema{opaque: true, kids: map[string]*xmlSchema{}} }

// secretLeaf is a value element that occurs once and whose text is never
// read (a credential): it is known to the schema, so it is not refused as
// unknown, and nothing of it reaches the tree or an error.
func secretLeaf() *xmlSchema { return &xmlSchema{opaque: true} }

func (s *xmlSchema) isLeaf() bool { return s.kids == nil && s.numbered == nil && !s.opaque }

// child finds the schema of a child element name.
func (s *xmlSchema) child(name string) *xmlSchema {
	if k, ok := s.kids[name]; ok {
		return k
	}
	for prefix, k := range s.numbered {
		if n, ok := strings.CutPrefix(name, prefix); ok && len(n) > 0 && len(n) <= 2 && n[0] != '0' {
			if _, err := strconv.Atoi(n); err == nil {
				return k
			}
		}
	}
	return nil
}

// elem is one element of a provider document (or one JSON value, for the
// JSON forms), located by its path in the provider's own terms.
type elem struct {
	name string
	// path is the provider path: "RoutingRules.RoutingRule[2].Redirect".
	path string
	// rule is the index of the rule this element is part of, -1 outside
	// any rule; field is the path below the rule element ("" for the rule
	// itself).
	rule  int
	field string
	text  string
	kids  []*elem
	// number is the N of a numbered element name (StandbyHostName_N).
	number int
}

// child returns the first child named name, or nil.
func (e *elem) child(name string) *elem {
	if e == nil {
		return nil
	}
	for _, k := range e.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// all returns the children named name, in document order.
func (e *elem) all(name string) []*elem {
	if e == nil {
		return nil
	}
	var out []*elem
	for _, k := range e.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// has reports whether the child name is present.
func (e *elem) has(name string) bool { return e.child(name) != nil }

// importProblems collects the FieldErrors of one import, capped like
// compile problems.
type importProblems struct {
	list []*FieldError
	more int
}

func (p *importProblems) add(path string, rule int, field, reason string) {
	if len(p.list) == MaxProblems {
		p.more++
		return
	}
	p.list = append(p.list, &FieldError{Path: path, Rule: rule, Field: field, Reason: reason})
}

// at records a problem of element e.
func (p *importProblems) at(e *elem, reason string) { p.add(e.path, e.rule, e.field, reason) }

// in records a problem of a missing or named child of e.
func (p *importProblems) in(e *elem, name, reason string) {
	field := name
	if e.field != "" {
		field = e.field + "." + name
	}
	if e.rule < 0 {
		field = joinPath(e.path, name)
	}
	p.add(joinPath(e.path, name), e.rule, field, reason)
}

// doc records a problem of the whole document.
func (p *importProblems) doc(reason string) { p.add("document", -1, "document", reason) }

func (p *importProblems) failed() bool { return len(p.list) > 0 }

func (p *importProblems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &CompileError{Problems: p.list, More: p.more}
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// readXML reads a provider XML document whose root element is root, with
// the schema of the root's content. Paths leave the root out
// ("RoutingRules.RoutingRule[0]"); rule indexes are 0-based. It returns
// nil when the document could not be read (the problems say why);
// schema problems (unknown or repeated elements) are recorded and the
// tree is still returned.
func readXML(data []byte, root string, schema *xmlSchema, probs *importProblems) *elem {
	if len(data) > maxImportBytes {
		probs.doc(fmt.Sprintf("is %d bytes; at most %d are read", len(data), maxImportBytes))
		return nil
	}
	r := &xmlReader{probs: probs}
	top, err := r.read(data, root, schema)
	if err != nil {
		probs.doc(err.Error())
		return nil
	}
	return top
}

type xmlReader struct {
	probs    *importProblems
	elements int
}

// frame is an open element while reading.
type frame struct {
	e      *elem
	schema *xmlSchema // nil: unknown or opaque element, content skipped
	text   bytes.Buffer
	counts map[string]int
	long   bool // text over maxImportText, reported once
}

func (r *xmlReader) read(data []byte, root string, schema *xmlSchema) (*elem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = nil // only the five predefined entities
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not read; send UTF-8", label)
	}
	var stack []*frame
	var top *elem
	seenRoot := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlReason(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("a <!DOCTYPE> or <!ENTITY> declaration is refused (no DTD is read)")
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("the processing instruction <?%s?> is refused", t.Target)
			}
		case xml.Comment:
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("text outside the root element")
				}
				continue
			}
			f := stack[len(stack)-1]
			switch {
			case f.schema == nil || f.schema.opaque:
				// Skipped, or never read (a credential's text included).
			case f.schema.isLeaf():
				if f.text.Len()+len(t) > maxImportText {
					if !f.long {
						f.long = true
						r.probs.at(f.e, fmt.Sprintf("is longer than %d bytes", maxImportText))
					}
					continue
				}
				f.text.Write(t)
			case len(bytes.TrimSpace(t)) > 0:
				r.probs.at(f.e, "is a container: text is not allowed in it")
				f.schema = nil // report once
			}
		case xml.StartElement:
			r.elements++
			if r.elements > maxImportElements {
				return nil, fmt.Errorf("has more than %d elements", maxImportElements)
			}
			if len(stack) >= maxImportDepth {
				return nil, fmt.Errorf("nests elements deeper than %d", maxImportDepth)
			}
			name := t.Name.Local
			if len(stack) == 0 {
				if seenRoot {
					return nil, errors.New("has more than one root element")
				}
				seenRoot = true
				if name != root {
					return nil, fmt.Errorf("the root element is <%s>, not <%s>", name, root)
				}
				top = &elem{name: name, rule: -1}
				f := &frame{e: top, schema: schema}
				r.attrs(f.e, t.Attr, true)
				stack = append(stack, f)
				continue
			}
			parent := stack[len(stack)-1]
			e := &elem{name: name, rule: parent.e.rule}
			var s *xmlSchema
			if parent.schema != nil {
				s = parent.schema.child(name)
				if parent.schema.isLeaf() {
					r.probs.at(parent.e, fmt.Sprintf("is a value: the element <%s> is not allowed in it", name))
					parent.schema = nil
				}
			}
			n := 0
			if parent.counts == nil {
				parent.counts = map[string]int{}
			}
			n = parent.counts[name]
			parent.counts[name]++
			seg := name
			if s != nil && s.repeated {
				seg = name + "[" + strconv.Itoa(n) + "]"
			}
			e.path = joinPath(parent.e.path, seg)
			switch {
			case s != nil && s.rule:
				e.rule = n
				e.field = ""
			case e.rule >= 0:
				e.field = joinPath(parent.e.field, seg)
			}
			if i := strings.LastIndexByte(name, '_'); i >= 0 && s != nil && parent.schema.kids[name] == nil {
				e.number, _ = strconv.Atoi(name[i+1:])
			}
			if parent.schema != nil && !parent.schema.opaque {
				switch {
				case s == nil:
					r.probs.at(e, fmt.Sprintf("unknown element <%s> in <%s>", name, parent.e.name))
				case n > 0 && !s.repeated:
					r.probs.at(e, fmt.Sprintf("<%s> may occur only once in <%s>", name, parent.e.name))
					s = nil
				default:
					parent.e.kids = append(parent.e.kids, e)
				}
			} else {
				s = nil
			}
			if s != nil && s.opaque {
				// Read, kept, never looked into.
				f := &frame{e: e, schema: s}
				stack = append(stack, f)
				continue
			}
			if s != nil {
				r.attrs(e, t.Attr, false)
			}
			stack = append(stack, &frame{e: e, schema: s})
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.schema != nil && f.schema.isLeaf() && !f.long {
				f.e.text = f.text.String()
			}
		}
	}
	if top == nil {
		return nil, fmt.Errorf("has no <%s> element", root)
	}
	return top, nil
}

// attrs refuses attributes; namespace declarations are allowed on the
// root (S3 sends xmlns="http://s3.amazonaws.com/doc/2006-03-01/").
func (r *xmlReader) attrs(e *elem, attrs []xml.Attr, root bool) {
	for _, a := range attrs {
		if root && (a.Name.Space == "xmlns" || a.Name.Local == "xmlns") {
			continue
		}
		at := e.path
		if at == "" {
			at = "document"
		}
		r.probs.add(at, e.rule, e.field, fmt.Sprintf("the attribute %q is not allowed", a.Name.Local))
	}
}

// xmlReason words an encoding/xml error with its line.
func xmlReason(err error) error {
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("line %d: %s", syn.Line, strings.TrimPrefix(syn.Msg, "xml: "))
	}
	return err
}

// Values.

// text returns the value of the child name and whether it is present.
func (e *elem) str(name string) (string, bool) {
	k := e.child(name)
	if k == nil {
		return "", false
	}
	return k.text, true
}

// readBool reads the child name as true or false; absent gives def.
func readBool(e *elem, name string, def bool, probs *importProblems) bool {
	k := e.child(name)
	if k == nil {
		return def
	}
	switch strings.TrimSpace(k.text) {
	case "true":
		return true
	case "false":
		return false
	}
	probs.at(k, "must be true or false")
	return def
}

// readInt reads the child name as a decimal integer in [lo, hi]; ok is
// false when absent or invalid (invalid is reported).
func readInt(e *elem, name string, lo, hi int, probs *importProblems) (int, bool) {
	k := e.child(name)
	if k == nil {
		return 0, false
	}
	return parseIntIn(k, strings.TrimSpace(k.text), lo, hi, probs)
}

func parseIntIn(k *elem, s string, lo, hi int, probs *importProblems) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' {
		probs.at(k, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return 0, false
	}
	if n < lo || n > hi {
		probs.at(k, fmt.Sprintf("must be from %d to %d", lo, hi))
		return 0, false
	}
	return n, true
}

// readCode reads an HTTP status code that must be one of codes.
func readCode(e *elem, name string, codes []int, probs *importProblems) (int, bool) {
	k := e.child(name)
	if k == nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(k.text))
	for _, c := range codes {
		if err == nil && n == c {
			return n, true
		}
	}
	words := make([]string, len(codes))
	for i, c := range codes {
		words[i] = strconv.Itoa(c)
	}
	probs.at(k, fmt.Sprintf("%s is not a valid redirect code here; use %s", quoteShort(k.text), strings.Join(words, ", ")))
	return 0, false
}

// quoteShort quotes a provider value for an error message, cut to 64
// bytes. Only values that can not be secrets are ever quoted.
func quoteShort(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

// refuse reports each present child of e named in names with reason
// (the names carry values that can not be imported).
func refuse(e *elem, probs *importProblems, reason string, names ...string) {
	for _, n := range names {
		for _, k := range e.all(n) {
			probs.at(k, reason)
		}
	}
}

// refuseTrue reports each child of e in names whose value is true.
func refuseTrue(e *elem, probs *importProblems, reason string, names ...string) {
	for _, n := range names {
		if k := e.child(n); k != nil && readBool(e, n, false, probs) {
			probs.at(k, reason)
		}
	}
}

// refuseSet reports each child of e in names whose value is not empty.
func refuseSet(e *elem, probs *importProblems, reason string, names ...string) {
	for _, n := range names {
		if k := e.child(n); k != nil && strings.TrimSpace(k.text) != "" {
			probs.at(k, reason)
		}
	}
}

// Native output (PROVIDERS.md §8.1 names).

type impOut struct {
	Rules []*impRule `json:"rules"`
}

type impRule struct {
	Mode            string       `json:"mode"`
	Resource        string       `json:"resource,omitempty"`
	Match           *impMatch    `json:"match,omitempty"`
	On              any          `json:"on,omitempty"`
	SourceURLs      []string     `json:"sourceUrls,omitempty"`
	BackSourceURLs  []string     `json:"backSourceUrls,omitempty"`
	SourceWeights   []int        `json:"sourceWeights,omitempty"`
	Pick            string       `json:"pick,omitempty"`
	FailoverOn      []any        `json:"failoverOn,omitempty"`
	Scheme          string       `json:"scheme,omitempty"`
	Rewrite         *impRewrite  `json:"rewrite,omitempty"`
	Redirect        *impRedirect `json:"redirect,omitempty"`
	PassQueryString *bool        `json:"passQuerystring,omitempty"`
	PassHeaders     []string     `json:"passHeaders,omitempty"`
	IgnoreHeaders   []string     `json:"ignoreHeaders,omitempty"`
	CustomHeaders   []Header     `json:"customHeaders,omitempty"`
	KeepSlashes     bool         `json:"keepSlashes,omitempty"`
	Fetch           *impFetch    `json:"fetch,omitempty"`
	StorageClass    string       `json:"storageClass,omitempty"`
}

type impMatch struct {
	Prefix   string           `json:"prefix,omitempty"`
	Suffix   string           `json:"suffix,omitempty"`
	Headers  []impMatchHeader `json:"headers,omitempty"`
	Hosts    []string         `json:"hosts,omitempty"`
	NotHosts []string         `json:"notHosts,omitempty"`
	Methods  []string         `json:"methods,omitempty"`
}

type impMatchHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type impRewrite struct {
	Key           string            `json:"key,omitempty"`
	ReplacePrefix *impReplacePrefix `json:"replacePrefix,omitempty"`
	ReplaceSuffix *impReplaceSuffix `json:"replaceSuffix,omitempty"`
	AddPrefix     string            `json:"addPrefix,omitempty"`
	AddSuffix     string            `json:"addSuffix,omitempty"`
}

type impReplacePrefix struct {
	From string `json:"from"`
	To   string `json:"to"`
	Join string `json:"join"`
}

type impReplaceSuffix struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type impRedirect struct {
	Host   string `json:"host,omitempty"`
	Scheme string `json:"scheme,omitempty"`
	Code   int    `json:"code"`
}

type impFetch struct {
	FollowRedirects *int   `json:"followRedirects,omitempty"`
	CheckMd5        *bool  `json:"checkMd5,omitempty"`
	PassStatus      []any  `json:"passStatus,omitempty"`
	Store           *bool  `json:"store,omitempty"`
	Probe           string `json:"probe,omitempty"`
	SaveMeta        *bool  `json:"saveMeta,omitempty"`
	LastModified    string `json:"lastModified,omitempty"`
}

// finish fills resource "*" for a rule with no match (every key) and
// drops an empty match.
func (r *impRule) finish() {
	if r.Match != nil && r.Match.Prefix == "" && r.Match.Suffix == "" && len(r.Match.Headers) == 0 &&
		len(r.Match.Hosts) == 0 && len(r.Match.NotHosts) == 0 && len(r.Match.Methods) == 0 {
		r.Match = nil
	}
	if r.Match == nil || (r.Match.Prefix == "" && r.Match.Suffix == "" && len(r.Match.Headers) == 0 && len(r.Match.Hosts) == 0 && len(r.Match.NotHosts) == 0) {
		r.Resource = "*"
	}
	if r.Rewrite != nil && *r.Rewrite == (impRewrite{}) {
		r.Rewrite = nil
	}
}

func marshalImported(rules []*impRule) ([]byte, error) {
	if rules == nil {
		rules = []*impRule{}
	}
	for _, r := range rules {
		r.finish()
	}
	return json.MarshalIndent(impOut{Rules: rules}, "", "  ")
}

// followHops is the number of origin redirects followed when a provider
// says "follow" without a number (OSS documents at most 10).
const followHops = 10

func ptr[T any](v T) *T { return &v }

// literalKey escapes a literal whole-key replacement for rewrite.key,
// where "${key}" is the request key and "$$" a literal "$".
func literalKey(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// templateKey keeps each "${key}" of a provider template and escapes
// every other "$".
func templateKey(s string) string {
	parts := strings.Split(s, "${key}")
	for i, p := range parts {
		parts[i] = literalKey(p)
	}
	return strings.Join(parts, "${key}")
}

// headerNameOK is the header-name charset OSS documents ([0-9A-Za-z-]),
// which is also a subset of an HTTP token.
func headerNameOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// tokenOK: an HTTP header name (RFC 9110 token).
func tokenOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// valueOK: an HTTP header value without CR, LF or other control bytes.
func valueOK(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// sortRules orders rules by key, ties in document order.
func sortRules(rules []*impRule, keys []int) {
	idx := make([]int, len(rules))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]*impRule, len(rules))
	for i, j := range idx {
		out[i] = rules[j]
	}
	copy(rules, out)
}
