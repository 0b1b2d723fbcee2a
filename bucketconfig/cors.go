package bucketconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// CORS is a bucket's cross-origin rules (docs/SERVING.md §4.5): which web
// pages may read its objects from a browser. A bucket has none until they
// are put; the first rule that matches a request decides, as S3's do.
//
// It is read from S3's CORSConfiguration XML (ParseS3CORS), BOS's JSON
// (ParseBOSCORS) or either (ParseCORS), always validated, and stored in
// one canonical JSON form of its own (Encode, DecodeCORS), so that every
// gateway reads back the same rules whichever dialect put them.
type CORS struct {
	Rules []CORSRule `json:"rules"`
}

// CORSRule is one rule: the origins it allows, each with at most one "*"
// standing for any run of characters; the methods (S3's set: GET, PUT,
// POST, DELETE, HEAD, in capitals); the request headers a preflight may
// name (case-insensitive, each with at most one "*"); the response
// headers a page may read; and how long a browser may keep a preflight's
// answer.
type CORSRule struct {
	// ID is S3's name for the rule (BOS has none), at most 255 bytes.
	ID             string   `json:"id,omitempty"`
	AllowedOrigins []string `json:"allowedOrigins"`
	AllowedMethods []string `json:"allowedMethods"`
	AllowedHeaders []string `json:"allowedHeaders,omitempty"`
	ExposeHeaders  []string `json:"exposeHeaders,omitempty"`
	// MaxAgeSeconds is nil when the rule sets none.
	MaxAgeSeconds *int64 `json:"maxAgeSeconds,omitempty"`
}

// The limits of a CORS document, S3's: at most MaxCORSRules rules in at
// most MaxCORSSize bytes (BOS allows 20 KiB; the larger limit takes every
// document either provider does).
const (
	MaxCORSRules = 100
	MaxCORSSize  = 64 << 10
	maxCORSID    = 255
	// maxCORSProblems bounds the problems one error lists.
	maxCORSProblems = 100
)

// corsMethods are the methods a rule may name, S3's and BOS's set. Only
// GET and HEAD are answered by a read-only mirror, but a document written
// for the providers names the others too, and is taken as it is.
var corsMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD"}

// CORSError is why a CORS document was refused: every problem found, one
// "FIELD: reason" line each, the field spelt as the document's dialect
// spells it (CORSRule[2].AllowedMethod[0], corsConfiguration[0].allowedOrigins).
type CORSError struct {
	// Malformed is set when the document does not parse in its dialect:
	// not XML or JSON, a member or element the dialect does not have, a
	// value of the wrong type. Otherwise it parsed, and its values break
	// the rules above.
	Malformed bool
	Problems  []string
}

func (e *CORSError) Error() string { return strings.Join(e.Problems, "\n") }

// add records a problem at a field, up to maxCORSProblems.
func (e *CORSError) add(field, format string, args ...any) {
	if len(e.Problems) < maxCORSProblems {
		e.Problems = append(e.Problems, field+": "+fmt.Sprintf(format, args...))
	}
}

// malformed is the error of a document that does not parse.
func malformed(field, format string, args ...any) *CORSError {
	e := &CORSError{Malformed: true}
	e.add(field, format, args...)
	return e
}

// corsNames are the names a dialect gives a rule's fields, for errors.
type corsNames struct {
	rules, id, origins, methods, headers, expose, maxAge string
}

var storedNames = corsNames{"rules", "id", "allowedOrigins", "allowedMethods", "allowedHeaders", "exposeHeaders", "maxAgeSeconds"}

// validate checks the rules, naming fields as names says.
func (c *CORS) validate(n corsNames) error {
	e := &CORSError{}
	switch {
	case len(c.Rules) == 0:
		e.add(n.rules, "at least one rule is needed (a DELETE of ?cors removes them all)")
	case len(c.Rules) > MaxCORSRules:
		e.add(n.rules, "%d rules, over the %d a bucket may have", len(c.Rules), MaxCORSRules)
	}
	for i, r := range c.Rules {
		at := fmt.Sprintf("%s[%d].", n.rules, i)
		if len(r.ID) > maxCORSID {
			e.add(at+n.id, "%d bytes, over %d", len(r.ID), maxCORSID)
		}
		if len(r.AllowedOrigins) == 0 {
			e.add(at+n.origins, "at least one origin is needed")
		}
		for j, o := range r.AllowedOrigins {
			if why := badOrigin(o); why != "" {
				e.add(fmt.Sprintf("%s%s[%d]", at, n.origins, j), "%q %s", o, why)
			}
		}
		if len(r.AllowedMethods) == 0 {
			e.add(at+n.methods, "at least one method is needed")
		}
		for j, m := range r.AllowedMethods {
			if !contains(corsMethods, m) {
				e.add(fmt.Sprintf("%s%s[%d]", at, n.methods, j), "%q is not GET, PUT, POST, DELETE or HEAD (in capitals)", m)
			}
		}
		for j, h := range r.AllowedHeaders {
			if !headerToken(h) || strings.Count(h, "*") > 1 {
				e.add(fmt.Sprintf("%s%s[%d]", at, n.headers, j), "%q is not a header name with at most one *", h)
			}
		}
		for j, h := range r.ExposeHeaders {
			if !headerToken(h) {
				e.add(fmt.Sprintf("%s%s[%d]", at, n.expose, j), "%q is not a header name", h)
			}
		}
		if m := r.MaxAgeSeconds; m != nil && (*m < 0 || *m > math.MaxInt32) {
			e.add(at+n.maxAge, "%d is not 0 to %d", *m, math.MaxInt32)
		}
	}
	if len(e.Problems) > 0 {
		return e
	}
	return nil
}

// badOrigin says what is wrong with an allowed origin, or "". An origin
// is matched, never sent (an answer echoes the request's Origin), but it
// is written back by GET ?cors, so it must be plain text: printable ASCII
// without spaces, quotes, commas or angle brackets.
func badOrigin(o string) string {
	if o == "" {
		return "is empty"
	}
	if strings.Count(o, "*") > 1 {
		return "has more than one *"
	}
	for i := 0; i < len(o); i++ {
		if c := o[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>,\`, c) >= 0 {
			return "holds a byte an origin can not hold"
		}
	}
	return ""
}

// headerToken reports whether s is an HTTP token (RFC 9110 §5.6.2): what
// a header name is.
func headerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Encode returns the rules' canonical form, what a Store keeps: JSON with
// the fields of CORSRule, HTML characters unescaped.
func (c *CORS) Encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(c) // plain strings and numbers: it always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// DecodeCORS reads rules in their canonical form, as Encode wrote them,
// and validates them again: a Store's record may have been written by
// another tool.
func DecodeCORS(doc []byte) (*CORS, error) {
	if len(doc) > 4*MaxCORSSize {
		return nil, malformed("rules", "%d bytes, more than any document gives", len(doc))
	}
	var c CORS
	if err := decodeJSON(doc, &c); err != nil {
		return nil, err
	}
	if err := c.validate(storedNames); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeJSON decodes one JSON value into v, strictly: no member v does not
// have, and nothing after the value. Errors are a malformed *CORSError.
func decodeJSON(doc []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
			return malformed(te.Field, "a JSON %s where %s belongs", te.Value, te.Type)
		}
		return malformed("document", "not the JSON expected: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if len(bytes.TrimSpace(doc[dec.InputOffset():])) > 0 {
		return malformed("document", "more after the JSON value")
	}
	return nil
}
