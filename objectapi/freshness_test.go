package objectapi

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// changingOrigin is an origin of one object whose body, ETag and
// Last-Modified can change, answering conditional GETs as an HTTP server
// does; it counts the conditional requests.
type changingOrigin struct {
	mu          sync.Mutex
	body, etag  string
	modified    time.Time
	status      int // non-zero: answer this instead
	conditional atomic.Int64
	slow        chan struct{} // non-nil: a conditional request waits on it
}

func (v *changingOrigin) set(body, etag string, modified time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.body, v.etag, v.modified, v.status = body, etag, modified, 0
}

func (v *changingOrigin) fail(status int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.status = status
}

func (v *changingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		v.conditional.Add(1)
		if v.slow != nil {
			<-v.slow
		}
	}
	v.mu.Lock()
	body, etag, modified, status := v.body, v.etag, v.modified, v.status
	v.mu.Unlock()
	if status != 0 {
		http.Error(w, "no", status)
		return
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	if !modified.IsZero() {
		w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	switch {
	case inm != "" && inm == etag:
		w.WriteHeader(http.StatusNotModified)
		return
	case inm == "" && ims != "":
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write([]byte(body))
}

// A stale object is revalidated by one conditional GET with the validators
// stored at its fetch: 304 keeps it (and its age starts again), 200
// replaces it, 404 removes it, and any other failure serves it stale.
func TestStaleObjectsAreRevalidated(t *testing.T) {
	v := &changingOrigin{}
	v.set("version one", `"v1"`, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	o := newOrigin(t, v.ServeHTTP)
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/"))
	var maxAge atomic.Int64
	maxAge.Store(int64(time.Hour))
	g.handler.MaxAge = func(bucket string) time.Duration {
		if bucket != "bkt" {
			return 0
		}
		return time.Duration(maxAge.Load())
	}
	get := func() (int, string) {
		t.Helper()
		resp := g.do("GET", "/bkt/k")
		b, err := body(resp)
		require.NoError(t, err)
		return resp.StatusCode, b
	}

	code, b := get()
	require.Equal(t, 200, code)
	require.Equal(t, "version one", b)
	_, first, ok := g.stored("bkt", "k")
	require.True(t, ok)
	assert.Equal(t, `"v1"`, first.OriginETag, "the origin's validators are stored")
	assert.True(t, first.OriginModified)
	assert.False(t, first.Fetched.IsZero())

	// Younger than its maximum age: served, no origin contact.
	code, _ = get()
	assert.Equal(t, 200, code)
	assert.Equal(t, int64(1), o.hits.Load())

	// Older: one conditional GET, answered 304: kept, its age anew.
	maxAge.Store(1)
	code, b = get()
	assert.Equal(t, 200, code)
	assert.Equal(t, "version one", b)
	assert.Equal(t, int64(1), v.conditional.Load(), "one conditional request")
	reqs := o.requests()
	assert.Equal(t, `"v1"`, reqs[len(reqs)-1].Header.Get("If-None-Match"))
	assert.Equal(t, "Fri, 02 Jan 2026 03:04:05 GMT", reqs[len(reqs)-1].Header.Get("If-Modified-Since"))
	_, kept, ok := g.stored("bkt", "k")
	require.True(t, ok)
	assert.Equal(t, first.ETag, kept.ETag)
	assert.True(t, kept.Fetched.After(first.Fetched), "its age starts again")
	// The fetch line is written as the flight ends, which may be after
	// its client's answer.
	assert.Eventually(t, func() bool { return strings.Contains(g.fetchLogs.String(), "outcome=not_modified") },
		5*time.Second, time.Millisecond)

	// Changed at the origin: the 200 replaces it, streamed to this client.
	v.set("version two", `"v2"`, time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC))
	code, b = get()
	assert.Equal(t, 200, code)
	assert.Equal(t, "version two", b)
	assert.Equal(t, int64(2), v.conditional.Load(), "one conditional request")
	stored, info, ok := g.stored("bkt", "k")
	require.True(t, ok)
	assert.Equal(t, "version two", stored)
	assert.Equal(t, `"v2"`, info.OriginETag)

	// The origin fails: the stored object is served, stale.
	v.fail(http.StatusBadGateway)
	code, b = get()
	assert.Equal(t, 200, code)
	assert.Equal(t, "version two", b)

	// The origin has it no more: removed, 404.
	v.fail(http.StatusNotFound)
	code, _ = get()
	assert.Equal(t, 404, code)
	_, _, ok = g.stored("bkt", "k")
	assert.False(t, ok, "removed from the store")
}

// Many requests for one stale object make one conditional request: they
// join the revalidation's flight.
func TestARevalidationIsOneFlight(t *testing.T) {
	v := &changingOrigin{slow: make(chan struct{})}
	v.set("same", `"s"`, time.Time{})
	o := newOrigin(t, v.ServeHTTP)
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/"))
	resp := g.do("GET", "/bkt/k")
	_, err := body(resp)
	require.NoError(t, err)
	g.handler.MaxAge = func(string) time.Duration { return 1 }

	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i], _ = body(g.do("GET", "/bkt/k"))
		}()
	}
	require.Eventually(t, func() bool { return v.conditional.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the others arrive and join
	close(v.slow)
	wg.Wait()
	for _, b := range bodies {
		assert.Equal(t, "same", b)
	}
	assert.Equal(t, int64(1), v.conditional.Load())
	assert.Equal(t, int64(2), o.hits.Load(), "the fetch and one revalidation")
}

// Without an ETag, a revalidation asks If-Modified-Since, and only with
// the origin's own Last-Modified: an object whose origin gave neither is
// fetched again whole.
func TestRevalidationValidators(t *testing.T) {
	v := &changingOrigin{}
	v.set("dated", "", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	o := newOrigin(t, v.ServeHTTP)
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/"))
	g.handler.MaxAge = func(string) time.Duration { return 1 }
	for range 2 {
		b, err := body(g.do("GET", "/bkt/k"))
		require.NoError(t, err)
		assert.Equal(t, "dated", b)
	}
	reqs := o.requests()
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[1].Header.Get("If-None-Match"))
	assert.Equal(t, "Fri, 02 Jan 2026 03:04:05 GMT", reqs[1].Header.Get("If-Modified-Since"))

	v.set("undated", "", time.Time{})
	g.setRules("ckt", fetchRule(o.URL+"/"))
	for range 2 {
		b, err := body(g.do("GET", "/ckt/k"))
		require.NoError(t, err)
		assert.Equal(t, "undated", b)
	}
	reqs = o.requests()
	require.Len(t, reqs, 4)
	assert.Empty(t, reqs[3].Header.Get("If-None-Match"))
	assert.Empty(t, reqs[3].Header.Get("If-Modified-Since"), "no date of the origin's own to ask about")
}

// A 304 is an answer only to a revalidation that asked something: an
// origin that answers 304 to a plain GET (the object had no validators)
// has failed, and the stale object is served, its age unchanged (found in
// review).
func TestA304ToAPlainGETIsNoRevalidation(t *testing.T) {
	var n atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("plain"))
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/"))
	b, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err)
	require.Equal(t, "plain", b)
	_, before, _ := g.stored("bkt", "k")
	g.handler.MaxAge = func(string) time.Duration { return 1 }
	resp := g.do("GET", "/bkt/k")
	b, err = body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "plain", b, "served stale")
	_, after, _ := g.stored("bkt", "k")
	assert.Equal(t, before.Fetched, after.Fetched, "its age did not start again")
	assert.Eventually(t, func() bool { return strings.Contains(g.fetchLogs.String(), "outcome=failed") },
		5*time.Second, time.Millisecond, "the revalidation's line, written as its flight ends")
	assert.NotContains(t, g.fetchLogs.String(), "outcome=not_modified")
}
