package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// AWS S3 website routing rules (PROVIDERS.md §3), in the XML that
// PutBucketWebsite sends and in the JSON that
// `aws s3api put-bucket-website --website-configuration` takes (an object
// with RoutingRules, or the console's bare list of rules). Paths leave the
// root out and count rules from 0: "RoutingRules.RoutingRule[2].Redirect.HostName"
// for XML, "RoutingRules[2].Redirect.HostName" for JSON.

// s3MaxRules is S3's limit on routing rules.
const s3MaxRules = 50

// s3RedirectCodes are the codes accepted: S3 takes 3XX except 300; 304 and
// 305 are not redirects (304 Not Modified, 305 Use Proxy) and 306 is
// unused, so they are refused.
var s3RedirectCodes = []int{301, 302, 303, 307, 308}

func s3RuleSchema() *xmlSchema {
	rule := boxes(map[string]*xmlSchema{
		"Condition": box(map[string]*xmlSchema{"KeyPrefixEquals": leaf(), "HttpErrorCodeReturnedEquals": leaf()}),
		"Redirect": box(map[string]*xmlSchema{"Protocol": leaf(), "HostName": leaf(), "ReplaceKeyPrefixWith": leaf(),
			"ReplaceKeyWith": leaf(), "HttpRedirectCode": leaf()}),
	})
	rule.rule = true
	return rule
}

func s3TopKids() map[string]*xmlSchema {
	return map[string]*xmlSchema{
		"IndexDocument":         box(map[string]*xmlSchema{"Suffix": leaf()}),
		"ErrorDocument":         box(map[string]*xmlSchema{"Key": leaf()}),
		"RedirectAllRequestsTo": box(map[string]*xmlSchema{"HostName": leaf(), "Protocol": leaf()}),
	}
}

var s3XMLSchema = func() *xmlSchema {
	kids := s3TopKids()
	kids["RoutingRules"] = box(map[string]*xmlSchema{"RoutingRule": s3RuleSchema()})
	return box(kids)
}()

var s3JSONSchema = func() *xmlSchema {
	kids := s3TopKids()
	kids["RoutingRules"] = s3RuleSchema() // a JSON list of rule objects
	return box(kids)
}()

// importS3 turns an S3 PutBucketWebsite XML body into a native document.
func importS3(data []byte) ([]byte, error) {
	var probs importProblems
	top := readXML(data, "WebsiteConfiguration", s3XMLSchema, &probs)
	if top == nil {
		return nil, probs.err()
	}
	return importS3Tree(top, top.child("RoutingRules").all("RoutingRule"), "RoutingRules", &probs)
}

// importS3JSON turns the JSON of `aws s3api put-bucket-website
// --website-configuration` (or the console's bare list of routing rules)
// into a native document.
func importS3JSON(data []byte) ([]byte, error) {
	var probs importProblems
	top := readJSON(data, s3JSONSchema, "RoutingRules", &probs)
	if top == nil {
		return nil, probs.err()
	}
	return importS3Tree(top, top.all("RoutingRules"), "RoutingRules", &probs)
}

func importS3Tree(top *elem, items []*elem, listPath string, probs *importProblems) ([]byte, error) {
	var rules []*impRule
	if all := top.child("RedirectAllRequestsTo"); all != nil {
		for _, n := range []string{"IndexDocument", "ErrorDocument", "RoutingRules"} {
			if top.has(n) {
				probs.at(top.child(n), "RedirectAllRequestsTo excludes IndexDocument, ErrorDocument and RoutingRules")
			}
		}
		rd := &impRedirect{Code: 301}
		h, _ := all.str("HostName")
		if !hostNameOK(h) {
			probs.in(all, "HostName", "is required: a host name")
		}
		rd.Host = h
		if p, ok := all.str("Protocol"); ok {
			if p != "http" && p != "https" {
				probs.at(all.child("Protocol"), quoteShort(p)+" is not http or https")
			}
			rd.Scheme = p
		}
		rules = append(rules, &impRule{Mode: "redirect", On: "always", Redirect: rd, PassQueryString: ptr(false)})
	}
	if len(items) > s3MaxRules {
		probs.add(listPath, -1, listPath, fmt.Sprintf("has %d rules; S3 allows at most %d", len(items), s3MaxRules))
	}
	for _, it := range items {
		rules = append(rules, importS3Rule(it, probs))
	}
	if probs.failed() {
		return nil, probs.err()
	}
	return marshalImported(rules)
}

func importS3Rule(it *elem, probs *importProblems) *impRule {
	r := &impRule{Mode: "redirect", Match: &impMatch{}, On: "always", PassQueryString: ptr(false)}
	cond := it.child("Condition")
	prefix, hasPrefix := cond.str("KeyPrefixEquals")
	if cond != nil && !hasPrefix && !cond.has("HttpErrorCodeReturnedEquals") {
		probs.at(cond, "needs KeyPrefixEquals or HttpErrorCodeReturnedEquals (leave Condition out to match every request)")
	}
	r.Match.Prefix = prefix
	if k := cond.child("HttpErrorCodeReturnedEquals"); k != nil {
		if n, ok := parseIntIn(k, strings.TrimSpace(k.text), 400, 599, probs); ok {
			r.On = []any{n}
		}
	}
	red := it.child("Redirect")
	if red == nil || len(red.kids) == 0 {
		probs.in(it, "Redirect", "is required, with at least one of Protocol, HostName, ReplaceKeyPrefixWith, "+
			"ReplaceKeyWith and HttpRedirectCode")
		return r
	}
	rd := &impRedirect{Code: 301}
	if p, ok := red.str("Protocol"); ok {
		if p == "http" || p == "https" {
			rd.Scheme = p
		} else {
			probs.at(red.child("Protocol"), "Invalid protocol, protocol can be http or https. If not defined the "+
				"protocol will be selected automatically.")
		}
	}
	if h, ok := red.str("HostName"); ok {
		if hostNameOK(h) {
			rd.Host = h
		} else {
			probs.at(red.child("HostName"), quoteShort(h)+" is not a host name")
		}
	}
	if c, ok := readCode(red, "HttpRedirectCode", s3RedirectCodes, probs); ok {
		rd.Code = c
	}
	r.Redirect = rd
	with, hasWith := red.str("ReplaceKeyWith")
	pw, hasPW := red.str("ReplaceKeyPrefixWith")
	switch {
	case hasWith && hasPW:
		probs.at(red.child("ReplaceKeyWith"), "ReplaceKeyWith and ReplaceKeyPrefixWith exclude each other")
	case hasWith:
		r.Rewrite = &impRewrite{Key: literalKey(with)}
	case hasPW:
		r.Rewrite = &impRewrite{ReplacePrefix: &impReplacePrefix{From: prefix, To: pw, Join: "concat"}}
	}
	return r
}

// readJSON reads a provider JSON document into an element tree, checked
// against schema with the same limits as readXML: unknown and repeated
// members are refused at their path, lists are allowed only where the
// schema says repeated. A top-level list is read as the member bareList.
func readJSON(data []byte, schema *xmlSchema, bareList string, probs *importProblems) *elem {
	if len(data) > maxImportBytes {
		probs.doc(fmt.Sprintf("is %d bytes; at most %d are read", len(data), maxImportBytes))
		return nil
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		probs.doc(jsonReason(data, err))
		return nil
	}
	jr := &jsonReader{d: json.NewDecoder(bytes.NewReader(data)), probs: probs}
	jr.d.UseNumber()
	top := &elem{rule: -1}
	trimmed := bytes.TrimSpace(data)
	var err error
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		err = jr.list(top, bareList, schema.kids[bareList], 1)
	case len(trimmed) > 0 && trimmed[0] == '{':
		_, _ = jr.d.Token()
		err = jr.object(top, schema, 1)
	default:
		probs.doc(jsonReason(data, errors.New("not an object")))
		return nil
	}
	if err != nil {
		probs.doc(err.Error())
		return nil
	}
	return top
}

type jsonReader struct {
	d        *json.Decoder
	probs    *importProblems
	elements int
}

func (jr *jsonReader) count(depth int) error {
	jr.elements++
	if jr.elements > maxImportElements {
		return fmt.Errorf("has more than %d values", maxImportElements)
	}
	if depth > maxImportDepth {
		return fmt.Errorf("nests values deeper than %d", maxImportDepth)
	}
	return nil
}

// object reads the members of an object whose '{' was read.
func (jr *jsonReader) object(e *elem, s *xmlSchema, depth int) error {
	seen := map[string]bool{}
	for jr.d.More() {
		tok, err := jr.d.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		if err := jr.count(depth); err != nil {
			return err
		}
		ks := s.child(name)
		path := joinPath(e.path, name)
		field := joinPath(e.field, name)
		switch {
		case ks == nil:
			jr.probs.add(path, e.rule, fieldIn(e, field, path), fmt.Sprintf("unknown member %s", quoteShort(name)))
			if err := jr.skip(depth + 1); err != nil {
				return err
			}
			continue
		case seen[name]:
			jr.probs.add(path, e.rule, fieldIn(e, field, path), "occurs twice")
			if err := jr.skip(depth + 1); err != nil {
				return err
			}
			continue
		}
		seen[name] = true
		if ks.repeated {
			if err := jr.list(e, name, ks, depth+1); err != nil {
				return err
			}
			continue
		}
		k := &elem{name: name, path: path, rule: e.rule, field: field}
		if err := jr.value(k, ks, depth+1); err != nil {
			return err
		}
		e.kids = append(e.kids, k)
	}
	_, err := jr.d.Token() // '}'
	return err
}

func fieldIn(e *elem, field, path string) string {
	if e.rule < 0 {
		return path
	}
	return field
}

// list reads a JSON list of the repeated member name into e.
func (jr *jsonReader) list(e *elem, name string, s *xmlSchema, depth int) error {
	path := joinPath(e.path, name)
	tok, err := jr.d.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		jr.probs.add(path, e.rule, fieldIn(e, joinPath(e.field, name), path), "must be a list")
		return jr.skipRest(tok, depth)
	}
	for i := 0; jr.d.More(); i++ {
		if err := jr.count(depth); err != nil {
			return err
		}
		seg := name + "[" + strconv.Itoa(i) + "]"
		k := &elem{name: name, path: joinPath(e.path, seg), rule: e.rule, field: joinPath(e.field, seg)}
		if s.rule {
			k.rule, k.field = i, ""
		}
		if err := jr.value(k, s, depth+1); err != nil {
			return err
		}
		e.kids = append(e.kids, k)
	}
	_, err = jr.d.Token() // ']'
	return err
}

// value reads one value into k.
func (jr *jsonReader) value(k *elem, s *xmlSchema, depth int) error {
	tok, err := jr.d.Token()
	if err != nil {
		return err
	}
	if s.isLeaf() {
		switch v := tok.(type) {
		case string:
			if len(v) > maxImportText {
				jr.probs.at(k, fmt.Sprintf("is longer than %d bytes", maxImportText))
			}
			k.text = v
		case json.Number:
			k.text = v.String()
		default:
			jr.probs.at(k, "must be a string")
			return jr.skipRest(tok, depth)
		}
		return nil
	}
	if tok != json.Delim('{') {
		jr.probs.at(k, "must be an object")
		return jr.skipRest(tok, depth)
	}
	return jr.object(k, s, depth)
}

// skip reads and drops one value.
func (jr *jsonReader) skip(depth int) error {
	tok, err := jr.d.Token()
	if err != nil {
		return err
	}
	return jr.skipRest(tok, depth)
}

// skipRest drops the rest of a value whose first token was tok.
func (jr *jsonReader) skipRest(tok json.Token, depth int) error {
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		for jr.d.More() {
			if d == '{' {
				if _, err := jr.d.Token(); err != nil {
					return err
				}
			}
			if err := jr.count(depth); err != nil {
				return err
			}
			if err := jr.skip(depth + 1); err != nil {
				return err
			}
		}
		_, err := jr.d.Token()
		return err
	}
	return nil
}
