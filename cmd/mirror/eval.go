package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	"github.com/mirrorkit/mirror"
)

func evalFlags(fs *flag.FlagSet) func(*env) int {
	rf := addRuleFlags(fs)
	return func(e *env) int {
		eng, rest, ok := rf.load(e)
		if !ok {
			return 2
		}
		return eval(e, eng, rest)
	}
}

// maxLine bounds one request line.
const maxLine = 1 << 20

// request is one line of eval's input. method, host, scheme and status
// are the request's for rules of the extended model (docs/SEMANTICS.md
// §11); unset, the request is a GET miss with no Host.
type request struct {
	Key     *string         `json:"key"`
	Query   *string         `json:"query"`
	Headers json.RawMessage `json:"headers"`
	Method  *string         `json:"method"`
	Host    *string         `json:"host"`
	Scheme  *string         `json:"scheme"`
	Status  *int            `json:"status"`
}

// The output shapes. Fields are in sorted order, so that the JSON keys
// come out sorted, like encoding/json's maps.
type (
	fetchOut struct {
		Headers      http.Header    `json:"headers,omitempty"`
		Matched      bool           `json:"matched"`
		Mode         string         `json:"mode"`
		Policy       *mirror.Policy `json:"policy,omitempty"`
		RedirectCode int            `json:"redirectCode,omitempty"` // redirectFetch
		Rule         int            `json:"rule"`
		StorageClass string         `json:"storageClass,omitempty"`
		URLs         []string       `json:"urls"`
	}
	redirectOut struct {
		Matched      bool     `json:"matched"`
		Mode         string   `json:"mode"`
		RedirectCode int      `json:"redirectCode"`
		Rule         int      `json:"rule"`
		URLs         []string `json:"urls"`
	}
	noMatchOut struct {
		Matched bool `json:"matched"`
	}
	errorOut struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
)

func eval(e *env, eng *mirror.Engine, stdin io.Reader) int {
	in := bufio.NewReaderSize(stdin, 64<<10)
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(in)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return 0
		}
		if err != nil && !errors.Is(err, io.EOF) {
			w.Flush()
			e.errorf("line %d: %v", lineNo, err)
			return 2
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		req, reason := parseRequest(line)
		if reason != "" {
			w.Flush()
			e.errorf("line %d: %s", lineNo, reason)
			return 2
		}
		if err := enc.Encode(decide(eng.Resolve(req))); err != nil {
			e.errorf("%v", err)
			return 1
		}
	}
}

// readLine reads one line without its newline; a line over maxLine is an
// error.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine+1 || (len(line) > maxLine && line[len(line)-1] != '\n') {
			return nil, fmt.Errorf("longer than %d bytes", maxLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), err
	}
}

// readValue reads the first JSON value of r (the document of -rules -)
// and returns it with a reader of what follows it.
func readValue(r io.Reader) ([]byte, io.Reader, error) {
	dec := json.NewDecoder(r)
	var doc json.RawMessage
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("reading the document from standard input: %w", err)
	}
	return doc, io.MultiReader(dec.Buffered(), r), nil
}

func parseRequest(line []byte) (*mirror.Request, string) {
	var r request
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, "not a request object: " + err.Error()
	}
	if r.Key == nil {
		return nil, `"key" is required and must be a string`
	}
	req := &mirror.Request{Key: *r.Key}
	if r.Query != nil {
		req.RawQuery = *r.Query
	}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{r.Method, &req.Method}, {r.Host, &req.Host}, {r.Scheme, &req.Scheme}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if r.Status != nil {
		req.Status = *r.Status
	}
	var reason string
	req.Header, reason = decodeHeaders(r.Headers)
	if reason != "" {
		return nil, reason
	}
	return req, ""
}

// decodeHeaders insists on {"Name": ["v", ...]}: encoding/json alone would
// take null for a list or a string and let it pass unnoticed. An empty
// list is an absent header.
func decodeHeaders(v json.RawMessage) (http.Header, string) {
	if isNull(v) {
		return nil, ""
	}
	var m map[string][]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return nil, `"headers" must be an object of string arrays`
	}
	var h http.Header
	for name, items := range m {
		if items == nil {
			return nil, fmt.Sprintf("header %q must be an array of strings", name)
		}
		for _, it := range items {
			var s string
			if isNull(it) || json.Unmarshal(it, &s) != nil {
				return nil, fmt.Sprintf("header %q must be an array of strings", name)
			}
			if h == nil {
				h = http.Header{}
			}
			h[name] = append(h[name], s)
		}
	}
	return h, ""
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// decide is the JSON of a decision or request error, as eval prints it.
func decide(d *mirror.Decision, err error) any {
	switch {
	case errors.Is(err, mirror.ErrNoRule):
		return noMatchOut{}
	case errors.Is(err, mirror.ErrInvalidKey):
		return errorOut{"InvalidKey", err.Error()}
	case errors.Is(err, mirror.ErrUnsafeKey):
		return errorOut{"UnsafeKey", err.Error()}
	case errors.Is(err, mirror.ErrInvalidQuery):
		return errorOut{"InvalidQuery", err.Error()}
	case errors.Is(err, mirror.ErrInvalidRequest):
		return errorOut{"InvalidRequest", err.Error()}
	case err != nil:
		return errorOut{"Error", err.Error()}
	case d.Mode == mirror.ModeRedirect:
		return redirectOut{Matched: true, Mode: string(d.Mode), RedirectCode: d.RedirectCode, Rule: d.Rule, URLs: d.URLs}
	}
	out := fetchOut{Headers: d.Header, Matched: true, Mode: string(d.Mode), Policy: d.Policy, Rule: d.Rule, StorageClass: d.StorageClass, URLs: d.URLs}
	if d.Mode == mirror.ModeRedirectFetch {
		out.RedirectCode = d.RedirectCode
	}
	return out
}
