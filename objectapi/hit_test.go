package objectapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// putObject commits data under bucket/key, its ETag its MD5.
func putObject(t testing.TB, s pull.Store, bucket, key string, data []byte) pull.ObjectInfo {
	ctx := context.Background()
	up, err := s.Create(ctx, bucket, key)
	require.NoError(t, err)
	defer up.Abort()
	_, err = up.Write(data)
	require.NoError(t, err)
	sum := md5.Sum(data)
	info := pull.ObjectInfo{Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]),
		LastModified: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Header: http.Header{"Content-Type": {"application/x-test"}}}
	require.NoError(t, up.Commit(ctx, info))
	return info
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// Hits are sent from the object's file (sendfile over plain TCP, a copy
// over TLS and HTTP/2), and every answer http.ServeContent gives is the
// same: whole objects, single ranges (from, to past the end, suffix),
// several ranges, unsatisfiable ones, HEAD, and the preconditions.
func TestHitsAreServedFromTheirFile(t *testing.T) {
	g := newGateway(t)
	big := randomBytes(1<<20+123, 1)
	small := randomBytes(4<<10, 2)
	bigInfo := putObject(t, g.store, "bkt", "big", big)
	putObject(t, g.store, "bkt", "small", small)

	tlsSrv := httptest.NewTLSServer(g.handler)
	defer tlsSrv.Close()
	h2Srv := httptest.NewUnstartedServer(g.handler)
	h2Srv.EnableHTTP2 = true
	h2Srv.StartTLS()
	defer h2Srv.Close()
	for _, srv := range []struct {
		name   string
		url    string
		client *http.Client
		proto  int
	}{
		{"tcp", g.srv.URL, g.srv.Client(), 1},
		{"tls", tlsSrv.URL, tlsSrv.Client(), 1},
		{"h2", h2Srv.URL, h2Srv.Client(), 2},
	} {
		t.Run(srv.name, func(t *testing.T) {
			get := func(method, key string, headers ...string) (*http.Response, []byte) {
				t.Helper()
				req, err := http.NewRequest(method, srv.url+"/bkt/"+key, nil)
				require.NoError(t, err)
				for i := 0; i < len(headers); i += 2 {
					req.Header.Set(headers[i], headers[i+1])
				}
				resp, err := srv.client.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, srv.proto, resp.ProtoMajor)
				return resp, b
			}
			for _, obj := range []struct {
				key  string
				data []byte
			}{{"big", big}, {"small", small}} {
				size := len(obj.data)
				resp, b := get("GET", obj.key)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, strconv.Itoa(size), resp.Header.Get("Content-Length"))
				assert.True(t, bytes.Equal(obj.data, b), "%s: the whole object", obj.key)
				for _, r := range []struct {
					spec     string
					from, to int // to: inclusive
				}{
					{"bytes=100-3000", 100, 3000},
					{fmt.Sprintf("bytes=%d-", size/3), size / 3, size - 1},
					{fmt.Sprintf("bytes=17-%d", 10*size), 17, size - 1},
					{"bytes=-1000", size - 1000, size - 1},
					{fmt.Sprintf("bytes=-%d", 10*size), 0, size - 1},
					{fmt.Sprintf("bytes=%d-%d", size-1, size-1), size - 1, size - 1},
				} {
					resp, b := get("GET", obj.key, "Range", r.spec)
					assert.Equal(t, http.StatusPartialContent, resp.StatusCode, r.spec)
					assert.Equal(t, fmt.Sprintf("bytes %d-%d/%d", r.from, r.to, size), resp.Header.Get("Content-Range"), r.spec)
					assert.True(t, bytes.Equal(obj.data[r.from:r.to+1], b), "%s %s", obj.key, r.spec)
				}
				for _, spec := range []string{fmt.Sprintf("bytes=%d-", size), fmt.Sprintf("bytes=%d-%d", 2*size, 3*size), "bytes=-0"} {
					resp, _ := get("GET", obj.key, "Range", spec)
					assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode, spec)
					assert.Equal(t, "bytes */"+strconv.Itoa(size), resp.Header.Get("Content-Range"), spec)
				}

				// Several ranges: multipart/byteranges.
				resp, b = get("GET", obj.key, "Range", fmt.Sprintf("bytes=0-99,%d-%d,-10", size/2, size/2+999))
				assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
				mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
				require.NoError(t, err)
				require.Equal(t, "multipart/byteranges", mt)
				mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
				for _, want := range [][2]int{{0, 99}, {size / 2, size/2 + 999}, {size - 10, size - 1}} {
					part, err := mr.NextPart()
					require.NoError(t, err)
					got, err := io.ReadAll(part)
					require.NoError(t, err)
					assert.Equal(t, fmt.Sprintf("bytes %d-%d/%d", want[0], want[1], size), part.Header.Get("Content-Range"))
					assert.True(t, bytes.Equal(obj.data[want[0]:want[1]+1], got), "%s part %v", obj.key, want)
				}
				_, err = mr.NextPart()
				assert.ErrorIs(t, err, io.EOF)

				resp, b = get("HEAD", obj.key)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, strconv.Itoa(size), resp.Header.Get("Content-Length"))
				assert.Empty(t, b)
			}

			etag := `"` + bigInfo.ETag + `"`
			resp, b := get("GET", "big", "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, resp.StatusCode)
			assert.Empty(t, b)
			resp, _ = get("GET", "big", "If-None-Match", `"other"`)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			resp, _ = get("GET", "big", "If-Modified-Since", bigInfo.LastModified.Format(http.TimeFormat))
			assert.Equal(t, http.StatusNotModified, resp.StatusCode)
			resp, b = get("GET", "big", "If-Modified-Since", bigInfo.LastModified.Add(-time.Hour).Format(http.TimeFormat))
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.True(t, bytes.Equal(big, b))
			resp, b = get("GET", "big", "Range", "bytes=5-99999", "If-Range", etag)
			assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
			assert.True(t, bytes.Equal(big[5:100000], b))
			resp, b = get("GET", "big", "Range", "bytes=5-99999", "If-Range", `"other"`)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "If-Range of another version: the whole object")
			assert.True(t, bytes.Equal(big, b))
			resp, _ = get("GET", "big", "If-Match", `"other"`)
			assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
		})
	}
}

// A connection that answered a hit from the file carries the next request
// (the response ended where its Content-Length said).
func TestAConnectionGoesOnAfterAHitFromTheFile(t *testing.T) {
	g := newGateway(t)
	data := randomBytes(3<<20, 3)
	putObject(t, g.store, "bkt", "k", data)
	reused := 0
	for i := range 4 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused++
			}
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", g.srv.URL+"/bkt/k", nil)
		require.NoError(t, err)
		if i%2 == 1 {
			req.Header.Set("Range", "bytes=1000-2000000")
		}
		resp, err := g.srv.Client().Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		if i%2 == 1 {
			require.True(t, bytes.Equal(data[1000:2000001], b))
		} else {
			require.True(t, bytes.Equal(data, b))
		}
	}
	assert.Equal(t, 3, reused)
}

// rawGet sends a GET for path on a connection whose receive buffer is
// small, as a slow client's is, and returns the connection with the
// answer's headers read.
func rawGet(t *testing.T, addr, path string) (net.Conn, int64) {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 32<<10) })
	}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: gw\r\n\r\n", path)
	require.NoError(t, err)
	// The headers, byte by byte, so that no body byte is taken with them.
	var head []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		_, err := io.ReadFull(c, one)
		require.NoError(t, err)
		head = append(head, one[0])
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return c, resp.ContentLength
}

// A slow client of a hit from the file, that takes less than a chunk
// (sendChunk) in ProgressTimeout but keeps reading, gets the whole
// object: the deadline passes in the middle of a chunk that is moving,
// and the copy goes on.
func TestASlowReaderOfAHitGetsItAll(t *testing.T) {
	g := newGateway(t)
	g.handler.ProgressTimeout = 100 * time.Millisecond
	data := randomBytes(sendChunk+sendChunk/2, 4)
	putObject(t, g.store, "bkt", "k", data)
	c, n := rawGet(t, g.srv.Listener.Addr().String(), "/bkt/k")
	require.Equal(t, int64(len(data)), n)
	got := make([]byte, 0, len(data))
	buf := make([]byte, 64<<10)
	start := time.Now()
	for len(got) < len(data) {
		k, err := c.Read(buf)
		got = append(got, buf[:k]...)
		require.NoError(t, err, "after %d bytes", len(got))
		time.Sleep(5 * time.Millisecond) // at most 13 MB/s
	}
	t.Logf("%d bytes in %v", len(got), time.Since(start))
	assert.Greater(t, time.Since(start), 3*g.handler.ProgressTimeout)
	assert.True(t, bytes.Equal(data, got))
}

// A client that stops reading a hit from the file is dropped once its
// ProgressTimeout passes with too little moved.
func TestAStalledReaderOfAHitIsDropped(t *testing.T) {
	g := newGateway(t)
	g.handler.ProgressTimeout = 200 * time.Millisecond
	served := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		g.handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	data := randomBytes(64<<20, 5) // more than the sockets hold
	putObject(t, g.store, "bkt", "k", data)
	c, _ := rawGet(t, srv.Listener.Addr().String(), "/bkt/k")
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still sends to a client that reads nothing")
	}
	n, err := io.Copy(io.Discard, c)
	require.NoError(t, err, "the connection ends")
	assert.Less(t, n, int64(len(data)), "with the answer cut short")
}
