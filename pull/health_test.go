package pull

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hangingOrigin accepts requests and never answers them until the test
// ends: each request to it costs a fetch its header timeout.
func hangingOrigin(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var asked atomic.Int64
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); s.Close() })
	return s, &asked
}

func countingOrigin(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	var asked atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &asked
}

func healthFetcher(t *testing.T, set func(*Fetcher)) *Fetcher {
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, HeaderTimeout: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if set != nil {
		set(f)
	}
	f.init()
	t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
	return f
}

// askBody asks the decision's origins and reads the answer's body.
func askBody(t *testing.T, f *Fetcher, bucket, doc string) (string, error) {
	t.Helper()
	resp, err := f.ask(context.Background(), bucket, decideDoc(t, doc, "k"), nil, &FetchResult{})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A dead primary costs its breaker's threshold of timeouts across 100
// sequential misses, not one each; after the cool-down one request tests
// it again; and another gateway bucket's breaker for the same origin is
// its own.
func TestADeadPrimaryCostsTheBreakerThreshold(t *testing.T) {
	for _, threshold := range []int{1, 3} {
		dead, deadAsked := hangingOrigin(t)
		backup, backupAsked := countingOrigin(t, http.StatusOK, "from the backup")
		var now atomic.Int64 // the breakers' clock, in seconds
		f := healthFetcher(t, func(f *Fetcher) {
			f.BreakerFailures, f.BreakerCoolDown = threshold, 30*time.Second
			f.testClock = func() time.Time { return time.Unix(now.Load(), 0) }
		})
		doc := `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + dead.URL + `"],"backSourceUrls":["` + backup.URL + `"]}]}`
		for i := range 100 {
			b, err := askBody(t, f, "bkt", doc)
			require.NoError(t, err, "miss %d", i)
			require.Equal(t, "from the backup", b)
		}
		assert.Equal(t, int64(threshold), deadAsked.Load(), "threshold %d: the dead primary was asked only until its breaker opened", threshold)
		assert.Equal(t, int64(100), backupAsked.Load())
		origins, _ := f.Health()
		require.Len(t, origins, 1)
		assert.True(t, origins[0].Open)
		assert.Equal(t, "bkt", origins[0].Bucket)

		// Another tenant's view of the same origin is closed.
		_, err := askBody(t, f, "other", doc)
		require.NoError(t, err)
		assert.Equal(t, int64(threshold+1), deadAsked.Load(), "bucket other asks the primary itself")

		// After the cool-down, one request tests the primary; it fails,
		// and the breaker opens again.
		now.Add(29)
		_, err = askBody(t, f, "bkt", doc)
		require.NoError(t, err)
		assert.Equal(t, int64(threshold+1), deadAsked.Load(), "still open before the cool-down ends")
		now.Add(1)
		for range 10 {
			_, err := askBody(t, f, "bkt", doc)
			require.NoError(t, err)
		}
		assert.Equal(t, int64(threshold+2), deadAsked.Load(), "one half-open test after the cool-down")
	}
}

// A status the rule lists (a 403 it fails over on, a 404) never opens a
// breaker: that origin is at work. A 5xx does.
func TestListedStatusesDoNotOpenTheBreaker(t *testing.T) {
	forbidden, forbiddenAsked := countingOrigin(t, http.StatusForbidden, "no")
	backup, _ := countingOrigin(t, http.StatusOK, "ok")
	f := healthFetcher(t, func(f *Fetcher) { f.BreakerFailures = 1 })
	doc := `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + forbidden.URL + `"],"backSourceUrls":["` + backup.URL + `"],"failoverOn":["403"]}]}`
	for range 10 {
		_, err := askBody(t, f, "bkt", doc)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(10), forbiddenAsked.Load())

	failing, failingAsked := countingOrigin(t, http.StatusBadGateway, "down")
	doc = `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + failing.URL + `"],"backSourceUrls":["` + backup.URL + `"]}]}`
	for range 10 {
		_, err := askBody(t, f, "bkt", doc)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), failingAsked.Load(), "a 502 opened the breaker")
}

// A negative BreakerFailures turns the breakers off.
func TestBreakersCanBeTurnedOff(t *testing.T) {
	failing, asked := countingOrigin(t, http.StatusServiceUnavailable, "down")
	backup, _ := countingOrigin(t, http.StatusOK, "ok")
	f := healthFetcher(t, func(f *Fetcher) { f.BreakerFailures = -1 })
	doc := `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + failing.URL + `"],"backSourceUrls":["` + backup.URL + `"]}]}`
	for range 20 {
		_, err := askBody(t, f, "bkt", doc)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(20), asked.Load())
}

// Where a rule names a probe URL, its primaries are skipped for the
// backups while the probe answers anything but a 2xx, and asked again
// once it recovers.
func TestAProbeThatFailsSendsFetchesToTheBackups(t *testing.T) {
	var probeStatus atomic.Int64
	probeStatus.Store(http.StatusOK)
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(probeStatus.Load()))
	}))
	defer probe.Close()
	primary, primaryAsked := countingOrigin(t, http.StatusOK, "primary")
	backup, _ := countingOrigin(t, http.StatusOK, "backup")
	f := healthFetcher(t, func(f *Fetcher) { f.ProbeInterval = 20 * time.Millisecond })
	doc := `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + primary.URL + `"],"backSourceUrls":["` + backup.URL + `"],
		"fetch":{"probe":"` + probe.URL + `/health.txt"}}]}`
	b, err := askBody(t, f, "bkt", doc)
	require.NoError(t, err)
	assert.Equal(t, "primary", b)

	probeStatus.Store(http.StatusServiceUnavailable)
	require.Eventually(t, func() bool {
		_, probes := f.Health()
		return len(probes) == 1 && probes[0].Known && !probes[0].Up
	}, 5*time.Second, 10*time.Millisecond)
	before := primaryAsked.Load()
	for range 10 {
		b, err := askBody(t, f, "bkt", doc)
		require.NoError(t, err)
		assert.Equal(t, "backup", b)
	}
	assert.Equal(t, before, primaryAsked.Load(), "the primary is skipped while its probe is down")

	probeStatus.Store(http.StatusOK)
	require.Eventually(t, func() bool {
		b, err := askBody(t, f, "bkt", doc)
		return err == nil && b == "primary"
	}, 5*time.Second, 20*time.Millisecond)
}

// Failures a cool-down apart are not consecutive, and a full table of
// breakers nobody asks about any more is swept for a new one (found in
// review: entries lived for ever).
func TestStaleBreakersAreForgotten(t *testing.T) {
	var now atomic.Int64
	f := healthFetcher(t, func(f *Fetcher) {
		f.BreakerFailures, f.BreakerCoolDown = 2, 30*time.Second
		f.testClock = func() time.Time { return time.Unix(now.Load(), 0) }
	})
	k := breakerKey{"bkt", "http://a.example.com"}
	f.record(k, true, f.clock())
	now.Add(31)
	f.record(k, true, f.clock())
	assert.True(t, f.allow(k, f.clock()), "two failures a cool-down apart do not open the breaker")
	f.record(k, true, f.clock())
	assert.False(t, f.allow(k, f.clock()), "two in a row do")

	for i := range maxBreakers {
		f.record(breakerKey{"filler", strconv.Itoa(i)}, true, f.clock())
	}
	now.Add(100)
	other := breakerKey{"other", "http://b.example.com"}
	f.record(other, true, f.clock())
	f.record(other, true, f.clock())
	assert.False(t, f.allow(other, f.clock()), "the stale entries were swept for another tenant's breaker")
}

// A probe that is down sends the primaries after the backups, never away:
// when the backup fails too, the primary still answers (found in review).
func TestADownProbeNeverFailsAFetchThePrimaryCouldServe(t *testing.T) {
	probe, _ := countingOrigin(t, http.StatusServiceUnavailable, "")
	primary, primaryAsked := countingOrigin(t, http.StatusOK, "primary")
	backup, backupAsked := countingOrigin(t, http.StatusBadGateway, "down")
	f := healthFetcher(t, func(f *Fetcher) { f.ProbeInterval = 20 * time.Millisecond })
	doc := `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + primary.URL + `"],"backSourceUrls":["` + backup.URL + `"],
		"fetch":{"probe":"` + strings.TrimPrefix(probe.URL, "http://") + `/health"}}]}`
	require.Eventually(t, func() bool {
		_, _ = askBody(t, f, "bkt", doc)
		_, probes := f.Health()
		return len(probes) == 1 && probes[0].Known && !probes[0].Up
	}, 5*time.Second, 10*time.Millisecond, "a probe written without a scheme is asked over http")
	before, backupBefore := primaryAsked.Load(), backupAsked.Load()
	b, err := askBody(t, f, "bkt", doc)
	require.NoError(t, err)
	assert.Equal(t, "primary", b)
	assert.Equal(t, before+1, primaryAsked.Load())
	assert.Equal(t, backupBefore+1, backupAsked.Load(), "the backup first")
}

// A status the rule names by its code is an answer it expects: it never
// counts toward the breaker, though a 5xx.
func TestAListed5xxDoesNotOpenTheBreaker(t *testing.T) {
	failing, asked := countingOrigin(t, http.StatusServiceUnavailable, "maintenance")
	f := healthFetcher(t, func(f *Fetcher) { f.BreakerFailures = 1 })
	doc := `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + failing.URL + `"],"fetch":{"passStatus":[503]}}]}`
	for range 5 {
		_, err := askBody(t, f, "bkt", doc)
		var fe *FetchError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, OutcomePassed, fe.Outcome)
	}
	assert.Equal(t, int64(5), asked.Load())
}
