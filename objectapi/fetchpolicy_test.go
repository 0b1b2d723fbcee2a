package objectapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The decision's Policy on the object path (docs/SERVING.md §3.10):
// proxy-only rules, mode redirectFetch, pass-through; and rules that fire
// on hits (§1).

// halfThenWait is an origin that sends half of whole, closes started, and
// sends the rest once release is closed.
func halfThenWait(whole string, started, release chan struct{}) http.HandlerFunc {
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(whole)))
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, whole[:len(whole)/2])
		w.(http.Flusher).Flush()
		once.Do(func() { close(started) })
		<-release
		_, _ = io.WriteString(w, whole[len(whole)/2:])
	}
}

// A proxy-only rule (fetch.store false): 100 concurrent clients of one
// missing key share one origin request and all get the whole object;
// nothing is in the store afterwards, no spool is left, and the next GET
// asks the origin again.
func TestProxyOnlyServesWithoutStoring(t *testing.T) {
	const clients = 100
	started, release := make(chan struct{}), make(chan struct{})
	whole := strings.Repeat("0123456789", 20000)
	var serve atomic.Pointer[http.HandlerFunc]
	first := halfThenWait(whole, started, release)
	serve.Store(&first)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { (*serve.Load())(w, r) })
	spools := t.TempDir()
	var joins atomic.Int64
	var outcomes sync.Map
	g := newGateway(t, func(f *pull.Fetcher) {
		f.SpoolDir = spools
		f.Hooks.Join = func() { joins.Add(1) }
		f.Hooks.Fetch = func(r pull.FetchResult) { outcomes.Store(r.Outcome, true) }
	})
	g.setRules("bkt", fetchRule(o.URL, `"fetch":{"store":false}`))

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
		switch {
		case err != nil:
		case resp.StatusCode != 200:
			err = fmt.Errorf("status %d", resp.StatusCode)
		case b != whole:
			err = fmt.Errorf("got %d bytes", len(b))
		}
		if err != nil {
			errs <- err
		}
	}
	wg.Add(1)
	go get()
	<-started // half the body is in: the others join mid-body
	for i := 1; i < clients; i++ {
		wg.Add(1)
		go get()
	}
	require.Eventually(t, func() bool { return joins.Load() == clients-1 }, 5*time.Second, time.Millisecond,
		"every other client joined the running fetch")
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, int64(1), o.hits.Load(), "one origin request for the burst")
	_, err := g.store.Open(context.Background(), "bkt", "shared")
	assert.ErrorIs(t, err, pull.ErrNotFound, "nothing stored")
	has, err := g.store.HasObjects(context.Background(), "bkt")
	require.NoError(t, err)
	assert.False(t, has, "nothing half-written either")
	require.Eventually(t, func() bool {
		left, _ := os.ReadDir(spools)
		return len(left) == 0
	}, 5*time.Second, 10*time.Millisecond, "the spool goes once its last client is answered")
	_, proxied := outcomes.Load(pull.OutcomeProxied)
	assert.True(t, proxied, "the fetch's outcome is proxied")
	_, stored := outcomes.Load(pull.OutcomeStored)
	assert.False(t, stored)

	// The next GET asks the origin again.
	again := content(whole)
	serve.Store(&again)
	b, err := body(g.do("GET", "/bkt/shared"))
	require.NoError(t, err)
	assert.Equal(t, whole, b)
	assert.Equal(t, int64(2), o.hits.Load())
	_, _, ok := g.stored("bkt", "shared")
	assert.False(t, ok)
}

// The answers a stored miss gives after its commit (a HEAD, several
// ranges, a precondition) are read from a proxy-only fetch's spool: the
// store has nothing to read.
func TestProxyOnlyAnswersAsHitFromSpool(t *testing.T) {
	whole := strings.Repeat("abcdefghij", 1000)
	o := newOrigin(t, content(whole, "Content-Type: text/plain"))
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL, `"fetch":{"store":false}`))

	head := g.do("HEAD", "/bkt/k")
	head.Body.Close()
	assert.Equal(t, 200, head.StatusCode)
	assert.Equal(t, fmt.Sprint(len(whole)), head.Header.Get("Content-Length"))
	assert.NotEmpty(t, head.Header.Get("ETag"), "the HEAD waited for the end, as for a stored miss")

	resp := g.do("GET", "/bkt/k", "Range: bytes=0-1,5-6")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, 206, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "multipart/byteranges")
	assert.Contains(t, b, "ab")

	resp = g.do("GET", "/bkt/k", "If-None-Match: \"nope\"")
	b, err = body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, whole, b)

	assert.Equal(t, int64(3), o.hits.Load(), "each request asked the origin: nothing is kept")
	_, _, ok := g.stored("bkt", "k")
	assert.False(t, ok)
}

// noFollow is a client that hands back redirects instead of following
// them.
func noFollow(g *gateway) *http.Client {
	c := *g.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Mode redirectFetch: the client is redirected at once, before the
// origin's body ends, and the object is fetched into the store in the
// background.
func TestRedirectFetchRedirectsAtOnceAndStores(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	whole := strings.Repeat("r", 100000)
	o := newOrigin(t, halfThenWait(whole, started, release))
	g := newGateway(t)
	g.setRules("bkt", `{"rules":[{"mode":"redirectFetch","sourceUrl":"`+o.URL+`","resource":"*"}]}`)

	resp, err := noFollow(g).Get(g.srv.URL + "/bkt/dir/k")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, o.URL+"/dir/k", resp.Header.Get("Location"))
	// The origin's body ends only once release is closed: the redirect
	// came first.
	<-started // the background fetch reached the origin
	_, _, ok := g.stored("bkt", "dir/k")
	assert.False(t, ok, "not stored before the body is whole")
	close(release)
	require.Eventually(t, func() bool { _, _, ok := g.stored("bkt", "dir/k"); return ok }, 5*time.Second, 10*time.Millisecond)
	got, _, _ := g.stored("bkt", "dir/k")
	assert.Equal(t, whole, got)
	assert.Equal(t, int64(1), o.hits.Load())

	// Stored: the next GET is a hit.
	resp, err = noFollow(g).Get(g.srv.URL + "/bkt/dir/k")
	require.NoError(t, err)
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, whole, b)
	assert.Equal(t, int64(1), o.hits.Load())
}

// A redirectFetch whose fetch the gateway refuses (SlowDown: every slot
// taken) still redirects, and the refusal is logged.
func TestRedirectFetchSlowDownStillRedirects(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	o := newOrigin(t, halfThenWait("abcdef", started, release))
	g := newGateway(t, func(f *pull.Fetcher) { f.MaxFetches = 1 })
	g.setRules("bkt", `{"rules":[{"mode":"redirectFetch","sourceUrl":"`+o.URL+`","resource":"*","redirect":{"code":307}}]}`)
	c := noFollow(g)
	resp, err := c.Get(g.srv.URL + "/bkt/one")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	<-started // its fetch holds the one slot
	resp, err = c.Get(g.srv.URL + "/bkt/two")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	assert.Equal(t, o.URL+"/two", resp.Header.Get("Location"))
	id := resp.Header.Get("X-Request-Id")
	require.NotEmpty(t, id)
	logged := ""
	for _, line := range strings.Split(g.logs.String(), "\n") {
		if strings.Contains(line, "request="+id) {
			logged = line
		}
	}
	assert.Contains(t, logged, "outcome=slow_down")
	assert.Contains(t, logged, "redirected")
	assert.Equal(t, int64(1), o.hits.Load(), "the refused fetch asked nothing")
}

// firstPick draws as the pull package draws its first origin.
func TestFirstPick(t *testing.T) {
	urls := []string{"http://a/k", "http://b/k", "http://c/k", "http://backup/k"}
	d := &mirror.Decision{URLs: urls}
	fixed := func(v int) func(int) int { return func(int) int { return v } }
	assert.Equal(t, 0, firstPick(d, fixed(2)), "no policy: the first")
	d.Policy = &mirror.Policy{Primaries: 3, Pick: mirror.PickOrdered}
	assert.Equal(t, 0, firstPick(d, fixed(2)))
	d.Policy = &mirror.Policy{Primaries: 3, Pick: mirror.PickRandom}
	assert.Equal(t, 2, firstPick(d, fixed(2)), "random: a primary, never a backup")
	var n int
	firstPick(d, func(k int) int { n = k; return 0 })
	assert.Equal(t, 3, n)
	d.Policy = &mirror.Policy{Primaries: 3, Pick: mirror.PickWeighted, Weights: []int{1, 0, 3}}
	for draw, want := range map[int]int{0: 0, 1: 2, 2: 2, 3: 2} {
		assert.Equal(t, want, firstPick(d, fixed(draw)), "draw %d", draw)
	}
}

// A redirectFetch is never a redirect to a bos:// or s3:// URL (the
// engine refuses such rules; this holds whatever it hands over): it is
// answered as a fetch would be.
func TestRedirectFetchNeverToSignedOrigins(t *testing.T) {
	for _, scheme := range []string{"bos", "s3"} {
		d := &mirror.Decision{Mode: mirror.ModeRedirectFetch, RedirectCode: 302, URLs: []string{scheme + "://endpoint/bucket/k"},
			Origins: []mirror.Origin{{Scheme: scheme, Host: "endpoint", Path: "/bucket/k"}}}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/bkt/k", nil)
		assert.False(t, (&Handler{}).redirectFetch(rec, req, nil, "bkt", "k", d), scheme)
		assert.Empty(t, rec.Header().Get("Location"), scheme)
	}
}

// fetch.passStatus hands an origin's error on: its status, its kept
// headers, its body, marked; without it, the gateway's own failure.
func TestPassStatusHandsOnTheOriginsError(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Set-Cookie", "secret=1")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<Error>denied</Error>")
	})
	g := newGateway(t)
	g.setRules("pass", fetchRule(o.URL, `"fetch":{"passStatus":[403]}`))
	g.setRules("own", fetchRule(o.URL))

	resp := g.do("GET", "/pass/k")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "<Error>denied</Error>", b)
	assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	assert.Equal(t, "origin", resp.Header.Get(PassedHeader))
	assert.Equal(t, "sandbox", resp.Header.Get("Content-Security-Policy"))
	assert.Empty(t, resp.Header.Get("Set-Cookie"), "only the kept headers")
	assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))

	head := g.do("HEAD", "/pass/k")
	head.Body.Close()
	assert.Equal(t, http.StatusForbidden, head.StatusCode)
	assert.Equal(t, "origin", head.Header.Get(PassedHeader))

	resp = g.do("GET", "/own/k")
	assert.Equal(t, http.StatusFailedDependency, resp.StatusCode)
	assert.Empty(t, resp.Header.Get(PassedHeader))
	assert.Equal(t, "MirrorFailed", errorCode(t, resp).Code)
	for _, k := range []string{"pass", "own"} {
		_, _, ok := g.stored(k, "k")
		assert.False(t, ok)
	}
}

// A body past pull.MaxPassedBody is cut there, and the answer says so.
func TestPassStatusTruncated(t *testing.T) {
	big := strings.Repeat("e", pull.MaxPassedBody+100)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // the origin sends none
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, big)
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL, `"fetch":{"passStatus":["5xx"]}`))
	resp := g.do("GET", "/bkt/k")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, big[:pull.MaxPassedBody], b)
	assert.Equal(t, "origin; truncated", resp.Header.Get(PassedHeader))
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"), "never sniffed")
}

// S3's website redirects apply to keys that exist: a rule imported with
// on "always" redirects a stored key instead of serving it, and a key no
// such rule covers is served as a hit.
func TestRulesOnHits(t *testing.T) {
	g := newGateway(t)
	require.NoError(t, g.configs.Put(context.Background(), "site", mirror.FormatS3, []byte(`<WebsiteConfiguration><RoutingRules><RoutingRule>`+
		`<Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>`+
		`<Redirect><HostName>www.example.com</HostName><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect>`+
		`</RoutingRule></RoutingRules></WebsiteConfiguration>`)))
	g.public("site")
	g.put("site", "docs/a.html", "old page")
	g.put("site", "img/b.png", "picture")
	c := noFollow(g)

	resp, err := c.Get(g.srv.URL + "/site/docs/a.html")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode, "the stored key is redirected")
	assert.Equal(t, "http://www.example.com/documents/a.html", resp.Header.Get("Location"))

	resp, err = c.Get(g.srv.URL + "/site/img/b.png")
	require.NoError(t, err)
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode, "no rule covers it: the hit is served")
	assert.Equal(t, "picture", b)

	// only-if-cached is answered by the store alone.
	req, _ := http.NewRequest("GET", g.srv.URL+"/site/docs/a.html", nil)
	req.Header.Set("Cache-Control", "only-if-cached")
	resp, err = c.Do(req)
	require.NoError(t, err)
	b, err = body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "old page", b)
}

// A redirect rule without "on" answers misses only, as before: its hits
// are served; and a fetch rule "on: always" is no reason to leave a hit.
func TestRulesOnMissesOnlyServeHits(t *testing.T) {
	o := newOrigin(t, content("from origin"))
	g := newGateway(t)
	g.setRules("miss", `{"rules":[{"mode":"redirect","sourceUrl":"http://elsewhere.example.com","resource":"*"}]}`)
	g.setRules("fetch", `{"rules":[{"mode":"fetch","sourceUrl":"`+o.URL+`","resource":"*","on":"always"}]}`)
	g.public("miss")
	g.public("fetch")
	c := noFollow(g)
	for _, bucket := range []string{"miss", "fetch"} {
		g.put(bucket, "k", "stored "+bucket)
		resp, err := c.Get(g.srv.URL + "/" + bucket + "/k")
		require.NoError(t, err)
		b, err := body(resp)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode, bucket)
		assert.Equal(t, "stored "+bucket, b)
	}
	resp, err := c.Get(g.srv.URL + "/miss/absent")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "the miss is still redirected")
	assert.Zero(t, o.hits.Load())
}

// The read policy is judged first: an unsigned read of a private bucket
// is refused, never redirected.
func TestRulesOnHitsAfterTheReadPolicy(t *testing.T) {
	g := newGateway(t)
	g.setRules("priv", `{"rules":[{"mode":"redirect","sourceUrl":"http://elsewhere.example.com","resource":"*","on":"always"}]}`)
	require.NoError(t, g.configs.SetPolicy(context.Background(), "priv", "private"))
	g.put("priv", "k", "secret")
	resp, err := noFollow(g).Get(g.srv.URL + "/priv/k")
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "AccessDenied", errorCode(t, resp).Code)
}
