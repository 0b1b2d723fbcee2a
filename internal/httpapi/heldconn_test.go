package httpapi

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingListener counts the writes made to the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) { c.writes.Add(1); return c.Conn.Write(p) }

// A held answer leaves in one write, headers and body, where net/http
// alone writes a 4 KiB body in two; an answer too big to hold, and one
// that is not held, arrive whole as before, on the same kept-alive
// connection.
func TestHeldAnswersLeaveInOneWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var writes atomic.Int64
	srv := &http.Server{ConnContext: HoldingConnContext, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("hold") != "" {
			defer Hold(w, r)()
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		body := bytes.Repeat([]byte{'x'}, n)
		for len(body) > 0 { // in pieces, as a copy loop writes
			k := min(len(body), 1000)
			_, _ = w.Write(body[:k])
			body = body[k:]
		}
	})}
	go srv.Serve(HoldingListener(countingListener{ln, &writes}))
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	base := "http://" + ln.Addr().String() + "/?n="
	for _, c := range []struct {
		query  string
		n      int
		writes int64 // exactly, or at least when negative
	}{
		{"4096&hold=1", 4096, 1},
		{"4096", 4096, -2},
		{"100&hold=1", 100, 1},
		{"200000&hold=1", 200000, -2}, // past maxHeld: written as it comes
		{"4096&hold=1", 4096, 1},      // and holding works again after
	} {
		writes.Store(0)
		resp, err := client.Get(base + c.query)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Len(t, body, c.n, c.query)
		if c.writes > 0 {
			assert.Equal(t, c.writes, writes.Load(), c.query)
		} else {
			assert.GreaterOrEqual(t, writes.Load(), -c.writes, c.query)
		}
	}
}

// Held headers go out with MSG_MORE before a file net/http sends with
// sendfile: the client gets the headers and the file's bytes whole, answer
// after answer on one kept-alive connection.
func TestHeldHeadersBeforeAFile(t *testing.T) {
	data := make([]byte, 1<<20+7)
	for i := range data {
		data[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{ConnContext: HoldingConnContext, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer Hold(w, r)()
		f, err := os.Open(path)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush() // into the held bytes
		_, _ = w.(io.ReaderFrom).ReadFrom(&io.LimitedReader{R: f, N: int64(len(data))})
	})}
	go srv.Serve(HoldingListener(ln))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for range 3 {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, bytes.Equal(data, body), "the file's bytes, whole")
	}
}

// writeMore writes all of a buffer larger than the socket takes at once,
// waiting for the reader as a Write would.
func TestWriteMoreWritesItAll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		time.Sleep(50 * time.Millisecond) // the writer fills the socket first
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	require.NoError(t, writeMore(c, want))
	require.NoError(t, c.Close())
	assert.True(t, bytes.Equal(want, <-got))
}
