package objectapi

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The handler behind mirror serve's HoldingListener,
// over plain TCP, TLS and HTTP/2, answers hits (sendfile and copied),
// small misses served from their spool, ranges, HEAD, 304 and 412 right,
// on kept-alive connections.
func TestHeldAnswersAreRight(t *testing.T) {
	g := newGateway(t)
	var originBody atomic.Pointer[[]byte]
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b := *originBody.Load()
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
	g.setRules("bkt", fetchRule(o.URL))
	g.handler.SmallObject = 256 << 10
	mk := func(proto string) (string, *http.Client, int) {
		srv := httptest.NewUnstartedServer(g.handler)
		srv.Listener = httpapi.HoldingListener(srv.Listener)
		srv.Config.ConnContext = httpapi.HoldingConnContext
		switch proto {
		case "tcp":
			srv.Start()
		case "tls":
			srv.StartTLS()
		case "h2":
			srv.EnableHTTP2 = true
			srv.StartTLS()
		}
		t.Cleanup(srv.Close)
		c := srv.Client()
		tr := c.Transport.(*http.Transport)
		tr.MaxConnsPerHost, tr.DisableCompression = 1, true
		if proto == "tls" {
			tr.TLSClientConfig = tr.TLSClientConfig.Clone()
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			tr.ForceAttemptHTTP2 = false
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		major := 1
		if proto == "h2" {
			major = 2
		}
		return srv.URL, c, major
	}
	n := 0
	for _, proto := range []string{"tcp", "tls", "h2"} {
		url, client, major := mk(proto)
		get := func(method, key string, h ...string) (*http.Response, []byte) {
			t.Helper()
			req, err := http.NewRequest(method, url+"/bkt/"+key, nil)
			require.NoError(t, err)
			for i := 0; i < len(h); i += 2 {
				req.Header.Set(h[i], h[i+1])
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, major, resp.ProtoMajor)
			return resp, b
		}
		for _, size := range []int{0, 1, 100, 4 << 10, 16<<10 + 1, 20 << 10, 32 << 10, 40 << 10} {
			n++
			data := randomBytes(size, uint64(n))
			hit := fmt.Sprintf("hit-%s-%d", proto, size)
			info := putObject(t, g.store, "bkt", hit, data)
			miss := fmt.Sprintf("miss-%s-%d", proto, size)
			originBody.Store(&data)
			for _, key := range []string{miss, miss, hit} { // a small miss (from its spool), then hits
				what := proto + " " + key
				resp, b := get("GET", key)
				require.Equal(t, http.StatusOK, resp.StatusCode, what)
				assert.True(t, bytes.Equal(data, b), what)
				if size > 10 {
					resp, b = get("GET", key, "Range", "bytes=3-9")
					assert.Equal(t, http.StatusPartialContent, resp.StatusCode, what)
					assert.True(t, bytes.Equal(data[3:10], b), what)
				}
				resp, b = get("HEAD", key)
				assert.Equal(t, http.StatusOK, resp.StatusCode, what)
				assert.Equal(t, strconv.Itoa(size), resp.Header.Get("Content-Length"), what)
				assert.Empty(t, b)
				if key == hit {
					resp, b = get("GET", key, "If-None-Match", `"`+info.ETag+`"`)
					assert.Equal(t, http.StatusNotModified, resp.StatusCode, what)
					assert.Empty(t, b)
				}
				resp, _ = get("GET", key, "If-Match", `"other"`)
				assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, what)
			}
		}
	}
}

// countingConn counts what reaches the socket: writes and sendfiles
// (ReadFrom).
type reviewCountingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l reviewCountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &reviewCountingConn{c.(*net.TCPConn), l.n}, nil
}

type reviewCountingConn struct {
	*net.TCPConn
	n *atomic.Int64
}

func (c *reviewCountingConn) Write(p []byte) (int, error) { c.n.Add(1); return c.TCPConn.Write(p) }
func (c *reviewCountingConn) ReadFrom(r io.Reader) (int64, error) {
	c.n.Add(1)
	return c.TCPConn.ReadFrom(r)
}

// docs/SERVING.md §1: "The answer to an object of at most
// 32 KiB, hit or small miss, leaves in one write, headers and body".
func TestSmallAnswersLeaveInOneWrite(t *testing.T) {
	g := newGateway(t)
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(g.handler)
	srv.Listener = httpapi.HoldingListener(reviewCountingListener{srv.Listener, &n})
	srv.Config.ConnContext = httpapi.HoldingConnContext
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	for _, size := range []int{4 << 10, 16 << 10, 20 << 10, 32 << 10} {
		data := randomBytes(size, uint64(size))
		key := fmt.Sprintf("h%d", size)
		putObject(t, g.store, "bkt", key, data)
		n.Store(0)
		resp, err := client.Get(srv.URL + "/bkt/" + key)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, b))
		assert.Equal(t, int64(1), n.Load(), "a %d-byte hit leaves in one write (write or sendfile calls seen: %d)", size, n.Load())
	}
}
