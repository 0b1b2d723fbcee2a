package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/mirrorkit/mirror/s3store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probe asks p for path on host, and gives the status and body.
func probe(t *testing.T, p *probes, host, path string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Host = host
	w := httptest.NewRecorder()
	if !p.serve(w, r) {
		return 0, "not a probe"
	}
	return w.Code, w.Body.String()
}

// Readiness follows the directory store: a removed store directory is not
// ready, nor is a gateway shutting down; liveness holds throughout. A
// Host that names a bucket keeps its "-/" keys.
func TestProbesFollowTheDirectoryStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	store, err := dirstore.Open(dir)
	require.NoError(t, err)
	defer store.Close()
	p := &probes{store: store, router: httpapi.Router{Domain: "example.com"}}

	code, body := probe(t, p, "gw:8080", readyPath)
	assert.Equal(t, http.StatusOK, code, body)
	code, _ = probe(t, p, "gw:8080", healthyPath)
	assert.Equal(t, http.StatusOK, code)
	code, body = probe(t, p, "bkt.example.com", readyPath)
	assert.Equal(t, 0, code, body)

	require.NoError(t, os.RemoveAll(dir))
	code, body = probe(t, p, "gw:8080", readyPath)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "not ready: the store does not answer\n", body, "and nothing of the store's own error")
	code, _ = probe(t, p, "gw:8080", healthyPath)
	assert.Equal(t, http.StatusOK, code, "alive all the same")

	p.store = nil
	p.stopping.Store(true)
	code, body = probe(t, p, "gw:8080", readyPath)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "shutting down")
}

// Readiness follows an S3 store: while the way to it is cut, the gateway
// is not ready, and it is again once the store answers.
func TestProbesFollowTheS3Store(t *testing.T) {
	fwd := newCuttable(t, s3test.Endpoint(t))
	store, err := s3store.New(s3store.Config{Endpoint: "http://" + fwd.addr, Bucket: "probes", AccessKeyID: s3test.AccessKey,
		SecretAccessKey: s3test.SecretKey})
	require.NoError(t, err)
	require.NoError(t, store.EnsureBucket(context.Background()))
	p := &probes{store: store}
	code, body := probe(t, p, "gw", readyPath)
	require.Equal(t, http.StatusOK, code, body)
	fwd.setDown(true)
	code, body = probe(t, p, "gw", readyPath)
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	fwd.setDown(false)
	code, body = probe(t, p, "gw", readyPath)
	assert.Equal(t, http.StatusOK, code, body)
}

// `mirror serve` answers the probes on its own listener and on -metrics'.
func TestServeAnswersProbes(t *testing.T) {
	p := startServe(t, "-data", t.TempDir(), "-metrics", "127.0.0.1:0")
	code, body := getBody(t, http.DefaultClient, p.url+readyPath)
	assert.Equal(t, http.StatusOK, code, body)
	code, _ = getBody(t, http.DefaultClient, p.url+healthyPath)
	assert.Equal(t, http.StatusOK, code)
	var base string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`url=(http://\S+)/metrics`).FindStringSubmatch(p.stderr.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond)
	code, body = getBody(t, http.DefaultClient, base+readyPath)
	assert.Equal(t, http.StatusOK, code, body)
	require.NoError(t, p.stop(t))
}

// cuttable forwards TCP connections to an S3 server's address, or, while
// down, refuses them and cuts those it carries.
type cuttable struct {
	addr, to string
	mu       sync.Mutex
	down     bool
	conns    []net.Conn
}

func newCuttable(t *testing.T, endpoint string) *cuttable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	c := &cuttable{addr: ln.Addr().String(), to: endpoint[len("http://"):]}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			if down {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", c.to)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cuttable) setDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = down
	if down {
		for _, conn := range c.conns {
			conn.Close()
		}
		c.conns = nil
	}
}

// On SIGTERM with -drain, the gateway goes on serving while /-/ready says
// 503, then stops by itself; a second signal ends the drain at once.
func TestDrainKeepsServingWhileNotReady(t *testing.T) {
	p := startServe(t, "-data", t.TempDir(), "-drain", "3s")
	began := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool {
		code, _ := getBody(t, http.DefaultClient, p.url+readyPath)
		return code == http.StatusServiceUnavailable
	}, 2*time.Second, 20*time.Millisecond, "not ready once the signal came")
	code, _ := getBody(t, http.DefaultClient, p.url+healthyPath)
	assert.Equal(t, http.StatusOK, code, "still serving while it drains")
	select {
	case err := <-p.done:
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(began), 3*time.Second, "it drained for -drain")
	case <-time.After(20 * time.Second):
		t.Fatal("the gateway did not stop after its drain")
	}

	p = startServe(t, "-data", t.TempDir(), "-drain", "10m")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), "draining") }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, p.stop(t), "a second signal ends the drain")
}
