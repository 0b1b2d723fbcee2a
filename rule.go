package mirror

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
