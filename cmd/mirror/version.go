package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// build is what identifies the running binary: the module version ("(devel)"
// for a build from a clone), the VCS revision it was built from ("" when
// unknown), whether the tree had local changes, and the Go version.
type build struct {
	version, revision, goVersion string
	modified                     bool
}

// thisBuild reads the binary's own build information.
func thisBuild() build {
	b := build{version: "(devel)", goVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if bi.Main.Version != "" {
		b.version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

// String is the line `mirror version` prints.
func (b build) String() string {
	rev := b.revision
	switch {
	case rev == "":
		rev = "unknown"
	case b.modified:
		rev += " (modified)"
	}
	return fmt.Sprintf("mirror %s, revision %s, %s", b.version, rev, b.goVersion)
}

// versionFlags is `mirror version`: the build, on one line.
func versionFlags(*flag.FlagSet) func(e *env) int {
	return func(e *env) int {
		fmt.Fprintln(e.stdout, thisBuild())
		return 0
	}
}
