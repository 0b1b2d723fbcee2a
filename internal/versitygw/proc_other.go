//go:build !linux

package versitygw

import "os/exec"

// dieWithParent is a no-op where the kernel has no parent-death signal:
// the server outlives the test binary there.
func dieWithParent(*exec.Cmd) {}
