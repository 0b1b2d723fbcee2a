package objectapi

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each row of the outcomes table (docs/SERVING.md §3.4), against loopback
// origins that misbehave on purpose.

func TestOutcomeCompleteBodyIsStored(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: chunked.
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "part%d;", i)
			w.(http.Flusher).Flush()
		}
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/k")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "part0;part1;part2;part3;part4;", b)
	assert.Equal(t, int64(-1), resp.ContentLength, "no Content-Length when the origin sent none")
	assert.Empty(t, resp.Header.Get("ETag"), "ETag is only promised on hits")
	got, info, ok := g.stored("bkt", "k")
	require.True(t, ok)
	assert.Equal(t, b, got)
	assert.Equal(t, fmt.Sprintf("%x", md5.Sum([]byte(b))), info.ETag)
}

func TestOutcomeNotFoundDoesNotFailOver(t *testing.T) {
	primary := newOrigin(t, http.NotFound)
	backup := newOrigin(t, content("backup"))
	g := newGateway(t)
	g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+primary.URL+`","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
	resp := g.do("GET", "/bkt/k")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "NoSuchKey", errorCode(t, resp).Code)
	assert.Zero(t, backup.hits.Load())
	_, _, ok := g.stored("bkt", "k")
	assert.False(t, ok)
	// No negative caching by default: the next GET asks again.
	resp = g.do("GET", "/bkt/k")
	resp.Body.Close()
	assert.Equal(t, int64(2), primary.hits.Load())
}

func TestNegativeTTL(t *testing.T) {
	primary := newOrigin(t, http.NotFound)
	g := newGateway(t, func(f *pull.Fetcher) { f.NegativeTTL = time.Minute })
	g.setRules("bkt", fetchRule(primary.URL))
	for i := 0; i < 3; i++ {
		resp := g.do("GET", "/bkt/k")
		assert.Equal(t, "NoSuchKey", errorCode(t, resp).Code)
	}
	assert.Equal(t, int64(1), primary.hits.Load())
}

func TestOutcomeFailover(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503, 504} {
		primary := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
		backup := newOrigin(t, content("from backup"))
		g := newGateway(t)
		g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+primary.URL+`","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
		b, err := body(g.do("GET", "/bkt/k"))
		require.NoError(t, err)
		assert.Equal(t, "from backup", b, status)
		assert.Equal(t, int64(1), primary.hits.Load(), "no origin is asked twice")
	}
	// A refused connection fails over too.
	dead := newOrigin(t, content("x"))
	deadURL := dead.URL
	dead.Close()
	backup := newOrigin(t, content("alive"))
	g := newGateway(t)
	g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+deadURL+`","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
	b, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err)
	assert.Equal(t, "alive", b)
}

func TestOutcomeEveryOriginFailed(t *testing.T) {
	primary := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	backup := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) })
	g := newGateway(t)
	g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+primary.URL+`","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
	resp := g.do("GET", "/bkt/k")
	assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
	e, detail := g.answerAndLog(t, resp)
	assert.Equal(t, "MirrorFailed", e.Code)
	assert.Contains(t, detail, "502", "the log names the last failure")
	assert.Equal(t, int64(1), primary.hits.Load())
	assert.Equal(t, int64(1), backup.hits.Load())
}

func TestOutcomeHeaderTimeoutFailsOver(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	primary := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	backup := newOrigin(t, content("in time"))
	g := newGateway(t, func(f *pull.Fetcher) { f.HeaderTimeout = 200 * time.Millisecond })
	g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+primary.URL+`","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
	b, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err)
	assert.Equal(t, "in time", b)
}

func TestOutcomeOtherStatusDoesNotFailOver(t *testing.T) {
	for _, serve := range map[string]http.HandlerFunc{
		"403": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) },
		"206": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(206) },
		"redirect to the metadata address": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		},
	} {
		primary := newOrigin(t, serve)
		backup := newOrigin(t, content("backup"))
		g := newGateway(t)
		g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+primary.URL+`","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
		resp := g.do("GET", "/bkt/k")
		assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
		assert.Equal(t, "MirrorFailed", errorCode(t, resp).Code)
		assert.Zero(t, backup.hits.Load())
		_, _, ok := g.stored("bkt", "k")
		assert.False(t, ok)
	}
}

// assertNotClean: a failed fetch gives either an error answer (it failed
// before the first byte was sent) or a response that does not end
// cleanly, never a whole-looking 200.
func assertNotClean(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		assert.Equal(t, http.StatusFailedDependency, resp.StatusCode, what)
		assert.Equal(t, "MirrorFailed", errorCode(t, resp).Code, what)
		return
	}
	_, err := body(resp)
	assert.Error(t, err, "%s: the client must see an incomplete response", what)
}

// rawOrigin answers every connection with what answer writes on it.
func rawOrigin(t *testing.T, answer func(c net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = http.ReadRequest(bufio.NewReader(c))
				answer(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// A body cut short, or a connection reset mid-body, aborts the client's
// response: it never ends cleanly, and nothing is stored.
func TestOutcomeBodyCutShort(t *testing.T) {
	for name, answer := range map[string]func(c net.Conn){
		"short of Content-Length": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+strings.Repeat("x", 60))
		},
		"reset mid-body": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 5000))
			c.(*net.TCPConn).SetLinger(0)
		},
		"chunked, cut": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
		},
	} {
		g := newGateway(t)
		g.setRules("bkt", fetchRule(rawOrigin(t, answer)))
		assertNotClean(t, g.do("GET", "/bkt/k"), name)
		_, _, ok := g.stored("bkt", "k")
		assert.False(t, ok, name)
	}
}

func TestOutcomeStalledBodyAborts(t *testing.T) {
	release := make(chan struct{})
	defer close(release) // before the origin's Close, which waits for this handler
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		_, _ = w.Write([]byte("01234"))
		w.(http.Flusher).Flush()
		<-release
	})
	g := newGateway(t, func(f *pull.Fetcher) { f.IdleTimeout = 200 * time.Millisecond })
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/k")
	b, err := body(resp)
	assert.Error(t, err)
	assert.Equal(t, "01234", b, "what arrived, streamed (only the tenth byte would have been held back)")
	_, _, ok := g.stored("bkt", "k")
	assert.False(t, ok)
}

func TestOutcomeTooLarge(t *testing.T) {
	// Content-Length over the limit: 424 before any body is read.
	o := newOrigin(t, content(strings.Repeat("x", 2000)))
	g := newGateway(t, func(f *pull.Fetcher) { f.MaxObjectSize = 1000 })
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/k")
	assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
	assert.Contains(t, g.detail(t, resp), "2000 bytes")

	// No Content-Length, over the limit while streaming: aborted.
	o2 := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 20; i++ {
			_, _ = w.Write([]byte(strings.Repeat("y", 100)))
			w.(http.Flusher).Flush()
		}
	})
	g.setRules("b2b", fetchRule(o2.URL))
	assertNotClean(t, g.do("GET", "/b2b/k"), "over the limit while streaming")
	_, _, ok := g.stored("b2b", "k")
	assert.False(t, ok)
}

func TestOutcomeContentMD5(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(func() []byte { s := md5.Sum([]byte("payload")); return s[:] }())
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		md := good
		if strings.Contains(r.URL.Path, "bad") {
			md = base64.StdEncoding.EncodeToString(make([]byte, 16))
		}
		w.Header().Set("Content-MD5", md)
		_, _ = w.Write([]byte("payload"))
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	b, err := body(g.do("GET", "/bkt/good"))
	require.NoError(t, err)
	assert.Equal(t, "payload", b)
	assertNotClean(t, g.do("GET", "/bkt/bad"), "a wrong Content-MD5")
	_, _, ok := g.stored("bkt", "bad")
	assert.False(t, ok)
}

func TestOutcomeSlowDown(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		_, _ = w.Write([]byte("ab"))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("c"))
	})
	g := newGateway(t, func(f *pull.Fetcher) { f.MaxFetches = 1 })
	g.setRules("bkt", fetchRule(o.URL))
	first := g.do("GET", "/bkt/one")
	require.Equal(t, 200, first.StatusCode)
	resp := g.do("GET", "/bkt/two")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, "SlowDown", errorCode(t, resp).Code)
	// Joining the running fetch is never refused.
	joiner := g.do("GET", "/bkt/one")
	require.Equal(t, 200, joiner.StatusCode)
	close(release)
	for _, r := range []*http.Response{first, joiner} {
		b, err := body(r)
		require.NoError(t, err)
		assert.Equal(t, "abc", b)
	}
	assert.Equal(t, int64(1), o.hits.Load())
}

// 1,000 concurrent GETs of one missing key cause one origin request, and
// clients that arrive mid-body get the whole object.
func TestOneFetchForManyClients(t *testing.T) {
	const clients = 1000
	started := make(chan struct{})
	release := make(chan struct{})
	whole := strings.Repeat("0123456789", 10000)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(whole)))
		_, _ = io.WriteString(w, whole[:len(whole)/2])
		w.(http.Flusher).Flush()
		close(started)
		<-release
		_, _ = io.WriteString(w, whole[len(whole)/2:])
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	get := func() {
		defer wg.Done()
		resp, err := client.Get(g.srv.URL + "/bkt/shared")
		if err != nil {
			errs <- err
			return
		}
		b, err := body(resp)
		if err == nil && b != whole {
			err = fmt.Errorf("got %d bytes", len(b))
		}
		if err != nil {
			errs <- err
		}
	}
	wg.Add(1)
	go get()
	<-started // the body is half there: the rest arrive mid-body
	for i := 1; i < clients; i++ {
		wg.Add(1)
		go get()
	}
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, int64(1), o.hits.Load())
}

// The fetch belongs to no client: if every client goes away, it still
// runs to its end and the object is stored.
func TestFetchOutlivesItsClients(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "6")
		_, _ = io.WriteString(w, "abc")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "def")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", g.srv.URL+"/bkt/k", nil)
		resp, err := g.srv.Client().Do(req)
		require.NoError(t, err)
		buf := make([]byte, 2)
		_, err = io.ReadFull(resp.Body, buf)
		require.NoError(t, err)
		cancel() // the client is killed mid-fetch
		resp.Body.Close()
	}
	close(release)
	require.Eventually(t, func() bool { _, _, ok := g.stored("bkt", "k"); return ok }, 5*time.Second, 10*time.Millisecond)
	got, _, _ := g.stored("bkt", "k")
	assert.Equal(t, "abcdef", got)
	assert.Equal(t, int64(1), o.hits.Load())
}

// A response ends cleanly only after its object is committed: a client
// that read a whole response finds the next GET a hit.
func TestCleanEndOnlyAfterCommit(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4")
		_, _ = io.WriteString(w, "abc")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "d")
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/k")
	got := make([]byte, 2)
	_, err := io.ReadFull(resp.Body, got)
	require.NoError(t, err)
	assert.Equal(t, "ab", string(got), "bytes flow before the object is whole")
	read := make(chan []byte)
	go func() {
		rest, _ := io.ReadAll(resp.Body)
		read <- rest
	}()
	select {
	case <-read:
		t.Fatal("the response went past the held-back byte before the commit")
	case <-time.After(150 * time.Millisecond):
	}
	close(release)
	assert.Equal(t, "cd", string(<-read))
	resp.Body.Close()
	_, _, ok := g.stored("bkt", "k")
	assert.True(t, ok, "stored before the response ended")
	hit := g.do("GET", "/bkt/k")
	b, _ := body(hit)
	assert.Equal(t, "abcd", b)
	assert.Equal(t, int64(1), o.hits.Load())
}

// A single Range on a miss of known length is answered from the spool; a
// conditional request waits for the commit and is answered as a hit.
func TestRangeAndConditionalsOnAMiss(t *testing.T) {
	o := newOrigin(t, content("0123456789"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	resp := g.do("GET", "/bkt/r", "Range: bytes=2-5")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "2345", b)
	assert.Equal(t, "bytes 2-5/10", resp.Header.Get("Content-Range"))
	resp = g.do("GET", "/bkt/s", "Range: bytes=-3")
	b, _ = body(resp)
	assert.Equal(t, "789", b)
	resp = g.do("GET", "/bkt/m", "Range: bytes=0-1,4-5")
	b, _ = body(resp)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "multipart/byteranges")
	assert.Contains(t, b, "01")
	resp = g.do("GET", "/bkt/c", `If-None-Match: "x"`)
	b, _ = body(resp)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "0123456789", b)
	assert.NotEmpty(t, resp.Header.Get("ETag"), "answered as a hit")
	assert.Equal(t, int64(4), o.hits.Load())
}

// The origin request of docs/SERVING.md §3.8.
func TestOriginRequest(t *testing.T) {
	o := newOrigin(t, content("x"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/base", `"passQuerystring":true`, `"passHeaders":["Accept"]`,
		`"customHeaders":[{"headerName":"X-Origin-Token","headerValue":"t"}]`))
	g.public("bkt") // a token to the origin makes it private by default
	g.setRules("uaa", fetchRule(o.URL, `"passHeaders":["User-Agent"]`))
	resp := g.do("GET", "/bkt/a%20b/c+d?w=1&x-oss-signature=s", "Accept: image/*", "Cookie: s=1",
		"Range: bytes=0-0", "Accept-Encoding: gzip")
	_, _ = body(resp)
	reqs := o.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "/base/a%20b/c%2Bd?w=1", r.RequestURI)
	assert.Equal(t, "image/*", r.Header.Get("Accept"))
	assert.Equal(t, "t", r.Header.Get("X-Origin-Token"))
	assert.Equal(t, "identity", r.Header.Get("Accept-Encoding"))
	assert.Equal(t, pull.LoopMarker, r.Header.Get("Via"))
	assert.Equal(t, pull.UserAgent, r.Header.Get("User-Agent"))
	assert.Empty(t, r.Header.Get("Cookie"))
	assert.Empty(t, r.Header.Get("Range"))

	// A rule that passes or sets User-Agent keeps it.
	resp = g.do("GET", "/uaa/k", "User-Agent: curl/8")
	_, _ = body(resp)
	assert.Equal(t, "curl/8", o.requests()[1].Header.Get("User-Agent"))
}

// Origins answer with headers of every kind; only the six kept ones, when
// valid, reach the store and the client.
func TestStoredMetadata(t *testing.T) {
	o := newOrigin(t, content("x", "Content-Type: image/png", "Content-Encoding: gzip", "Content-Language: en",
		"Expires: Thu, 01 Jan 2099 00:00:00 GMT", "Set-Cookie: s=1", "X-Amz-Meta-A: b", "Server: evil",
		"Content-Disposition: inline"))
	o2 := newOrigin(t, content("y", "Content-Type: not a type", "Cache-Control: "+strings.Repeat("a", 9000)))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL))
	g.setRules("b2b", fetchRule(o2.URL))
	miss := g.do("GET", "/bkt/k")
	_, _ = body(miss)
	_, info, _ := g.stored("bkt", "k")
	assert.Equal(t, []string{"Content-Disposition", "Content-Encoding", "Content-Language", "Content-Type", "Expires"}, keys(info.Header))
	for _, h := range []string{"Set-Cookie", "X-Amz-Meta-A", "Server"} {
		assert.Empty(t, miss.Header.Get(h), h)
	}
	assert.Equal(t, "gzip", miss.Header.Get("Content-Encoding"))
	_, _ = body(g.do("GET", "/b2b/k"))
	_, info, _ = g.stored("b2b", "k")
	assert.Equal(t, "application/octet-stream", info.Header.Get("Content-Type"), "an invalid type is not kept")
	assert.Empty(t, info.Header.Get("Cache-Control"), "over 8 KiB")
}

func keys(h http.Header) []string {
	var out []string
	for k := range h {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
