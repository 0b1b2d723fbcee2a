package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mirrorkit/mirror"
)

// headerFlags collects -H 'Name: value', repeatable, as curl takes them.
type headerFlags struct{ h http.Header }

func (f *headerFlags) String() string { return "" }

func (f *headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) != name || name == "" {
		return fmt.Errorf(`%q is not "Name: value"`, v)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	// The name is kept as written, so that the story shows what a
	// client would send.
	f.h[name] = append(f.h[name], strings.TrimSpace(value))
	return nil
}

func explainFlags(fs *flag.FlagSet) func(*env) int {
	rf := addRuleFlags(fs)
	query := fs.String("query", "", "the request's raw `query` string, without \"?\"")
	var headers headerFlags
	fs.Var(&headers, "H", "a request header, `Name: value`; repeatable")
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	return func(e *env) int {
		// Flags may follow the key as well as precede it.
		var keys []string
		for len(e.args) > 0 {
			keys = append(keys, e.args[0])
			if err := fs.Parse(e.args[1:]); err != nil {
				e.errorf("%v", err)
				return 2
			}
			e.args = fs.Args()
		}
		if len(keys) != 1 {
			e.errorf("explain takes one KEY after its flags, got %d", len(keys))
			return 2
		}
		eng, _, ok := rf.load(e)
		if !ok {
			return 2
		}
		x := eng.Explain(&mirror.Request{Key: keys[0], RawQuery: *query, Header: headers.h})
		w := bufio.NewWriter(e.stdout)
		if *asJSON {
			if err := writeIndented(w, explainOut{x, decide(x.Decision, x.Err)}); err != nil {
				e.errorf("%v", err)
				return 1
			}
		} else {
			writeExplanation(w, x)
		}
		if err := w.Flush(); err != nil {
			e.errorf("%v", err)
			return 1
		}
		return 0
	}
}

// explainOut is the JSON of explain: the explanation, and the decision
// as eval prints it.
type explainOut struct {
	*mirror.Explanation
	Decision any `json:"decision"`
}

// writeExplanation prints the story for people, one section per step.
func writeExplanation(w io.Writer, x *mirror.Explanation) {
	fmt.Fprintf(w, "key %q\n", x.Key)
	if x.Rules != nil {
		fmt.Fprintf(w, "\nrules, in order (the first that covers the key decides)\n")
		for _, c := range x.Rules {
			verdict := "no "
			if c.Covers {
				verdict = "yes"
			}
			fmt.Fprintf(w, "  %d %s %q: %s\n", c.Rule, verdict, c.Resource, c.Reason)
		}
	}
	if x.OriginKey != nil {
		fmt.Fprintf(w, "\norigin key (rule %d)\n", x.Rule)
		for _, s := range x.OriginKey.Steps {
			fmt.Fprintf(w, "  %s\n", s)
		}
		fmt.Fprintf(w, "  = %q\n", x.OriginKey.Key)
	}
	if x.Query != nil {
		fmt.Fprintf(w, "\nquery\n")
		for _, q := range x.Query {
			fmt.Fprintf(w, "  %s %q: %s\n", keptWord(q.Kept, "kept   ", "dropped"), q.Piece, q.Reason)
		}
		if x.Decision != nil {
			for _, o := range x.Decision.Origins {
				if o.Scheme == "bos" || o.Scheme == "s3" {
					fmt.Fprintf(w, "  (the %s:// origin %s gets no query: it would be a request signed by the owner)\n", o.Scheme, o.Host)
				}
			}
		}
	}
	if x.Headers != nil {
		fmt.Fprintf(w, "\nheaders to the origin\n")
		for _, h := range x.Headers {
			word := keptWord(h.Sent, "sent   ", "dropped")
			if h.Sent && strings.HasPrefix(h.Reason, "set by the rule") {
				word = "set    "
			}
			fmt.Fprintf(w, "  %s %s: %q: %s\n", word, h.Name, h.Value, h.Reason)
		}
	}
	fmt.Fprintf(w, "\ndecision\n")
	d := x.Decision
	switch {
	case errors.Is(x.Err, mirror.ErrNoRule):
		fmt.Fprintf(w, "  no rule covers the key: a plain miss (404)\n")
	case x.Err != nil:
		fmt.Fprintf(w, "  refused: %v\n", x.Err)
	case d.Mode == mirror.ModeRedirect:
		fmt.Fprintf(w, "  redirect %d, rule %d, to %s\n", d.RedirectCode, d.Rule, d.URLs[0])
	default:
		fmt.Fprintf(w, "  fetch, rule %d\n", d.Rule)
		for i, u := range d.URLs {
			fmt.Fprintf(w, "  %s %s\n", keptWord(i == 0, "primary", "backup "), u)
		}
		if d.StorageClass != "" {
			fmt.Fprintf(w, "  storage class %s\n", d.StorageClass)
		}
		names := slices.Sorted(maps.Keys(d.Header))
		for _, name := range names {
			for _, v := range d.Header[name] {
				fmt.Fprintf(w, "  header %s: %s\n", name, v)
			}
		}
	}
}

func keptWord(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
