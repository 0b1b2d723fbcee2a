package main

import (
	"bufio"
	"flag"
	"fmt"

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
				fmt.Fprintf(w, "%d %s %q -> %s", i, r.Mode, r.Resource, primary)
				if backup != "" {
					fmt.Fprintf(w, " (backup %s)", backup)
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
