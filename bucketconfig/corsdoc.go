package bucketconfig

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The two dialects CORS rules come in: S3's CORSConfiguration XML, as
// aws-sdk-go-v2's PutBucketCors sends it and GetBucketCors reads it, and
// BOS's {"corsConfiguration": [...]} JSON, as bce-sdk-go's do.

var (
	s3Names  = corsNames{"CORSRule", "ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"}
	bosNames = corsNames{"corsConfiguration", "id", "allowedOrigins", "allowedMethods", "allowedHeaders", "allowedExposeHeaders", "maxAgeSeconds"}
)

// ParseCORS reads CORS rules in either dialect: S3's XML when the
// document's first character (after white space) is "<", BOS's JSON
// otherwise. It is what mirror serve -cors reads.
func ParseCORS(doc []byte) (*CORS, error) {
	if bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(doc, []byte("\ufeff")), " \t\r\n"), []byte("<")) {
		return ParseS3CORS(doc)
	}
	return ParseBOSCORS(doc)
}

// tooLarge refuses a document over MaxCORSSize before it is parsed.
func tooLarge(doc []byte, root string) error {
	if len(doc) > MaxCORSSize {
		e := &CORSError{}
		e.add(root, "%d bytes, over the %d a CORS document may have", len(doc), MaxCORSSize)
		return e
	}
	return nil
}

// The XML S3 takes. Each field that may come once is read as a list, so
// that a second one is an error rather than silently the one that counts;
// elements and text the dialect does not have are kept to be refused.
type (
	s3CORSDoc struct {
		XMLName xml.Name     `xml:"CORSConfiguration"`
		Rules   []s3CORSRule `xml:"CORSRule"`
		Text    string       `xml:",chardata"`
		Other   []xmlElement `xml:",any"`
	}
	s3CORSRule struct {
		ID            []string     `xml:"ID"`
		AllowedOrigin []string     `xml:"AllowedOrigin"`
		AllowedMethod []string     `xml:"AllowedMethod"`
		AllowedHeader []string     `xml:"AllowedHeader"`
		ExposeHeader  []string     `xml:"ExposeHeader"`
		MaxAgeSeconds []string     `xml:"MaxAgeSeconds"`
		Text          string       `xml:",chardata"`
		Other         []xmlElement `xml:",any"`
	}
	xmlElement struct{ XMLName xml.Name }
)

// ParseS3CORS reads S3's CORSConfiguration XML (at most MaxCORSSize
// bytes) and validates it. Element names are S3's, in its case; a value's
// surrounding white space is dropped. The error is a *CORSError.
func ParseS3CORS(doc []byte) (*CORS, error) {
	if err := tooLarge(doc, "CORSConfiguration"); err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var d s3CORSDoc
	if err := dec.Decode(&d); err != nil {
		return nil, malformed("CORSConfiguration", "not the XML expected: %v", strings.TrimPrefix(err.Error(), "xml: "))
	}
	if err := xmlEnd(dec); err != nil {
		return nil, err
	}
	e := &CORSError{Malformed: true}
	strayXML(e, "CORSConfiguration", d.Text, d.Other)
	c := &CORS{Rules: make([]CORSRule, len(d.Rules))}
	for i, r := range d.Rules {
		at := fmt.Sprintf("CORSRule[%d]", i)
		strayXML(e, at, r.Text, r.Other)
		out := &c.Rules[i]
		out.AllowedOrigins = trimAll(r.AllowedOrigin)
		out.AllowedMethods = trimAll(r.AllowedMethod)
		out.AllowedHeaders = trimAll(r.AllowedHeader)
		out.ExposeHeaders = trimAll(r.ExposeHeader)
		if id, ok := once(e, at+".ID", r.ID); ok {
			out.ID = id
		}
		if v, ok := once(e, at+".MaxAgeSeconds", r.MaxAgeSeconds); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				e.add(at+".MaxAgeSeconds", "%q is not a whole number of seconds", v)
			}
			out.MaxAgeSeconds = &n
		}
	}
	if len(e.Problems) > 0 {
		return nil, e
	}
	if err := c.validate(s3Names); err != nil {
		return nil, err
	}
	return c, nil
}

// xmlEnd checks that nothing but white space, comments and processing
// instructions follows the document's element.
func xmlEnd(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return malformed("CORSConfiguration", "not the XML expected: %v", strings.TrimPrefix(err.Error(), "xml: "))
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return malformed("CORSConfiguration", "text after the document")
			}
		default:
			return malformed("CORSConfiguration", "more after the document")
		}
	}
}

// strayXML records text and elements where the dialect has none.
func strayXML(e *CORSError, at, text string, other []xmlElement) {
	if strings.TrimSpace(text) != "" {
		e.add(at, "holds text outside its elements")
	}
	for _, o := range other {
		e.add(at+"."+o.XMLName.Local, "is not an element S3's CORS configuration has here")
	}
}

// once returns the one value of an element that may come at most once.
func once(e *CORSError, at string, values []string) (string, bool) {
	switch len(values) {
	case 0:
		return "", false
	case 1:
		return strings.TrimSpace(values[0]), true
	}
	e.add(at, "given %d times, at most once", len(values))
	return "", false
}

func trimAll(values []string) []string {
	if len(values) == 0 {
		return nil
	}
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

// The XML S3's GetBucketCors answers, in S3's namespace.
type (
	s3CORSOut struct {
		XMLName xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CORSConfiguration"`
		Rules   []s3CORSRuleOut `xml:"CORSRule"`
	}
	s3CORSRuleOut struct {
		ID            string   `xml:"ID,omitempty"`
		AllowedOrigin []string `xml:"AllowedOrigin"`
		AllowedMethod []string `xml:"AllowedMethod"`
		AllowedHeader []string `xml:"AllowedHeader"`
		ExposeHeader  []string `xml:"ExposeHeader"`
		MaxAgeSeconds *int64   `xml:"MaxAgeSeconds,omitempty"`
	}
)

// S3XML writes the rules as S3's GetBucketCors answers them.
func (c *CORS) S3XML() []byte {
	out := s3CORSOut{Rules: make([]s3CORSRuleOut, len(c.Rules))}
	for i, r := range c.Rules {
		out.Rules[i] = s3CORSRuleOut{r.ID, r.AllowedOrigins, r.AllowedMethods, r.AllowedHeaders, r.ExposeHeaders, r.MaxAgeSeconds}
	}
	b, _ := xml.Marshal(out) // strings and numbers: it always marshals
	return append([]byte(xml.Header), b...)
}

// The JSON BOS takes and answers (bce-sdk-go's api.PutBucketCorsArgs).
type (
	bosCORSDoc struct {
		CorsConfiguration []bosCORSRule `json:"corsConfiguration"`
	}
	bosCORSRule struct {
		AllowedOrigins       []string `json:"allowedOrigins"`
		AllowedMethods       []string `json:"allowedMethods"`
		AllowedHeaders       []string `json:"allowedHeaders,omitempty"`
		AllowedExposeHeaders []string `json:"allowedExposeHeaders,omitempty"`
		MaxAgeSeconds        *int64   `json:"maxAgeSeconds,omitempty"`
	}
)

// ParseBOSCORS reads BOS's CORS JSON, {"corsConfiguration": [{
// "allowedOrigins", "allowedMethods", "allowedHeaders",
// "allowedExposeHeaders", "maxAgeSeconds"}]} (at most MaxCORSSize bytes),
// and validates it. A member BOS does not have is an error, not ignored:
// a misspelt "allowedHeader" would otherwise allow no header. The error
// is a *CORSError.
func ParseBOSCORS(doc []byte) (*CORS, error) {
	if err := tooLarge(doc, "corsConfiguration"); err != nil {
		return nil, err
	}
	var d bosCORSDoc
	if err := decodeJSON(doc, &d); err != nil {
		return nil, err
	}
	c := &CORS{Rules: make([]CORSRule, len(d.CorsConfiguration))}
	for i, r := range d.CorsConfiguration {
		c.Rules[i] = CORSRule{AllowedOrigins: r.AllowedOrigins, AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.AllowedExposeHeaders, MaxAgeSeconds: r.MaxAgeSeconds}
	}
	if err := c.validate(bosNames); err != nil {
		return nil, err
	}
	return c, nil
}

// BOSJSON writes the rules as BOS's GetBucketCors answers them. BOS has
// no rule IDs: an S3 rule's ID is not written.
func (c *CORS) BOSJSON() []byte {
	d := bosCORSDoc{CorsConfiguration: make([]bosCORSRule, len(c.Rules))}
	for i, r := range c.Rules {
		d.CorsConfiguration[i] = bosCORSRule{r.AllowedOrigins, r.AllowedMethods, r.AllowedHeaders, r.ExposeHeaders, r.MaxAgeSeconds}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(d)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
