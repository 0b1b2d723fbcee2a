package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// mirrorBinary builds the command once per test run.
func mirrorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mirror-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "mirror")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	require.NoError(t, buildErr)
	return binary
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// gatewayProcess is `mirror serve` running as a process.
type gatewayProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan error
	before []string // the lines before the ready line
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe starts the gateway on 127.0.0.1:0 and reads its address
// from the ready line.
func startServe(t *testing.T, args ...string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(mirrorBinary(t), append([]string{"serve", "-listen", "127.0.0.1:0"}, args...)...)
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &gatewayProcess{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	lines := bufio.NewReader(pipe)
	for {
		line, err := lines.ReadString('\n')
		require.NoError(t, err, "the ready line")
		if url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on "); ok {
			p.url = url
			break
		}
		require.NotContains(t, line, "://", "no line before the ready line holds a URL")
		p.before = append(p.before, line)
	}
	go func() {
		_, _ = io.Copy(p.stderr, lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return p
}

func (p *gatewayProcess) stop(t *testing.T) error {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the gateway did not stop")
		return nil
	}
}

func TestServeAsAProcess(t *testing.T) {
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "slow") {
			w.Header().Set("Content-Length", "4")
			_, _ = io.WriteString(w, "sl")
			w.(http.Flusher).Flush()
			<-release
			_, _ = io.WriteString(w, "ow")
			return
		}
		_, _ = io.WriteString(w, "origin says "+r.URL.Path)
	}))
	defer origin.Close()
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"`+origin.URL+`/site"}`), 0o600))
	data := t.TempDir()
	// -small-object 1: the 4-byte "slow" object is streamed, not held to
	// its commit, so that SIGTERM finds its fetch running.
	p := startServe(t, "-data", data, "-bucket", "my-bucket="+rules, "-allow-private-origins", "-log-format", "json",
		"-small-object", "1")

	resp, err := http.Get(p.url + "/my-bucket/a/b.txt")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "origin says /site/a/b.txt", string(b))

	resp, err = http.Get(p.url + "/no-bucket/x")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)

	// SIGTERM lets a running fetch finish: its object is stored.
	slow, err := http.Get(p.url + "/my-bucket/slow")
	require.NoError(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond)
		close(release)
	}()
	require.NoError(t, p.stop(t), "exit status 0; stderr:\n%s", p.stderr.String())
	b, _ = io.ReadAll(slow.Body)
	slow.Body.Close()
	assert.Equal(t, "slow", string(b))
	logs := p.stderr.String()
	assert.Contains(t, logs, `"msg":"fetch"`)
	assert.Contains(t, logs, `"outcome":"stored"`)

	// A restart loses nothing that was committed.
	origin.Close()
	p = startServe(t, "-data", data, "-bucket", "my-bucket="+rules, "-allow-private-origins")
	resp, err = http.Get(p.url + "/my-bucket/slow")
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "slow", string(b))
	require.NoError(t, p.stop(t))
}

func TestServeFlags(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"http://127.0.0.1:1/"}`), 0o600))
	for _, args := range [][]string{
		{"serve"},
		{"serve", "-data", t.TempDir(), "-bucket", "Bad_Name=" + rules},
		{"serve", "-data", t.TempDir(), "-bucket", "my-bucket=" + rules}, // a private origin, not allowed
		{"serve", "-data", t.TempDir(), "-resolve", "nonsense"},
		{"serve", "-data", t.TempDir(), "-log-format", "xml"},
		{"serve", "-data", "s3://bucket/prefix"},
		{"serve", "-data", t.TempDir(), "-max-object-size", "0x10"},
		{"serve", "-data", t.TempDir(), "-max-object-size", "0"},
		{"serve", "-data", t.TempDir(), "-max-fetches", "-1"},
		{"serve", "-data", t.TempDir(), "-idle-timeout", "-1s"},
		{"serve", "-data", t.TempDir(), "-resolve", "host:0:1.2.3.4"},
		{"serve", "-data", t.TempDir(), "-max-age", "my-bucket=0s"},
		{"serve", "-data", t.TempDir(), "-max-age", "Bad_Name=1h"},
		{"serve", "-data", t.TempDir(), "-max-age", "*=1h", "-max-age", "*=2h"},
		{"serve", "-data", t.TempDir(), "-access-log", "/nonexistent-dir/access.log"},
	} {
		code, _, errOut := runCmd(t, "", args...)
		assert.Equal(t, 2, code, args)
		assert.True(t, strings.HasPrefix(errOut, "mirror: "), "%v: %q", args, errOut)
	}
	code, out, _ := runCmd(t, "", "serve", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "-max-fetches")
}

func TestParseResolve(t *testing.T) {
	for in, want := range map[string]string{
		"origin.example.com:443:127.0.0.1": "origin.example.com:443 127.0.0.1",
		"Origin.Example.com:80:[::1]":      "origin.example.com:80 ::1",
		"host:8080:::1":                    "host:8080 ::1",
		"[2606:4700::1]:443:10.0.0.1":      "[2606:4700::1]:443 10.0.0.1",
		"host:443":                         "",
		"host:443:not-an-ip":               "",
		"host:08:1.2.3.4":                  "",
		":443:1.2.3.4":                     "",
	} {
		hp, addr, ok := parseResolve(in)
		got := ""
		if ok {
			got = hp + " " + addr
		}
		assert.Equal(t, want, got, in)
	}
	var b bytesFlag
	require.NoError(t, b.Set("0100"))
	assert.Equal(t, bytesFlag(100), b, "sizes are decimal")
}

// A SIGTERM that comes right after the ready line still ends the gateway
// gracefully, with exit status 0.
func TestServeSignalRightAfterReady(t *testing.T) {
	for i := 0; i < 10; i++ {
		p := startServe(t, "-data", t.TempDir())
		require.NoError(t, p.stop(t), "run %d: stderr:\n%s", i, p.stderr.String())
	}
}
