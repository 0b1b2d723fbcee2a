package main

import (
	"bufio"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/mirrorkit/mirror"
)

func checkFlags(fs *flag.FlagSet) func(*env) int {
	rf := addRuleFlags(fs)
	asJSON := fs.Bool("json", false, `print {"format": ..., "rules": [...]}, the rules as compiled`)
	return func(e *env) int {
		eng, _, ok := rf.load(e)
		if !ok {
			return 2
		}
		w := bufio.NewWriter(e.stdout)
		if *asJSON {
			out := struct {
				Format mirror.Format `json:"format"`
				Rules  []mirror.Rule `json:"rules"`
			}{eng.Format(), make([]mirror.Rule, eng.Len())}
			for i := range out.Rules {
				out.Rules[i] = eng.Rule(i)
			}
			if err := writeIndented(w, out); err != nil {
				e.errorf("%v", err)
				return 1
			}
		} else {
			fmt.Fprintf(w, "%s document, %d rules\n", eng.Format(), eng.Len())
			for i := 0; i < eng.Len(); i++ {
				r := eng.Rule(i)
				primary, backup := eng.Origins(i)
				if rd := r.Redirect; primary == "" && rd != nil {
					// A redirect to a host and scheme, not to an origin.
					primary = or(rd.Scheme, "(the request's scheme)") + "://" + or(rd.Host, "(the request's host)")
				}
				fmt.Fprintf(w, "%d %s %s -> %s", i, r.Mode, coverage(r), primary)
				if n := len(r.SourceURLs); n > 1 {
					fmt.Fprintf(w, " (+%d primaries)", n-1)
				}
				if backup != "" {
					fmt.Fprintf(w, " (backup %s", backup)
					if n := len(r.BackSourceURLs); n > 1 {
						fmt.Fprintf(w, " +%d", n-1)
					}
					fmt.Fprint(w, ")")
				}
				fmt.Fprintln(w)
			}
		}
		if err := w.Flush(); err != nil {
			e.errorf("%v", err)
			return 1
		}
		return 0
	}
}

// coverage words what keys and requests a rule answers: its resource, or
// its match's prefix and suffix, then its other conditions.
func coverage(r mirror.Rule) string {
	var parts []string
	if r.Resource != "" || r.Match == nil {
		parts = append(parts, strconv.Quote(r.Resource))
	}
	if m := r.Match; m != nil {
		if m.Prefix != "" || r.Resource == "" {
			parts = append(parts, "prefix "+strconv.Quote(m.Prefix))
		}
		if m.Suffix != "" {
			parts = append(parts, "suffix "+strconv.Quote(m.Suffix))
		}
		for _, h := range m.Headers {
			parts = append(parts, "header "+h.Name+"="+strconv.Quote(h.Value))
		}
		if len(m.Hosts) > 0 {
			parts = append(parts, "hosts "+strings.Join(m.Hosts, ","))
		}
		if len(m.NotHosts) > 0 {
			parts = append(parts, "not hosts "+strings.Join(m.NotHosts, ","))
		}
		if len(m.Methods) > 0 {
			parts = append(parts, "methods "+strings.Join(m.Methods, ","))
		}
	}
	if len(r.On) > 0 && !(len(r.On) == 1 && r.On[0] == "miss") {
		parts = append(parts, "on "+strings.Join(r.On, ","))
	}
	return strings.Join(parts, " ")
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
