package main

import (
	"errors"
	"flag"
	"strings"

	"github.com/mirrorkit/mirror"
)

// convertFlags is mirror convert: it loads a document of one format and
// writes it in another (mirror.Engine.Export), so that the written
// document decides every request as the read one does. What the target
// format can not say is one "mirror: PATH: reason" line each, PATH in the
// read document's native terms ("rules[2].match.suffix"), and exit
// status 2.
func convertFlags(fs *flag.FlagSet) func(*env) int {
	rf := &ruleFlags{}
	fs.StringVar(&rf.rules, "rules", "", "the rules `document` to convert; - reads it from standard input")
	fs.StringVar(&rf.format, "from", "auto", "the document's `format`: auto, bos, qingstor, native, oss, cos, s3, obs or tos")
	fs.BoolVar(&rf.allowPrivate, "allow-private-origins", false, "allow loopback, private and other non-routable origins")
	to := fs.String("to", "", "the `format` to write: bos, qingstor, native, oss, cos, s3, obs or tos")
	return func(e *env) int {
		if *to == "" {
			e.errorf("-to is required: bos, qingstor, native, oss, cos, s3, obs or tos")
			return 2
		}
		eng, _, ok := rf.load(e)
		if !ok {
			return 2
		}
		out, err := eng.Export(mirror.Format(*to))
		if err != nil {
			var ce *mirror.CompileError
			if !errors.As(err, &ce) {
				e.errorf("%v", err)
				return 1
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				e.errorf("%s", line)
			}
			return 2
		}
		if _, err := e.stdout.Write(out); err != nil {
			e.errorf("%v", err)
			return 1
		}
		if mirror.Format(*to) == mirror.FormatOBS {
			e.errorf("note: each rule's redirect.agency is %q: set it to the IAM agency OBS writes the mirrored objects with", mirror.OBSAgencyPlaceholder)
		}
		return 0
	}
}
