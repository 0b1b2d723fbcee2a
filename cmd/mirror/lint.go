package main

import (
	"bufio"
	"flag"
	"fmt"
)

// lintOut is one warning of lint -json.
type lintOut struct {
	Path    string `json:"path"`
	Rule    int    `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func lintFlags(fs *flag.FlagSet) func(*env) int {
	rf := addRuleFlags(fs)
	asJSON := fs.Bool("json", false, `print {"warnings": [{"path", "rule", "field", "message"}, ...]}`)
	return func(e *env) int {
		eng, _, ok := rf.load(e)
		if !ok {
			return 2
		}
		warnings := eng.Lint()
		w := bufio.NewWriter(e.stdout)
		if *asJSON {
			out := struct {
				Warnings []lintOut `json:"warnings"`
			}{Warnings: []lintOut{}}
			for _, p := range warnings {
				out.Warnings = append(out.Warnings, lintOut{p.Path, p.Rule, p.Field, p.Reason})
			}
			if err := writeIndented(w, out); err != nil {
				e.errorf("%v", err)
				return 2
			}
		} else {
			for _, p := range warnings {
				fmt.Fprintln(w, p.Error())
			}
		}
		if err := w.Flush(); err != nil {
			e.errorf("%v", err)
			return 2
		}
		if len(warnings) > 0 {
			return 1
		}
		return 0
	}
}
