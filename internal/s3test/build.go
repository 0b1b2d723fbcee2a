package s3test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// build builds versitygw into CachedBinary's directory with the go
// command, as .ci/run does. Test binaries of several packages may ask at
// once: a lock file lets one build while the others wait, and then find
// the binary.
func build() (string, error) {
	bin := CachedBinary()
	if bin == "" {
		return "", errors.New("no versitygw, and no cache directory to build one in")
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another test binary built it
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no versitygw, and no go command on PATH to build it with: %w", err)
	}
	cmd := exec.Command(goCmd, "install", "github.com/versity/versitygw/cmd/versitygw@"+Version)
	// Outside this module: its go.mod and flags do not apply.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("no versitygw, and building it failed (go install github.com/versity/versitygw/cmd/versitygw@%s): %v: %s",
			Version, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}
