// Package s3test starts a real S3 server for tests, versitygw
// (github.com/versity/versitygw, Apache-2.0), over a temporary directory,
// on a free loopback port. The binary is $MIRROR_VERSITYGW, versitygw on
// PATH, or the one built into the user's cache directory: on first use
// the package builds it there with the go command (once per machine, about
// 20 s with a warm module cache), as .ci/run does, so that a plain `go
// test ./...` runs the S3 tests. When no server can be had, a test fails
// and says why and how to skip (MIRROR_SKIP_S3=1): the S3 tests are
// never skipped silently.
package s3test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The credentials of the servers this package starts.
const (
	AccessKey = "mirrorkit"
	SecretKey = "mirrorkit-secret-key"
)

var (
	once     sync.Once
	endpoint string
	startErr error
)

// Version is the versitygw release the tests run against.
const Version = "v1.8.0"

// Binary is the server to run: $MIRROR_VERSITYGW, versitygw on PATH, or
// the one in the cache directory (CachedBinary) when it is there; "" when
// none is.
func Binary() string {
	if p := os.Getenv("MIRROR_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if p := CachedBinary(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// CachedBinary is where the package builds versitygw, the path .ci/run
// builds it at: $XDG_CACHE_HOME/mirrorkit/versitygw-VERSION/versitygw, or
// under ~/.cache; "" when there is no cache directory.
func CachedBinary() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "mirrorkit", "versitygw-"+Version, "versitygw")
}

// Endpoint returns the URL of the test binary's server, starting it on
// first use. On Linux it ends with the test binary.
func Endpoint(t testing.TB) string {
	t.Helper()
	if os.Getenv("MIRROR_SKIP_S3") != "" {
		t.Skip("MIRROR_SKIP_S3 is set: the S3 store's tests do not run")
	}
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		t.Fatalf("%v\n(the S3 store's tests need versitygw %s: set MIRROR_VERSITYGW to one, or MIRROR_SKIP_S3=1 to skip them)", startErr, Version)
	}
	return endpoint
}

func start() (string, error) {
	bin := Binary()
	if bin == "" {
		var err error
		if bin, err = build(); err != nil {
			return "", err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "mirror-versitygw-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "--port", addr, "--access", AccessKey, "--secret", SecretKey, "posix", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	url := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return url, nil
		}
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("versitygw did not answer on %s", addr)
}
