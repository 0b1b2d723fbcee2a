package objectapi

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regressions of what a red-team review of the gateway found.

// slowStore is a directory store whose uploads take their time: each
// piece written waits write, the commit waits commit.
type slowStore struct {
	*dirstore.Store
	write, commit time.Duration
}

// slowUpload is a store's upload, still readable back (the spool).
type slowUpload struct {
	pull.Upload
	io.ReaderAt
	s *slowStore
}

func (s *slowStore) Create(ctx context.Context, b, k string) (pull.Upload, error) {
	u, err := s.Store.Create(ctx, b, k)
	if err != nil {
		return nil, err
	}
	return &slowUpload{u, u.(io.ReaderAt), s}, nil
}

func (u *slowUpload) Write(p []byte) (int, error) {
	time.Sleep(u.s.write)
	return u.Upload.Write(p)
}

func (u *slowUpload) Commit(ctx context.Context, info pull.ObjectInfo) error {
	time.Sleep(u.s.commit)
	return u.Upload.Commit(ctx, info)
}

// An empty object has no last byte to hold back: its response still ends
// only after the commit, and never cleanly when it is not stored.
func TestEmptyObjectEndsAfterItsCommit(t *testing.T) {
	o := newOrigin(t, content(""))
	g := newGateway(t)
	g.fetcher.Store = &slowStore{Store: g.store, commit: 300 * time.Millisecond}
	g.setRules("bkt", fetchRule(o.URL))
	_, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err)
	_, _, ok := g.stored("bkt", "k")
	assert.True(t, ok, "a whole response, and the object is stored")

	bad := newOrigin(t, content("", "Content-Md5: AAAAAAAAAAAAAAAAAAAAAA=="))
	g.setRules("b2b", fetchRule(bad.URL))
	assertNotClean(t, g.do("GET", "/b2b/k"), "an empty object with a wrong Content-MD5")
}

// halfClose sends a raw request, closes the write side as HTTP/1.0-style
// clients do, and reads the answer.
func halfClose(t *testing.T, addr, req string) (*http.Response, string, error) {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, req)
	require.NoError(t, err)
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// Go cancels a request's context when its client half-closes: the
// gateway must then abort, never end a response cleanly with part of the
// object or an empty 200.
func TestHalfClosedClientsNeverGetACleanWrongAnswer(t *testing.T) {
	slowTail := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first-part;")
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "second-part")
	})
	slowHead := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		content("first-part;second-part")(w, r)
	})
	g := newGateway(t)
	g.setRules("tail", fetchRule(slowTail.URL))
	g.setRules("head", fetchRule(slowHead.URL))
	for _, req := range []string{
		"GET /tail/k HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /head/k HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /tail/c HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\"\r\n\r\n",
	} {
		resp, b, err := halfClose(t, g.srv.Listener.Addr().String(), req)
		if err == nil && resp != nil {
			assert.Equal(t, "first-part;second-part", b, "a clean answer must be whole: %q", req)
		}
	}
}

// One fetch is one origin request: net/http replays a GET that failed on
// a reused connection, so origin connections are not reused.
func TestNoOriginRequestIsReplayed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var victim atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if strings.HasSuffix(req.URL.Path, "/victim") && victim.Add(1) == 1 {
						return // read, then dropped without an answer
					}
					_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				}
			}(c)
		}
	}()
	g := newGateway(t)
	g.setRules("bkt", fetchRule("http://"+ln.Addr().String()))
	_, err = body(g.do("GET", "/bkt/warm"))
	require.NoError(t, err)
	resp := g.do("GET", "/bkt/victim")
	resp.Body.Close()
	assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
	assert.Equal(t, int64(1), victim.Load(), "the origin was asked once")
}

// A fetch that failed leaves no trace that makes its bucket exist.
func TestFailedFetchDoesNotMakeABucket(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "short")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	_, _ = body(g.do("GET", "/bkt/k"))
	require.Eventually(t, func() bool { return g.fetcher.Running() == 0 }, 5*time.Second, 10*time.Millisecond)
	g.deleteRules("bkt")
	assert.Equal(t, "NoSuchBucket", errorCode(t, g.do("GET", "/bkt/other")).Code)
}

// TestNegativeCacheIsSwept moved to pull/fetcher_test.go: it reads the
// Fetcher's own table.
