package mirror

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
)

// The providers' own formats (docs/SEMANTICS.md §12). Each is read by its
// importer (import_*.go), which holds the provider's limits and refusals
// and names a problem by its path in the provider's document; what it
// writes is a native document, compiled as any other is, so that every
// provider's rules mean what the native model says.
const (
	// FormatOSS is an Aliyun OSS PutBucketWebsite body: XML
	// WebsiteConfiguration with RoutingRules (RedirectType Mirror,
	// External or AliCDN).
	FormatOSS Format = "oss"
	// FormatCOS is a Tencent COS PUT Bucket origin body: XML
	// OriginConfiguration.
	FormatCOS Format = "cos"
	// FormatS3 is an AWS S3 website configuration's RoutingRules: the XML
	// of PutBucketWebsite, or the JSON aws s3api put-bucket-website takes.
	FormatS3 Format = "s3"
	// FormatOBS is a Huawei OBS PUT ?mirrorBackToSource body: JSON
	// {"rules": [...]} with OBS's own members.
	FormatOBS Format = "obs"
	// FormatTOS is a Volcengine TOS PUT ?mirror body: JSON
	// {"Rules": [...]}.
	FormatTOS Format = "tos"
)

// Formats lists every format Load reads, FormatAuto first.
var Formats = []Format{FormatAuto, FormatBOS, FormatQingStor, FormatNative, FormatOSS, FormatCOS, FormatS3, FormatOBS, FormatTOS}

// importers turn each provider's document into a native one.
var importers = map[Format]func([]byte) ([]byte, error){
	FormatOSS: importOSS,
	FormatCOS: importCOS,
	FormatS3: func(b []byte) ([]byte, error) {
		if t := bytes.TrimSpace(b); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			return importS3JSON(b)
		}
		return importS3(b)
	},
	FormatOBS: importOBS,
	FormatTOS: importTOS,
}

// detectProvider resolves FormatAuto for the documents readTop does not
// know, only where the document says which it is (docs/SEMANTICS.md
// §12): XML OriginConfiguration is COS's; XML WebsiteConfiguration is
// OSS's or S3's, which it does not say, so -format must; JSON is told
// apart by detectJSONFormat (OBS and TOS rules by their members' names),
// and a JSON object holding RoutingRules is S3's. ok is false for a
// document of a format readTop reads (or none): readTop then says why.
func detectProvider(data []byte) (f Format, ok bool, err error) {
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '<' {
		switch xmlRoot(t) {
		case "OriginConfiguration":
			return FormatCOS, true, nil
		case "WebsiteConfiguration":
			return "", true, autoError("an XML WebsiteConfiguration is Aliyun OSS's or AWS S3's, and does not say which: give the format (oss or s3)")
		}
		return "", true, autoError("an XML document is read as oss, cos or s3 only: give the format")
	}
	if name, ok := detectJSONFormat(data); ok {
		switch Format(name) {
		case FormatOBS, FormatTOS:
			return Format(name), true, nil
		}
		return "", false, nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(t, &top) == nil {
		for k := range top {
			if k == "RoutingRules" {
				return FormatS3, true, nil
			}
		}
	}
	return "", false, nil
}

// xmlRoot is the local name of an XML document's root element, "" when
// it has none in its first 64 tokens.
func xmlRoot(data []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for range 64 {
		tok, err := dec.RawToken()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
	return ""
}

// autoError is a document-level problem of FormatAuto.
func autoError(reason string) error {
	return &CompileError{Problems: []*FieldError{{Path: "format", Rule: -1, Field: "format", Reason: reason}}}
}

// importProvider compiles a provider's document: its importer's problems
// as they are, else the native document's, each named "imported RULE":
// the provider's rule order may not be its document's (OSS sorts by
// RuleNumber), so the native path is what says which rule.
func (c Compiler) importProvider(data []byte, f Format) (*Engine, error) {
	native, err := importers[f](data)
	if err != nil {
		return nil, err
	}
	eng, err := c.Load(native, FormatNative)
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				p.Path = "imported " + p.Path
			}
		}
		return nil, err
	}
	eng.format = f
	return eng, nil
}
