// Command mirror evaluates and checks mirror back-to-origin rule documents.
//
//	mirror eval -rules FILE [-format auto|bos|qingstor|native] [-allow-private-origins] < requests.jsonl
//	mirror check -rules FILE [-format ...] [-allow-private-origins]
//
// eval reads one JSON request per line, {"key": "...", "query": "...",
// "headers": {"Name": ["v"]}}, and writes one JSON decision per line.
// check prints one line per rule. A document that does not compile gives
// every problem on standard error, one per line, and exit status 2.
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
	"os"

	"github.com/mirrorkit/mirror"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  mirror eval  -rules FILE [-format auto|bos|qingstor|native] [-allow-private-origins] < requests.jsonl
  mirror check -rules FILE [-format auto|bos|qingstor|native] [-allow-private-origins]`

// run is the whole command; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "eval" && args[0] != "check") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("mirror "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	rules := fs.String("rules", "", "rules document (JSON)")
	format := fs.String("format", "auto", "document format: auto, bos, qingstor or native")
	allowPrivate := fs.Bool("allow-private-origins", false, "allow loopback, private and link-local origins")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *rules == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	data, err := os.ReadFile(*rules)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var opts []mirror.Option
	if *allowPrivate {
		opts = append(opts, mirror.AllowPrivateOrigins())
	}
	eng, err := mirror.Load(data, mirror.Format(*format), opts...)
	if err != nil {
		var ce *mirror.CompileError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				fmt.Fprintln(stderr, p)
			}
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	if args[0] == "check" {
		return check(data, mirror.Format(*format), eng, stdout)
	}
	return eval(eng, stdin, stdout, stderr)
}

// check prints "index mode resource -> origin [backup ...]" per rule.
func check(data []byte, format mirror.Format, eng *mirror.Engine, stdout io.Writer) int {
	doc, err := mirror.ParseDocument(data, format)
	if err != nil { // Load read the same bytes: it can not happen
		fmt.Fprintln(stdout, err)
		return 2
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%s document, %d rules\n", doc.Format, len(doc.Rules))
	for i, r := range doc.Rules {
		primary, backup := eng.Origins(i)
		fmt.Fprintf(w, "%d %s %q -> %s", i, r.Mode, r.Resource, primary)
		if backup != "" {
			fmt.Fprintf(w, " (backup %s)", backup)
		}
		fmt.Fprintln(w)
	}
	return 0
}

// maxLine bounds one request line.
const maxLine = 1 << 20

// request is one line of eval's input.
type request struct {
	Key     *string         `json:"key"`
	Query   *string         `json:"query"`
	Headers json.RawMessage `json:"headers"`
}

// The output shapes. Fields are in sorted order, so that the JSON keys
// come out sorted, like encoding/json's maps.
type (
	fetchOut struct {
		Headers      http.Header `json:"headers,omitempty"`
		Matched      bool        `json:"matched"`
		Mode         string      `json:"mode"`
		Rule         int         `json:"rule"`
		StorageClass string      `json:"storageClass,omitempty"`
		URLs         []string    `json:"urls"`
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

func eval(eng *mirror.Engine, stdin io.Reader, stdout, stderr io.Writer) int {
	in := bufio.NewReaderSize(stdin, 64<<10)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(in)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return 0
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "line %d: %v\n", lineNo, err)
			return 2
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		req, reason := parseRequest(line)
		if reason != "" {
			w.Flush()
			fmt.Fprintf(stderr, "line %d: %s\n", lineNo, reason)
			return 2
		}
		if err := enc.Encode(decide(eng, req)); err != nil {
			fmt.Fprintln(stderr, err)
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

func decide(eng *mirror.Engine, req *mirror.Request) any {
	d, err := eng.Resolve(req)
	switch {
	case errors.Is(err, mirror.ErrNoRule):
		return noMatchOut{}
	case errors.Is(err, mirror.ErrInvalidKey):
		return errorOut{"InvalidKey", err.Error()}
	case errors.Is(err, mirror.ErrUnsafeKey):
		return errorOut{"UnsafeKey", err.Error()}
	case errors.Is(err, mirror.ErrInvalidQuery):
		return errorOut{"InvalidQuery", err.Error()}
	case err != nil:
		return errorOut{"Error", err.Error()}
	case d.Mode == mirror.ModeRedirect:
		return redirectOut{Matched: true, Mode: string(d.Mode), RedirectCode: d.RedirectCode, Rule: d.Rule, URLs: d.URLs}
	}
	return fetchOut{Headers: d.Header, Matched: true, Mode: string(d.Mode), Rule: d.Rule, StorageClass: d.StorageClass, URLs: d.URLs}
}
