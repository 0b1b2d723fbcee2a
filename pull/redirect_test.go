package pull

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chainOrigin redirects /hop/N to /hop/N-1, and /hop/0 answers the object.
func chainOrigin(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var asked atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		switch {
		case err != nil:
			http.NotFound(w, r)
		case n == 0:
			_, _ = io.WriteString(w, "the object")
		default:
			w.Header().Set("Location", fmt.Sprintf("/hop/%d", n-1))
			w.WriteHeader([]int{301, 302, 303, 307, 308}[n%5])
		}
	}))
	t.Cleanup(s.Close)
	return s, &asked
}

// A chain of 3 redirects is followed when the rule allows 3 hops, each hop
// counted as the origin's request; a chain of 11 is refused (fetch.
// followRedirects is at most 10) and fails over; without followRedirects
// the redirect is an answer that ends the fetch, as before.
func TestRedirectChains(t *testing.T) {
	o, asked := chainOrigin(t)
	backup, backupAsked := countingOrigin(t, http.StatusOK, "from the backup")
	var hops atomic.Int64
	f := healthFetcher(t, func(f *Fetcher) { f.Hooks.Origin = func(OriginResult) { hops.Add(1) } })
	ask := func(start, follow int) (string, error) {
		doc := fmt.Sprintf(`{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["%s/hop/"],"backSourceUrls":["%s"],"fetch":{"followRedirects":%d}}]}`,
			o.URL, backup.URL, follow)
		resp, err := f.ask(context.Background(), "bkt", decideDoc(t, doc, strconv.Itoa(start)), nil, &FetchResult{})
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	b, err := ask(3, 3)
	require.NoError(t, err)
	assert.Equal(t, "the object", b)
	assert.Equal(t, int64(4), asked.Load(), "3 redirects and the object")
	assert.Equal(t, int64(4), hops.Load(), "each hop is an origin request")

	asked.Store(0)
	b, err = ask(11, 10)
	require.NoError(t, err)
	assert.Equal(t, "from the backup", b, "11 redirects are past any rule's hops: the fetch fails over")
	assert.Equal(t, int64(11), asked.Load(), "the first request and 10 hops")
	assert.Equal(t, int64(1), backupAsked.Load())

	_, err = ask(1, 0)
	var fe *FetchError
	require.ErrorAs(t, err, &fe, "a redirect the rule does not follow ends the fetch")
	assert.Equal(t, OutcomeFailed, fe.Outcome)
	assert.Contains(t, fe.Message, "302 Found")
}

// publicLoopback makes 127.0.0.2 pass the dial guard, as a public address
// would, for the test's length: the origin there is "public", and the
// guard still judges every other address.
func publicLoopback(t *testing.T) {
	saved := nonRoutable
	nonRoutable = func(a netip.Addr) (netip.Prefix, bool) {
		if a == netip.MustParseAddr("127.0.0.2") {
			return netip.Prefix{}, false
		}
		return saved(a)
	}
	t.Cleanup(func() { nonRoutable = saved })
}

// A redirect to a loopback or metadata address is refused at dial time
// without AllowPrivateOrigins, as a first request there would be: the hop
// goes through the same guard.
func TestRedirectHopsGoThroughTheDialGuard(t *testing.T) {
	publicLoopback(t)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("this machine has no 127.0.0.2: %v", err)
	}
	var target atomic.Value
	o := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target.Load().(string))
		w.WriteHeader(http.StatusFound)
	})}}
	o.Start()
	defer o.Close()
	internal, internalAsked := countingOrigin(t, http.StatusOK, "internal secret") // on 127.0.0.1
	f := healthFetcher(t, func(f *Fetcher) { f.AllowPrivateOrigins = false })
	d := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrl":"`+o.URL+`","fetch":{"followRedirects":5}}]}`, "k")
	for _, to := range []string{internal.URL + "/secret", "http://169.254.169.254/latest/meta-data/"} {
		target.Store(to)
		_, err := f.ask(context.Background(), "bkt", d, nil, &FetchResult{})
		var fe *FetchError
		require.ErrorAs(t, err, &fe, to)
		assert.Contains(t, fe.Message, "dial guard", to)
	}
	assert.Zero(t, internalAsked.Load(), "no hop reached the loopback origin")
}

// The rule's headers (credentials among them) go to the origin and to a
// redirect on the same host, never to another host.
func TestRedirectsToAnotherHostDropTheRuleHeaders(t *testing.T) {
	var seen atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Clone())
		_, _ = io.WriteString(w, "elsewhere")
	}))
	defer other.Close()
	var firstSeen, sameSeen atomic.Value
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/k":
			firstSeen.Store(r.Header.Clone())
			w.Header().Set("Location", "/same")
			w.WriteHeader(http.StatusMovedPermanently)
		case "/same":
			sameSeen.Store(r.Header.Clone())
			w.Header().Set("Location", other.URL+"/there")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}
	}))
	defer o.Close()
	f := healthFetcher(t, nil)
	d := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrl":"`+o.URL+`","fetch":{"followRedirects":3}}]}`, "k")
	d.Header = http.Header{"Authorization": {"Bearer secret"}, "X-Custom": {"tenant"}}
	resp, err := f.ask(context.Background(), "bkt", d, nil, &FetchResult{})
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "elsewhere", string(b))
	for name, h := range map[string]http.Header{"first": firstSeen.Load().(http.Header), "same host": sameSeen.Load().(http.Header)} {
		assert.Equal(t, "Bearer secret", h.Get("Authorization"), name)
		assert.Equal(t, "tenant", h.Get("X-Custom"), name)
	}
	h := seen.Load().(http.Header)
	assert.Empty(t, h.Get("Authorization"), "no credentials to another host")
	assert.Empty(t, h.Get("X-Custom"), "no rule header to another host")
	assert.Equal(t, LoopMarker, h.Get("Via"), "the loop marker goes everywhere")
}

// A bos:// origin's redirect is never followed: it fails over.
func TestSignedOriginsRedirectsAreNeverFollowed(t *testing.T) {
	p := &mirror.Policy{FollowRedirects: 5}
	o := &mirror.Origin{Scheme: "bos"}
	resp := &http.Response{StatusCode: http.StatusFound, Status: "302 Found", Body: io.NopCloser(strings.NewReader("")),
		Header: http.Header{"Location": {"http://elsewhere.example.com/"}}}
	req, _ := http.NewRequest(http.MethodGet, "https://bj.bcebos.com/b/k", nil)
	f := healthFetcher(t, nil)
	_, err := f.follow(context.Background(), o, p, req, resp)
	var re *RedirectError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Reason, "never followed")
}

// An origin error the rule passes on is read under the idle timeout: an
// origin that sends a byte and stalls is cut off, not waited on for the
// whole fetch timeout (found in review).
func TestAPassedBodyThatStallsIsCutOff(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "x")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer o.Close()
	f := healthFetcher(t, func(f *Fetcher) { f.IdleTimeout, f.FetchTimeout = 100*time.Millisecond, time.Hour })
	d := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrl":"`+o.URL+`","fetch":{"passStatus":["5xx"]}}]}`, "k")
	done := make(chan error, 1)
	go func() {
		_, err := f.ask(context.Background(), "bkt", d, nil, &FetchResult{})
		done <- err
	}()
	select {
	case err := <-done:
		var fe *FetchError
		require.ErrorAs(t, err, &fe)
		require.NotNil(t, fe.Passed)
		assert.True(t, fe.Passed.Truncated, "what arrived is handed on, marked short")
		assert.Equal(t, "x", string(fe.Passed.Body))
	case <-time.After(30 * time.Second):
		t.Fatal("the passed body was waited on past its idle timeout")
	}
}
