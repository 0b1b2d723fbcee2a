package httpapi

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

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
