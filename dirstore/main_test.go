package dirstore

import (
	"os"
	"testing"
)

// TestMain runs the test binary as a crash test's child when asked
// (crash_test.go), and removes the benchmarks' stores at the end.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		os.Exit(2) // crashChild is killed before it returns
	}
	code := m.Run()
	removeBenchStores()
	os.Exit(code)
}
