package objectapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qssigner "github.com/yunify/qingstor-sdk-go/v3/request/signer"
)

// The holes a review of the gateway found (issue 16), one test each.

// Finding 2: the flight key held the first URL, query included, so 20
// queries made 20 origin requests, each committing over the last, and a
// client could get a clean 200 for one variant while the store held
// another. One flight per key now: one origin request, and every clean
// answer carries the bytes committed under the key.
func TestConcurrentQueriesMakeOneOriginRequest(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		body := "variant " + r.URL.RawQuery
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = io.WriteString(w, body)
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL, `"passQuerystring":true`))
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := g.do("GET", fmt.Sprintf("/bkt/k?v=%d", i))
			b, err := body(resp)
			if assert.NoError(t, err) && assert.Equal(t, 200, resp.StatusCode) {
				bodies[i] = b
			}
		}()
	}
	require.Eventually(t, func() bool { return o.hits.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the others join meanwhile
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), o.hits.Load(), "one origin request")
	stored, _, ok := g.stored("bkt", "k")
	require.True(t, ok)
	for i, b := range bodies {
		assert.Equal(t, stored, b, "client %d got what is stored", i)
	}
}

// trickle is an origin that sends one byte every gap, for ever (until its
// client goes).
func trickle(t *testing.T, gap time.Duration) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
	})
}

// Finding 4: slots were global and a trickling origin held one for the
// whole fetch timeout, so four trickling misses in one bucket left
// another bucket's misses with 503. Now one bucket gets at most a quarter
// of the slots, and an origin under the minimum rate loses its slot.
func TestSlowOriginDoesNotBlockOtherBuckets(t *testing.T) {
	slow := trickle(t, 50*time.Millisecond)
	fast := newOrigin(t, content("fast"))
	g := newGateway(t, func(f *pull.Fetcher) {
		f.MaxFetches, f.MinRate, f.RateWindow = 4, 1000, 400*time.Millisecond
	})
	g.setRules("slow-bkt", fetchRule(slow.URL))
	g.setRules("other-bkt", fetchRule(fast.URL))
	var slowAnswers []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := g.do("GET", fmt.Sprintf("/slow-bkt/k%d", i))
			_, _ = body(resp)
			mu.Lock()
			slowAnswers = append(slowAnswers, resp.StatusCode)
			mu.Unlock()
		}()
	}
	require.Eventually(t, func() bool { return g.fetcher.Running() >= 1 }, 5*time.Second, time.Millisecond)
	b, err := body(g.do("GET", "/other-bkt/k"))
	require.NoError(t, err)
	assert.Equal(t, "fast", b, "another bucket's miss is served")
	wg.Wait()
	assert.Contains(t, slowAnswers, http.StatusServiceUnavailable, "the slow bucket had one slot of four")
	require.Eventually(t, func() bool { return g.fetcher.Running() == 0 }, 5*time.Second, 10*time.Millisecond,
		"the trickling fetch lost its slot to the minimum rate")
	// The fetch leaves the flight table before it writes its log line.
	assert.Eventually(t, func() bool { return strings.Contains(g.logs.String()+fetchLog(g), "too_slow") }, 5*time.Second,
		10*time.Millisecond)
}

// fetchLog is what the gateway's Fetcher logged.
func fetchLog(g *gateway) string { return g.fetchLogs.String() }

// Finding 3: a client streaming a miss held a 256 KiB buffer while
// blocked in Write, with no deadline, so 4,000 clients that stopped
// reading took 1.1 GB. Now the buffer is small and each write has a
// progress deadline: a reader that stops is dropped, and the fetch still
// commits. (BenchmarkStalledReaders measures the memory.)
func TestStalledReadersAreDropped(t *testing.T) {
	// More than loopback's socket buffers hold: a miss streams with
	// sendfile(2), whose page references let them hold 32 MiB whole (as
	// TestAStalledReaderOfAHitIsDropped).
	const size = 64 << 20
	o := newOrigin(t, content(strings.Repeat("z", size)))
	g := newGateway(t)
	g.handler.ProgressTimeout = 300 * time.Millisecond
	g.setRules("bkt", fetchRule(o.URL))
	conn, err := net.Dial("tcp", g.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /bkt/big HTTP/1.1\r\nHost: gw\r\n\r\n")
	require.NoError(t, err)
	rd := bufio.NewReader(conn)
	_, err = rd.Peek(1) // the answer has begun; now stop reading
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, _, ok := g.stored("bkt", "big"); return ok }, 10*time.Second, 10*time.Millisecond,
		"the fetch commits though its only reader stopped")
	time.Sleep(600 * time.Millisecond) // past the progress deadline
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := io.Copy(io.Discard, rd)
	assert.Less(t, n, int64(size), "the stalled reader was dropped before the end")
	if ne, ok := err.(net.Error); ok {
		assert.False(t, ne.Timeout(), "the gateway closed the connection")
	}
}

// Finding 6: the idle timer ran while the gateway itself was busy (its
// spool writes and hashing), so heavy load cut healthy origins short.
// Now the clock runs only while the fetch waits for the origin: an origin
// that sends steadily, each piece well inside the idle timeout, is never
// cut, however slow the gateway's own side.
func TestIdleTimerCountsOnlyOriginWaits(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "6")
		for range 6 {
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	})
	g := newGateway(t, func(f *pull.Fetcher) { f.IdleTimeout = 250 * time.Millisecond })
	g.fetcher.Store = &slowStore{Store: g.store, write: 300 * time.Millisecond}
	g.setRules("bkt", fetchRule(o.URL))
	b, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err, "not cut short: each write takes 300 ms, past the 250 ms idle timeout, but no wait for the origin does")
	assert.Equal(t, "xxxxxx", b)
}

// Finding 6: "Range: bytes=-0" got 206 with "Content-Range: bytes
// 200-199/200"; RFC 9110 makes a zero suffix unsatisfiable: 416.
func TestZeroSuffixRangeIs416(t *testing.T) {
	o := newOrigin(t, content(strings.Repeat("a", 200)))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	for _, path := range []string{"/bkt/miss", "/bkt/miss"} { // a miss, then a hit
		resp := g.do("GET", path, "Range: bytes=-0")
		_, _ = body(resp)
		assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode)
		assert.Equal(t, "bytes */200", resp.Header.Get("Content-Range"))
	}
	resp := g.do("GET", "/bkt/miss", "Range: bytes=-0, 0-1")
	b, _ := body(resp)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode, "one satisfiable range is enough")
	assert.Equal(t, "aa", b)
}

// Finding 6: a hostile origin's text/html ran script in the one web
// origin every path-style bucket shares. Every object answer says
// nosniff, and active content on a path-style bucket is sandboxed.
func TestActiveContentIsSandboxed(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", map[string]string{"/page": "text/html; charset=utf-8", "/img": "image/png",
			"/svg": "image/svg+xml"}[r.URL.Path])
		_, _ = io.WriteString(w, "<script>alert(1)</script>")
	})
	g := newGateway(t)
	g.handler.Domain = "mirror.test"
	g.setRules("bkt", fetchRule(o.URL))
	for _, c := range []struct {
		path    string
		sandbox bool
	}{{"/bkt/page", true}, {"/bkt/page", true}, {"/bkt/img", false}, {"/bkt/svg", true}} {
		resp := g.do("GET", c.path)
		_, _ = body(resp)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), c.path)
		if c.sandbox {
			assert.Equal(t, "sandbox", resp.Header.Get("Content-Security-Policy"), c.path)
		} else {
			assert.Empty(t, resp.Header.Get("Content-Security-Policy"), c.path)
		}
	}
	// A virtual-host bucket is a web origin of its own: no sandbox.
	req, _ := http.NewRequest("GET", g.srv.URL+"/page", nil)
	req.Host = "bkt.mirror.test"
	resp, err := g.srv.Client().Do(req)
	require.NoError(t, err)
	_, _ = body(resp)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
}

// Finding 6: error answers named the dial guard's verdict, the address a
// name resolved to, the resolver, paths and private source buckets. A
// client now hears what happened; the log has the detail beside the
// request id.
func TestErrorsDoNotLeakInternals(t *testing.T) {
	o := newOrigin(t, content("secret"))
	port := o.URL[strings.LastIndexByte(o.URL, ':')+1:]
	g := newGateway(t, func(f *pull.Fetcher) {
		f.AllowPrivateOrigins, f.Resolve = false, map[string]string{"origin.example.com:" + port: "127.0.0.1"}
	})
	g.setRules("bkt", fetchRule("http://origin.example.com:"+port))
	e, line := g.answerAndLog(t, g.do("GET", "/bkt/k"))
	assert.Equal(t, "MirrorFailed", e.Code)
	for _, secret := range []string{"127.0.0.1", "127.0.0.0/8", "dial guard", "origin.example.com", port} {
		assert.NotContains(t, e.Message, secret)
		assert.Contains(t, line, secret, "the log has it")
	}
}

// Review of issue 16, F4 and F8: QingStor's signature covers the path,
// not the Host, and its SDK puts a zone label in the Host. Under a
// domain, a presigned URL for /tenant-pub/x sent with the Host of another
// bucket read that bucket's key "tenant-pub/x", and a zone label was taken
// for a bucket. A QingStor-signed read names its bucket in the path.
func TestQingStorReadsAreRoutedByPath(t *testing.T) {
	pub := newOrigin(t, content("public x"))
	priv := newOrigin(t, content("private tenant-pub/x"))
	g := newGateway(t)
	creds, err := access.ParseCredentials([]byte(`{"ADMIN": "admin-secret"}`))
	require.NoError(t, err)
	g.handler.Credentials, g.handler.Domain = creds, "gw.test"
	g.setRules("tenant-pub", fetchRule(pub.URL))
	g.setRules("tenant-priv", fetchRule(priv.URL))
	require.NoError(t, g.configs.SetPolicy(context.Background(), "tenant-priv", bucketconfig.Private))

	req, err := http.NewRequest("GET", g.srv.URL+"/tenant-pub/x", nil)
	require.NoError(t, err)
	require.NoError(t, (&qssigner.QingStorSigner{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}).WriteQuerySignature(req,
		int(time.Now().Add(time.Hour).Unix())))
	for _, host := range []string{"", "tenant-priv.gw.test", "pek3b.gw.test"} {
		r := req.Clone(context.Background())
		if host != "" {
			r.Host = host
		}
		resp, err := g.srv.Client().Do(r)
		require.NoError(t, err)
		b, err := body(resp)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode, host)
		assert.Equal(t, "public x", b, "Host %q", host)
	}
	assert.Zero(t, priv.hits.Load(), "the private bucket's origin was never asked")
}
