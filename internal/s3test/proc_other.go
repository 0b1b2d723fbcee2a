//go:build !linux

package s3test

import "os/exec"

// dieWithParent is a no-op where the kernel has no parent-death signal:
// the server outlives the test binary there.
func dieWithParent(*exec.Cmd) {}
