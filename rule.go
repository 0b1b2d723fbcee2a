package mirror

import (
	"encoding/json"
	"strconv"
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
// field is its default; docs/SEMANTICS.md §2 says what each does.
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

	// The extended model (native only; docs/SEMANTICS.md §11).

	// Match holds conditions beside the resource; with Match.Prefix the
	// resource may be omitted.
	Match *Match `json:"match,omitempty"`
	// On is the trigger: which statuses of the stored key the rule
	// answers (unset: a miss).
	On Trigger `json:"on,omitempty"`
	// SourceURLs and BackSourceURLs are the primaries and the backups,
	// at most 10 each, in the sourceUrl grammar; instead of SourceURL and
	// BackSourceURL, not beside them.
	SourceURLs     []string `json:"sourceUrls,omitempty"`
	BackSourceURLs []string `json:"backSourceUrls,omitempty"`
	// SourceWeights are the primaries' weights, one each, for Pick
	// weighted (the default when weights are given).
	SourceWeights []int `json:"sourceWeights,omitempty"`
	// Pick is how the serving layer picks among the primaries.
	Pick Pick `json:"pick,omitempty"`
	// FailoverOn are the origin outcomes after which the serving layer
	// tries the next origin: codes, "4xx", "5xx", "timeout", "connection".
	FailoverOn StatusList `json:"failoverOn,omitempty"`
	// Scheme, when set, is the scheme of every origin ("http", "https",
	// or "request": the request's own); the origin URLs are then written
	// without one.
	Scheme string `json:"scheme,omitempty"`
	// Rewrite is the native origin-key rewrite; it can not be combined
	// with fixedKey, prefix, suffix, prefixReplace or version.
	Rewrite *Rewrite `json:"rewrite,omitempty"`
	// Redirect is a redirect's target and code when it is not an origin.
	Redirect *Redirect `json:"redirect,omitempty"`
	// KeepSlashes unset or true writes the origin key's slashes as they
	// are; false merges each run of "/" into one (OSS's default).
	KeepSlashes *bool `json:"keepSlashes,omitempty"`
	// Fetch are options carried to the serving layer.
	Fetch *FetchOptions `json:"fetch,omitempty"`
}

// extended reports whether r uses a field of the extended model.
func (r *Rule) extended() bool {
	return r.Match != nil || r.On != nil || r.SourceURLs != nil || r.BackSourceURLs != nil ||
		r.SourceWeights != nil || r.Pick != "" || r.FailoverOn != nil || r.Scheme != "" ||
		r.Rewrite != nil || r.Redirect != nil || r.KeepSlashes != nil || r.Fetch != nil || r.Mode == ModeRedirectFetch
}

// Header is a header that a rule sets on every origin request.
type Header struct {
	Name  string `json:"headerName"`
	Value string `json:"headerValue"`
}

// Format names a kind of rules document.
type Format string

// The document formats [Load] reads.
const (
	// FormatAuto picks the format from the document's top-level member:
	// bucketMirroringConfiguration (bos), then source_site (qingstor),
	// then rules (native). A document with none of them is an error, so
	// that a misspelt member never compiles into an engine that matches
	// nothing.
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

// maxFieldLen bounds every URL and string field of a rule.
const maxFieldLen = 1024

// ModeRedirectFetch redirects the client to the origin, as ModeRedirect
// does, and also has the object fetched and stored, as ModeFetch does
// (COS "Proxy" mode, TOS asynchronous mirroring): its decision carries
// the fetch's URLs, headers and policy and the redirect's code. It is a
// native-only mode (docs/SEMANTICS.md §11).
const ModeRedirectFetch Mode = "redirectFetch"

// The extended model (docs/SEMANTICS.md §11). Every field is native-only
// and optional; its zero value is the behaviour of a rule without it.

// Match holds a rule's conditions beside its resource. All of them must
// hold for the rule to decide; when one does not, the next rule that
// covers the key is considered.
type Match struct {
	// Prefix is the literal every covered key starts with. A rule with a
	// match may omit resource; it then covers Prefix followed by
	// anything. Prefix and resource may not both be set.
	Prefix string `json:"prefix,omitempty"`
	// Suffix is a literal the key must end with, checked independently of
	// Prefix: the two may overlap ("ab" has prefix "ab" and suffix "b").
	Suffix string `json:"suffix,omitempty"`
	// Headers must all be in the request, each with a value equal to
	// Value byte for byte (one value of a repeated header is enough).
	// Names match ASCII case-insensitively.
	Headers []MatchHeader `json:"headers,omitempty"`
	// Hosts, when set, must hold Request.Host (without its port,
	// case-insensitively); NotHosts must not.
	Hosts    []string `json:"hosts,omitempty"`
	NotHosts []string `json:"notHosts,omitempty"`
	// Methods, when set, must hold Request.Method ("" is GET),
	// ASCII case-insensitively.
	Methods []string `json:"methods,omitempty"`
}

// MatchHeader is one header condition of a Match.
type MatchHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Trigger is a rule's "on": which statuses of the stored key the rule
// answers. Unset and ["miss"] are a miss (Request.Status 0 or 404);
// ["always"] is every status; otherwise each element is a status code in
// decimal ("403") or a class ("4xx", "5xx"). In JSON it is "miss",
// "always" or a list of numbers and class strings.
type Trigger []string

// StatusList is a list of status codes in decimal and names such as
// "5xx", "timeout" or "connection"; in JSON codes are numbers and names
// strings (fetch.passStatus, failoverOn).
type StatusList []string

// Pick says how the serving layer picks among a rule's primaries.
type Pick string

// The values of Rule.Pick.
const (
	// PickOrdered tries the primaries in order (the default).
	PickOrdered Pick = "ordered"
	// PickRandom picks a primary at random, then the others.
	PickRandom Pick = "random"
	// PickWeighted picks a primary at random by Rule.SourceWeights.
	PickWeighted Pick = "weighted"
)

// Rewrite is the native origin-key rewrite, applied in its field order
// (docs/SEMANTICS.md §11.3): Key, ReplacePrefix, ReplaceSuffix, then
// AddPrefix and AddSuffix around the result.
type Rewrite struct {
	// Key replaces the whole key; "${key}" in it stands for the request's
	// key and "$$" for one "$". Any other "$" is a compile error.
	Key string `json:"key,omitempty"`
	// ReplacePrefix replaces a leading From of the key.
	ReplacePrefix *ReplacePrefix `json:"replacePrefix,omitempty"`
	// ReplaceSuffix replaces a trailing From of the key.
	ReplaceSuffix *ReplaceSuffix `json:"replaceSuffix,omitempty"`
	// AddPrefix and AddSuffix are put around the key last.
	AddPrefix string `json:"addPrefix,omitempty"`
	AddSuffix string `json:"addSuffix,omitempty"`
}

// ReplacePrefix replaces a leading From with To. From nil is the rule's
// match prefix; From "" puts To in front of every key.
type ReplacePrefix struct {
	From *string `json:"from,omitempty"`
	To   string  `json:"to"`
	// Join is "concat" (default: To and the rest side by side) or
	// "slash" (BOS v2: the rest's leading "/" dropped, and one "/"
	// between To and a non-empty rest unless To ends in "/").
	Join string `json:"join,omitempty"`
}

// ReplaceSuffix replaces a trailing From with To.
type ReplaceSuffix struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Redirect is where a redirect sends the client when it is not to an
// origin URL: Location is Scheme://Host/ + the rewritten key. Host ""
// is the request's Host, Scheme "" the request's Scheme (http when
// unset). Code is the redirect's status (302 when 0).
type Redirect struct {
	Host   string `json:"host,omitempty"`
	Scheme string `json:"scheme,omitempty"`
	Code   int    `json:"code,omitempty"`
}

// FetchOptions are carried into the decision's Policy for the serving
// layer; they do not change matching or URLs.
type FetchOptions struct {
	// FollowRedirects is how many origin redirects to follow (0: none).
	FollowRedirects int `json:"followRedirects,omitempty"`
	// CheckMD5 asks the serving layer to check Content-MD5.
	CheckMD5 bool `json:"checkMd5,omitempty"`
	// PassStatus are origin statuses handed to the client as they are.
	// Codes and the classes "4xx" and "5xx", as COS's
	// TransparentErrorCode passes every error through.
	PassStatus StatusList `json:"passStatus,omitempty"`
	// Store false serves the fetched object without storing it (nil is
	// true).
	Store *bool `json:"store,omitempty"`
	// Probe is an http(s) URL the serving layer asks now and then to
	// learn whether the rule's primaries are up (OSS MirrorURLProbe);
	// "" asks none.
	Probe string `json:"probe,omitempty"`
	// SaveMeta keeps the origin's user metadata (x-amz-meta-*,
	// x-oss-meta-*, x-cos-meta-*, x-bce-meta-*, …) with the stored
	// object (OSS MirrorSaveOssMeta).
	SaveMeta bool `json:"saveMeta,omitempty"`
	// LastModified is the stored object's Last-Modified: "origin" (the
	// origin's, when it sends a valid one; the default) or "fetched"
	// (when it was fetched: OSS without MirrorUserLastModified).
	LastModified string `json:"lastModified,omitempty"`
}

// MarshalJSON writes "miss" and "always" as strings and a list of codes
// and classes as a JSON list.
func (t Trigger) MarshalJSON() ([]byte, error) {
	if len(t) == 1 && (t[0] == "miss" || t[0] == "always") {
		return json.Marshal(t[0])
	}
	return StatusList(t).MarshalJSON()
}

// UnmarshalJSON reads "miss", "always", or a list of status codes and
// class strings.
func (t *Trigger) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = Trigger{s}
		return nil
	}
	var l StatusList
	if err := l.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = Trigger(l)
	return nil
}

// MarshalJSON writes codes as numbers and names as strings.
func (s StatusList) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if _, ok := statusCode(v); ok {
			b = append(b, v...)
			continue
		}
		q, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b = append(b, q...)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads a list of integers and strings.
func (s *StatusList) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	out := make(StatusList, 0, len(items))
	for _, it := range items {
		v, ok := statusItem(it)
		if !ok {
			return &json.UnsupportedValueError{Str: string(it)}
		}
		out = append(out, v)
	}
	*s = out
	return nil
}

// statusItem reads one element of a status list: an integer, written
// back in decimal, or a string.
func statusItem(it json.RawMessage) (string, bool) {
	if isNull(it) {
		return "", false
	}
	var n int
	if json.Unmarshal(it, &n) == nil {
		return strconv.Itoa(n), true
	}
	return decodeString(it)
}

// statusCode reads a status code written in decimal: 100 to 599.
func statusCode(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || strconv.Itoa(n) != v || n < 100 || n > 599 {
		return 0, false
	}
	return n, true
}

// originLists gives a rule's primaries and backups, from the BOS fields
// (sourceUrl, backSourceUrl) or the extended lists, with the JSON name
// each came from: what validation and the exporters both read.
func (r *Rule) originLists() (prim []string, primField string, back []string, backField string) {
	prim, primField = r.SourceURLs, "sourceUrls"
	if r.SourceURL != "" {
		prim, primField = []string{r.SourceURL}, "sourceUrl"
	}
	back, backField = r.BackSourceURLs, "backSourceUrls"
	if r.BackSourceURL != "" {
		back, backField = []string{r.BackSourceURL}, "backSourceUrl"
	}
	return prim, primField, back, backField
}
