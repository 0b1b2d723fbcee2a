//go:build !unix

package pull_test

import "time"

// cpuTime is not measured where there is no getrusage.
func cpuTime() time.Duration { return 0 }
