// Package s3test starts a real S3 server for tests, versitygw
// (github.com/versity/versitygw, Apache-2.0), over a temporary directory,
// on a free loopback port. .ci/run builds it and sets MIRROR_VERSITYGW;
// with MIRROR_REQUIRE_S3 set, as in CI, a missing server fails a test
// instead of skipping it.
package s3test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
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

// Binary is the server to run: $MIRROR_VERSITYGW, or versitygw on PATH.
func Binary() string {
	if p := os.Getenv("MIRROR_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	return ""
}

// Endpoint returns the URL of the test binary's server, starting it on
// first use. On Linux it ends with the test binary.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		if os.Getenv("MIRROR_REQUIRE_S3") != "" {
			t.Fatal(startErr)
		}
		t.Skip(startErr.Error())
	}
	return endpoint
}

func start() (string, error) {
	bin := Binary()
	if bin == "" {
		return "", errors.New("no versitygw: set MIRROR_VERSITYGW, or put it on PATH (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
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
