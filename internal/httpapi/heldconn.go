package httpapi

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
)

// A small answer in one write. net/http writes an answer through a 4 KiB
// buffer, so a 4 KiB object goes out as two writes, two TCP segments and
// two wake-ups of the client, where nginx (tcp_nopush) sends one. A
// handler that knows its answer is small holds its connection's writes
// and releases them, coalesced, in one write once the answer is complete
// (issue 18; docs/SERVING.md §1).

// HoldingListener wraps ln so that the handlers of the connections it
// accepts may Hold their writes. Serve HTTP on it with ConnContext set to
// HoldingConnContext.
func HoldingListener(ln net.Listener) net.Listener { return holdingListener{ln} }

type holdingListener struct{ net.Listener }

func (l holdingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: c}, nil
}

// HoldingConnContext is an http.Server's ConnContext that lets Hold find
// the connection a request came on.
func HoldingConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn() // TLS records are held alike
	}
	if hc, ok := c.(*heldConn); ok {
		return context.WithValue(ctx, heldConnKey{}, hc)
	}
	return ctx
}

type heldConnKey struct{}

// maxHeld is the most bytes held: past it, writes go out as they come.
const maxHeld = 64 << 10

// Hold holds what the answer to r writes to its connection, and returns
// what sends it: call that once the whole answer is written. It flushes w
// (net/http would write the answer's last bytes only after the handler
// returns) and then writes everything held in one write. Hold does
// nothing (and its release only flushes nothing) for a request that did
// not come through a HoldingListener, or over HTTP/2, whose connection
// carries other requests' frames.
func Hold(w http.ResponseWriter, r *http.Request) (release func()) {
	hc, _ := r.Context().Value(heldConnKey{}).(*heldConn)
	if hc == nil || r.ProtoMajor != 1 {
		return func() {}
	}
	hc.mu.Lock()
	hc.holding = true
	hc.mu.Unlock()
	return func() {
		_ = http.NewResponseController(w).Flush()
		hc.release()
	}
}

// heldConn is a connection whose writes a handler may hold.
type heldConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	held    []byte
	failed  error // a held write that failed: every later write fails so
}

var heldBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func (c *heldConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed != nil {
		return 0, c.failed
	}
	if !c.holding {
		return c.Conn.Write(p)
	}
	if len(c.held)+len(p) > maxHeld {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	if c.held == nil {
		c.held = (*heldBufs.Get().(*[]byte))[:0]
	}
	c.held = append(c.held, p...)
	return len(p), nil
}

// release stops holding and writes what was held.
func (c *heldConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	_ = c.flushLocked()
}

// flushLocked writes what is held. A write that fails closes the
// connection: net/http was told those bytes were written, and only a
// closed connection keeps the client from waiting for them.
func (c *heldConn) flushLocked() error { return c.flush(false) }

// flush is flushLocked, writing with MSG_MORE when more follows at once
// (writeMore).
func (c *heldConn) flush(more bool) error {
	if len(c.held) == 0 {
		return nil
	}
	var err error
	if more {
		err = writeMore(c.Conn, c.held)
	} else {
		_, err = c.Conn.Write(c.held)
	}
	if cap(c.held) <= 2*maxHeld {
		b := c.held[:0]
		heldBufs.Put(&b)
	}
	c.held = nil
	if err != nil {
		c.failed = err
		c.Conn.Close()
	}
	return err
}

// ReadFrom lets net/http send files with sendfile(2) as it does on a bare
// *net.TCPConn, after what is held.
//
// What is held (an answer's headers) goes out marked as having more to
// follow (MSG_MORE, as nginx's tcp_nopush corks them), so that the kernel
// sends it in the file's first segment instead of a segment of its own,
// which would wake the client once more.
func (c *heldConn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	err := c.failed
	if err == nil {
		err = c.flush(true)
	}
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// CloseWrite half-closes the connection, as net/http does before it
// closes one it must not reset.
func (c *heldConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

type writerOnly struct{ io.Writer }
