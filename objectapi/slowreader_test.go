package objectapi

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A slow client of a miss, that takes less than a 4 MiB piece (sendChunk)
// in ProgressTimeout but keeps reading, gets the whole object, as from a
// hit: wherever net/http copies the spool instead of sending it with
// sendfile (TLS, a chunked answer), a missed write deadline is final
// (tls.Conn, bufio), so the deadline is renewed before each read of the
// spool, not once per piece.

// slowRead reads r in 64 KiB reads, one every 5 ms (at most ~13 MB/s).
func slowRead(r io.Reader, limit int) ([]byte, error) {
	var got []byte
	buf := make([]byte, 64<<10)
	for len(got) < limit {
		k, err := r.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			return got, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return got, nil
}

// smallSndbufListener fixes the send buffer of the connections it accepts
// (no autotuning to 4 MiB, whose wake-up threshold alone outlasts a short
// progress deadline): what is measured is the gateway's deadline handling.
type smallSndbufListener struct{ net.Listener }

func (l smallSndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		_ = c.(*net.TCPConn).SetWriteBuffer(64 << 10)
	}
	return c, err
}

func reviewServer(t *testing.T, h http.Handler, useTLS bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallSndbufListener{srv.Listener}
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

func smallRcvbufDialer() *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 32<<10) })
	}}
}

// slowMiss serves origin's object as a miss to a client that reads it
// slowly, over TLS or not, and checks that the client gets it all; it
// returns the answer's head.
func slowMiss(t *testing.T, data []byte, origin http.HandlerFunc, useTLS bool) *http.Response {
	t.Helper()
	o := newOrigin(t, origin)
	g := newGateway(t)
	g.handler.ProgressTimeout = 300 * time.Millisecond
	g.setRules("bkt", fetchRule(o.URL))
	srv := reviewServer(t, g.handler, useTLS)
	c, err := smallRcvbufDialer().Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	if useTLS {
		c = tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	}
	defer c.Close()
	_, err = fmt.Fprintf(c, "GET /bkt/slow HTTP/1.1\r\nHost: gw\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, err := slowRead(resp.Body, len(data)+1)
	if err == io.EOF {
		err = nil
	}
	require.NoError(t, err, "after %d of %d bytes; %s %s", len(got), len(data), fetchLog(g), g.logs.String())
	assert.True(t, bytes.Equal(data, got))
	return resp
}

// TLS: the miss is copied (tls.Conn has no ReadFrom).
func TestSlowReaderOfATLSMissGetsItAll(t *testing.T) {
	data := randomBytes(sendChunk+sendChunk/2, 7)
	slowMiss(t, data, content(string(data)), true)
}

// Plain TCP, an origin without Content-Length: the answer is chunked, and
// net/http copies the piece through its bufio.Writer.
func TestSlowReaderOfAChunkedMissGetsItAll(t *testing.T) {
	data := randomBytes(sendChunk+sendChunk/2, 8)
	resp := slowMiss(t, data, func(w http.ResponseWriter, r *http.Request) {
		for p := data; len(p) > 0; {
			k := min(len(p), 1<<20)
			_, _ = w.Write(p[:k])
			w.(http.Flusher).Flush() // no Content-Length: chunked
			p = p[k:]
		}
	}, false)
	assert.Equal(t, int64(-1), resp.ContentLength, "chunked")
}

// Control: plain TCP with a Content-Length, the sendfile path.
func TestSlowReaderOfAPlainMissGetsItAll(t *testing.T) {
	data := randomBytes(sendChunk+sendChunk/2, 9)
	slowMiss(t, data, content(string(data)), false)
}
