package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Exporting an engine's rules as a document of a format (docs/SEMANTICS.md
// §12.1): Export writes what the format can say, so that the document,
// loaded with that format, decides every request as the engine does, and
// refuses, rule by rule and field by field, what the format can not say.
// The native, BOS and QingStor exporters are here, the OBS and TOS ones in
// export_json.go, the OSS, S3 and COS ones in export_xml.go.

// Export writes the engine's rules as a document of format f, which
// Load(doc, f) reads back into an engine that decides every request as e
// does: the same mode, URLs, redirect code, headers, storage class and
// Policy, from the rule of the same index.
//
// FormatNative takes every engine: it is the rules of Rule(i) as
// {"rules": [...]}. Any other format can say less than the native model;
// what it can not say is an error, never dropped: a *CompileError whose
// problems are named by the engine's own native path ("rules[3].match.suffix",
// "rules[0].failoverOn", or "rules" for the rule count), with a Reason
// saying what the format lacks, every problem of every rule at once.
// FormatAuto is refused at "format": it names no document to write.
func (e *Engine) Export(f Format) ([]byte, error) {
	switch f {
	case FormatNative:
		return exportNativeDoc(e)
	case FormatBOS:
		return exportBOS(e)
	case FormatQingStor:
		return exportQingStor(e)
	case FormatOSS:
		return exportOSS(e)
	case FormatS3:
		return exportS3(e)
	case FormatCOS:
		return exportCOS(e)
	case FormatOBS:
		return exportOBS(e)
	case FormatTOS:
		return exportTOS(e)
	}
	return nil, &CompileError{Problems: []*FieldError{{Path: "format", Rule: -1, Field: "format",
		Reason: fmt.Sprintf("%q is not a format a document can be written in: bos, qingstor, native, oss, cos, s3, obs or tos", string(f))}}}
}

// convProblems collects the problems of one export, each named by the
// source engine's native path: "rules[i].FIELD", or "rules" for the
// rule list.
type convProblems struct {
	list []*FieldError
	more int
}

// add records a problem of rule i (-1: the rule list) at field ("" for
// the rule itself).
func (c *convProblems) add(i int, field, reason string) {
	if len(c.list) == MaxProblems {
		c.more++
		return
	}
	path := "rules"
	if i >= 0 {
		path += "[" + strconv.Itoa(i) + "]"
		if field != "" {
			path += "." + field
		}
	}
	c.list = append(c.list, &FieldError{Path: path, Rule: i, Field: field, Reason: reason})
}

func (c *convProblems) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return &CompileError{Problems: c.list, More: c.more}
}

// convMarshal writes v as indented JSON without HTML escapes, ending in
// a newline.
func convMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// exportNativeDoc writes every rule as Engine.Rule gives it: a native
// document that loads back into the same rules.
func exportNativeDoc(e *Engine) ([]byte, error) {
	doc := struct {
		Rules []Rule `json:"rules"`
	}{make([]Rule, e.Len())}
	for i := range doc.Rules {
		doc.Rules[i] = e.Rule(i)
	}
	return convMarshal(doc)
}

// convExtendedFields names the fields of the extended model (§11) that r
// uses, in the order of Rule's fields.
func convExtendedFields(r *Rule) []string {
	var out []string
	if r.Mode == ModeRedirectFetch {
		out = append(out, "mode")
	}
	if r.Match != nil {
		out = append(out, "match")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"on", r.On != nil}, {"sourceUrls", r.SourceURLs != nil}, {"backSourceUrls", r.BackSourceURLs != nil},
		{"sourceWeights", r.SourceWeights != nil}, {"pick", r.Pick != ""}, {"failoverOn", r.FailoverOn != nil},
		{"scheme", r.Scheme != ""}, {"rewrite", r.Rewrite != nil}, {"redirect", r.Redirect != nil},
		{"keepSlashes", r.KeepSlashes != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return append(out, convFetchFields(r.Fetch)...)
}

// convFetchFields names what fetch sets: "fetch" for its first options
// (or an empty fetch), and fetch.probe, fetch.saveMeta and
// fetch.lastModified each by its own path.
func convFetchFields(f *FetchOptions) []string {
	if f == nil {
		return nil
	}
	var out []string
	first := f.FollowRedirects != 0 || f.CheckMD5 || f.PassStatus != nil || f.Store != nil
	if first || f.Probe == "" && !f.SaveMeta && f.LastModified == "" {
		out = append(out, "fetch")
	}
	for _, o := range []struct {
		name string
		set  bool
	}{{"fetch.probe", f.Probe != ""}, {"fetch.saveMeta", f.SaveMeta}, {"fetch.lastModified", f.LastModified != ""}} {
		if o.set {
			out = append(out, o.name)
		}
	}
	return out
}

// exportBOS writes a BOS PutBucketMirroring body. BOS says only the
// fields of §2 without redirectCode and resourceSyntax, in 1 to 20
// rules no two of which cover a common key, with at most 10 names in
// each header list and one "*" per resource: a rule of the extended
// model (which has a Policy, or conditions, BOS has neither), a redirect
// code other than 302 on a redirect rule, or a glob is refused; the rest
// is checked by loading the document as BOS, whose problems are named
// back in the engine's terms.
func exportBOS(e *Engine) ([]byte, error) {
	var c convProblems
	if n := e.Len(); n < 1 || n > bosMaxRules {
		c.add(-1, "", fmt.Sprintf("has %d rules; BOS takes 1 to %d", n, bosMaxRules))
	}
	rules := make([]Rule, e.Len())
	for i := range rules {
		r := e.Rule(i)
		for _, f := range convExtendedFields(&r) {
			reason := "is a field of the extended native model, which BOS does not have"
			if f == "mode" {
				reason = "redirectFetch is not a BOS mode (BOS has fetch and redirect)"
			}
			c.add(i, f, reason)
		}
		if r.Mode == ModeRedirect && r.RedirectCode != 0 && r.RedirectCode != 302 {
			c.add(i, "redirectCode", fmt.Sprintf("%d: BOS redirects with 302 only (it has no redirectCode)", r.RedirectCode))
		}
		if r.ResourceSyntax == "glob" {
			c.add(i, "resourceSyntax", "glob: BOS resources are wildcards with at most one \"*\"")
		}
		// What BOS ignores, and what a fetch decision does not carry, is
		// not written.
		w := Rule{
			Mode: r.Mode, SourceURL: r.SourceURL, BackSourceURL: r.BackSourceURL, Resource: r.Resource,
			Prefix: r.Prefix, Suffix: r.Suffix, FixedKey: r.FixedKey, Version: r.Version, PrefixReplace: r.PrefixReplace,
			PassQueryString: r.PassQueryString, StorageClass: r.StorageClass,
			PassHeaders: r.PassHeaders, IgnoreHeaders: r.IgnoreHeaders, CustomHeaders: r.CustomHeaders,
		}
		if w.Resource == "" && r.Match != nil {
			// For the overlap check only: a rule by prefix covers what
			// "PREFIX*" covers. It is refused above.
			w.Resource = r.Match.Prefix + "*"
		}
		rules[i] = w
	}
	doc := struct {
		Rules []Rule `json:"bucketMirroringConfiguration"`
	}{rules}
	out, err := convMarshal(doc)
	if err != nil {
		return nil, err
	}
	if len(c.list) == 0 || (e.Len() >= 1 && e.Len() <= bosMaxRules) {
		convLoadBack(&c, out, FormatBOS, "bucketMirroringConfiguration[", e.Len())
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// convLoadBack loads a written document with its format and adds its
// problems, named back in the engine's terms (the rule order is the
// engine's, so rules[i] is the document's rule i), except those of a rule
// that already has one and the document-level ones, which the exporter
// has reported itself. list is how the format's paths start; rules is
// the format's rule count for a document without a list (QingStor).
func convLoadBack(c *convProblems, doc []byte, f Format, list string, rules int) {
	_, err := Compiler{AllowPrivateOrigins: true}.Load(doc, f)
	var ce *CompileError
	if !errors.As(err, &ce) {
		return
	}
	failed := map[int]bool{}
	for _, p := range c.list {
		failed[p.Rule] = true
	}
	for _, p := range ce.Problems {
		i, field := p.Rule, p.Field
		if f == FormatQingStor {
			i, field = 0, "sourceUrl"
		}
		if i < 0 || i >= rules || failed[i] {
			continue
		}
		c.add(i, field, f.name()+" refuses it: "+strings.ReplaceAll(p.Reason, list, "rules["))
	}
}

// name is the format's name for people.
func (f Format) name() string {
	switch f {
	case FormatBOS:
		return "BOS"
	case FormatQingStor:
		return "QingStor"
	case FormatOSS, FormatCOS, FormatOBS, FormatTOS:
		return strings.ToUpper(string(f))
	case FormatS3:
		return "S3"
	}
	return string(f)
}

// exportQingStor writes a QingStor external mirror body,
// {"source_site": URL}: QingStor says one thing, a fetch of every key
// from one http or https origin, the key as it is. Every other rule, and
// every other field, is refused.
func exportQingStor(e *Engine) ([]byte, error) {
	var c convProblems
	if e.Len() != 1 {
		c.add(-1, "", fmt.Sprintf("has %d rules; a QingStor document is one rule that fetches every key from source_site", e.Len()))
		return nil, c.err()
	}
	r := e.Rule(0)
	const lacks = "QingStor has one origin and fetches the key as it is, with nothing else"
	for _, f := range convExtendedFields(&r) {
		c.add(0, f, "is a field of the extended native model, which QingStor does not have")
	}
	if r.Mode == ModeRedirect {
		c.add(0, "mode", "redirect: QingStor fetches only")
	}
	if r.Resource != "" && (r.Resource != "*" || r.ResourceSyntax == "glob") {
		c.add(0, "resource", fmt.Sprintf("%q: QingStor's rule covers every key (\"*\")", r.Resource))
	}
	for _, f := range []struct{ name, v string }{
		{"backSourceUrl", r.BackSourceURL}, {"prefix", r.Prefix}, {"suffix", r.Suffix}, {"fixedKey", r.FixedKey},
		{"prefixReplace", r.PrefixReplace}, {"storageClass", r.StorageClass},
	} {
		if f.v != "" {
			c.add(0, f.name, "is set: "+lacks)
		}
	}
	if r.Version == "v2" {
		c.add(0, "version", "v2 drops a key's leading \"/\": "+lacks)
	}
	if r.PassQueryString {
		c.add(0, "passQuerystring", "is true: "+lacks+" (no query)")
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"passHeaders", len(r.PassHeaders)}, {"ignoreHeaders", len(r.IgnoreHeaders)}, {"customHeaders", len(r.CustomHeaders)}} {
		if f.n > 0 {
			c.add(0, f.name, "is set: QingStor sends no headers of a rule's")
		}
	}
	out, err := convMarshal(map[string]string{"source_site": r.SourceURL})
	if err != nil {
		return nil, err
	}
	convLoadBack(&c, out, FormatQingStor, "source_site", 1)
	if err := c.err(); err != nil {
		return nil, err
	}
	return out, nil
}
