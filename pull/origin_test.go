package pull

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Moved from pull/guard_test.go: the guard refuses every non-routable
// address it is handed, whatever form it comes in.
func TestGuardControl(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:443": true, "169.254.169.254:80": true, "[::ffff:169.254.169.254]:80": true,
		"10.1.2.3:8080": true, "[fd00::1]:80": true, "[2002:7f00:1::1]:80": true, "100.100.100.200:80": true,
		"8.8.8.8:53": false, "[2606:4700::1111]:443": false,
	} {
		err := guardControl(context.Background(), "tcp", addr, nil)
		var ge *GuardError
		assert.Equal(t, refused, errors.As(err, &ge), addr)
		if refused {
			assert.Equal(t, netip.MustParseAddrPort(addr).Addr().Unmap(), ge.Addr)
		}
	}
}

// Origin connections are kept alive, yet no request is ever sent twice:
// an origin that reads the second request of a kept-alive connection and
// closes it without answering sees that request once (net/http alone
// would send it again on a new connection), and the fetch fails instead
// (docs/SERVING.md §3.3). The first fetch's connection is reused.
func TestKeptAliveRequestsAreNeverReplayed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var mu sync.Mutex
	conns, requests, plain := 0, map[string]int{}, true
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns++
			mu.Unlock()
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					mu.Lock()
					requests[req.URL.Path]++
					if req.ContentLength != 0 || req.TransferEncoding != nil || req.Header.Get("Content-Length") != "" {
						plain = false // a GET with a body, or framing for one
					}
					mu.Unlock()
					if req.URL.Path == "/cut" {
						return // read, then closed without a byte of answer
					}
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}(c)
		}
	}()
	origin := "http://" + ln.Addr().String()
	f := &Fetcher{Store: memStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.DiscardHandler)}
	defer f.Shutdown(context.Background())

	dl, err := f.Fetch(context.Background(), "bkt", "first", decide(t, origin, "first"))
	require.NoError(t, err)
	require.NoError(t, dl.Wait(context.Background()))
	dl.Close()

	_, err = f.Fetch(context.Background(), "bkt", "cut", decide(t, origin, "cut"))
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, OutcomeFailed, fe.Outcome)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{"/first": 1, "/cut": 1}, requests, "each request reached the origin once")
	assert.Equal(t, 1, conns, "the second fetch reused the first one's connection")
	assert.True(t, plain, "each request on the wire was a plain GET, no body and no framing for one")
}

// memStore keeps objects in memory, as far as a fetch needs: Open finds
// nothing, and a commit is kept nowhere.
type memStore struct{ nullStore }

func (memStore) Create(context.Context, string, string) (Upload, error) { return &memUpload{}, nil }

type memUpload struct{ b []byte }

func (u *memUpload) Write(p []byte) (int, error) { u.b = append(u.b, p...); return len(p), nil }
func (u *memUpload) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(u.b)) {
		return 0, io.EOF
	}
	return copy(p, u.b[off:]), nil
}
func (u *memUpload) Commit(context.Context, ObjectInfo) error { return nil }
func (u *memUpload) Abort()                                   {}
