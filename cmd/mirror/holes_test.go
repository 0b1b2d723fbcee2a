package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 16, finding 6: with -bucket the configuration lines came before
// the ready line, which docs/SERVING.md §5 promises first.
func TestReadyLineFirstWithBuckets(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"https://o.example.com"}`), 0o600))
	p := startServe(t, "-data", t.TempDir(), "-bucket", "my-bucket="+rules, "-bucket", "other-bucket="+rules)
	assert.Empty(t, p.before, "the ready line is the first line")
	require.Eventually(t, func() bool {
		return regexp.MustCompile(`(?s)bucket=my-bucket.*bucket=other-bucket`).MatchString(p.stderr.String())
	}, 5*time.Second, 10*time.Millisecond, "each stored configuration is logged after it")
	require.NoError(t, p.stop(t))
}

// Issue 16, finding 6: the -metrics listener had no header timeout, so
// trickling clients held their connections open for ever.
func TestMetricsListenerCutsTricklingClients(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s header timeout")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	p := startServe(t, "-data", t.TempDir(), "-metrics", addr)
	var conn net.Conn
	require.Eventually(t, func() bool {
		conn, err = net.Dial("tcp", addr)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	began := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	_, err = bufio.NewReader(conn).ReadString('\n')
	elapsed := time.Since(began)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the metrics listener still held a trickling connection after %v", elapsed)
	}
	assert.Less(t, elapsed, 15*time.Second, "cut by the header timeout")

	// A whole request is still answered.
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	require.NoError(t, p.stop(t))
}
