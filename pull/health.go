package pull

import (
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Origin health (docs/SERVING.md §3.3.1): a passive circuit breaker per
// (gateway bucket, origin), and an active probe per (gateway bucket, probe
// URL) where a rule names one. Both only reorder or skip origins within
// one fetch's list: neither ever sends a request twice.

// The defaults of the Fetcher's health fields.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCoolDown = 30 * time.Second
	DefaultProbeInterval   = 10 * time.Second
)

// maxBreakers and maxProbes bound the health table: only origins that are
// failing have a breaker (a success forgets it), and past the bound new
// ones are not tracked (they behave as healthy).
const (
	maxBreakers = 1 << 14
	maxProbes   = 1 << 10
	// probeIdleRounds is how many probe intervals a probe that no fetch
	// asked about keeps running before it stops.
	probeIdleRounds = 30
	// maxProbeBody is what of a probe's body is read, to keep its
	// connection reusable; the rest is not.
	maxProbeBody = 4 << 10
)

// breakerKey is one gateway bucket's view of one origin (scheme and
// authority): one tenant's failing origin never opens another tenant's
// breaker for the same host.
type breakerKey struct{ bucket, origin string }

type breaker struct {
	failures  int       // consecutive
	last      time.Time // the last failure
	openUntil time.Time // zero: closed
	testing   bool      // half-open: one request is testing the origin
}

// stale says whether a breaker has nothing left to say at now: closed
// with its last failure a cool-down ago (failures that far apart are not
// consecutive), or open with its cool-down a cool-down past and no test
// running. A stale breaker is forgotten (found in review: entries that
// lived for ever filled the table, and old failures counted toward a new
// opening).
func (b *breaker) stale(now time.Time, coolDown time.Duration) bool {
	if b.testing {
		return false
	}
	if b.openUntil.IsZero() {
		return now.Sub(b.last) > coolDown
	}
	return now.Sub(b.openUntil) > coolDown
}

type probeKey struct{ bucket, url string }

type probe struct {
	up       bool
	known    bool
	lastUsed time.Time
}

// health is the Fetcher's table of breakers and probes.
type health struct {
	mu       sync.Mutex
	breakers map[breakerKey]*breaker
	probes   map[probeKey]*probe
	stop     chan struct{} // closed by Shutdown: the probes end
	swept    time.Time     // the last sweep of a full breaker table
}

func newHealth() *health {
	return &health{breakers: map[breakerKey]*breaker{}, probes: map[probeKey]*probe{}, stop: make(chan struct{})}
}

func (f *Fetcher) breakerFailures() int { return orDefault(f.BreakerFailures, DefaultBreakerFailures) }
func (f *Fetcher) breakerCoolDown() time.Duration {
	return orDefault(f.BreakerCoolDown, DefaultBreakerCoolDown)
}

// clock is the breakers' time: the Fetcher's testClock in tests.
func (f *Fetcher) clock() time.Time {
	if f.testClock != nil {
		return f.testClock()
	}
	return time.Now()
}

func (f *Fetcher) probeInterval() time.Duration {
	return orDefault(f.ProbeInterval, DefaultProbeInterval)
}

// allow says whether a request may go to the origin now: its breaker is
// closed, or its cool-down is over and no other request is testing it
// (that request is then the half-open test, and must be recorded).
func (f *Fetcher) allow(k breakerKey, now time.Time) bool {
	if f.BreakerFailures < 0 {
		return true
	}
	h := f.health
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.breakers[k]
	if b != nil && b.stale(now, f.breakerCoolDown()) {
		delete(h.breakers, k)
		b = nil
	}
	switch {
	case b == nil || b.openUntil.IsZero():
		return true
	case now.Before(b.openUntil) || b.testing:
		return false
	}
	b.testing = true
	return true
}

// record notes how an allowed request to the origin went. A failure is a
// transport error (dial, TLS, the guard, no headers in time) or a 5xx;
// any other answer, 404 and the statuses a rule lists included, is the
// origin at work and closes the breaker. The threshold of consecutive
// failures opens it for the cool-down; a failed half-open test opens it
// again.
func (f *Fetcher) record(k breakerKey, failed bool, now time.Time) {
	if f.BreakerFailures < 0 {
		return
	}
	h := f.health
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.breakers[k]
	if !failed {
		delete(h.breakers, k)
		return
	}
	if b != nil && b.stale(now, f.breakerCoolDown()) {
		b.failures, b.openUntil = 0, time.Time{}
	}
	if b == nil {
		if len(h.breakers) >= maxBreakers && now.Sub(h.swept) > time.Second {
			// At most once a second: a full table of live breakers is not
			// walked again for each new failing origin.
			h.swept = now
			for key, old := range h.breakers {
				if old.stale(now, f.breakerCoolDown()) {
					delete(h.breakers, key)
				}
			}
		}
		if len(h.breakers) >= maxBreakers {
			return
		}
		b = &breaker{}
		h.breakers[k] = b
	}
	b.failures++
	b.last = now
	if b.testing || b.failures >= f.breakerFailures() {
		b.openUntil, b.testing = now.Add(f.breakerCoolDown()), false
	}
}

// stopProbes ends every probe; it may be called more than once.
func (h *health) stopProbes() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
}

// untest ends a half-open test that gave no verdict (the fetch itself
// was canceled): the next request after it tests the origin.
func (f *Fetcher) untest(k breakerKey) {
	h := f.health
	h.mu.Lock()
	if b := h.breakers[k]; b != nil {
		b.testing = false
	}
	h.mu.Unlock()
}

// probeUp says whether the rule's probe URL last answered 2xx for this
// bucket; true while it is not known yet. The first question starts the
// probe, which asks the URL every ProbeInterval until no fetch has asked
// about it for probeIdleRounds intervals.
func (f *Fetcher) probeUp(bucket, url string, now time.Time) bool {
	h := f.health
	k := probeKey{bucket, url}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.probes[k]
	if p == nil {
		if len(h.probes) >= maxProbes {
			return true
		}
		p = &probe{up: true}
		h.probes[k] = p
		go f.runProbe(k, p)
	}
	p.lastUsed = now
	return p.up
}

// runProbe is one probe's loop.
func (f *Fetcher) runProbe(k probeKey, p *probe) {
	h := f.health
	t := time.NewTicker(f.probeInterval())
	defer t.Stop()
	for {
		up := f.askProbe(k.url)
		h.mu.Lock()
		p.up, p.known = up, true
		idle := time.Since(p.lastUsed) > probeIdleRounds*f.probeInterval()
		if idle {
			delete(h.probes, k)
		}
		h.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-t.C:
		case <-h.stop:
			return
		}
	}
}

// askProbe GETs a probe URL through the guarded transport: up is a 2xx
// within the header timeout.
func (f *Fetcher) askProbe(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), f.dialTimeout()+f.headerTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Via", LoopMarker)
	resp, err := f.transport.RoundTrip(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// OriginHealth is one origin's breaker as a gateway bucket sees it, for
// metrics and operators: only origins that failed are listed.
type OriginHealth struct {
	Bucket, Origin string
	// Failures is the count of consecutive failures.
	Failures int
	// Open reports that requests skip the origin until OpenUntil (or, once
	// that passed, until a test request succeeds).
	Open      bool
	OpenUntil time.Time
}

// ProbeHealth is one probe URL's last answer for a gateway bucket.
type ProbeHealth struct {
	Bucket, URL string
	// Up reports a 2xx at the last probe (true before the first).
	Up, Known bool
}

// Health lists the breakers of failing origins and the running probes,
// sorted, for metrics.
func (f *Fetcher) Health() ([]OriginHealth, []ProbeHealth) {
	f.init()
	h := f.health
	h.mu.Lock()
	origins := make([]OriginHealth, 0, len(h.breakers))
	for k, b := range h.breakers {
		origins = append(origins, OriginHealth{Bucket: k.bucket, Origin: k.origin, Failures: b.failures,
			Open: !b.openUntil.IsZero(), OpenUntil: b.openUntil})
	}
	probes := make([]ProbeHealth, 0, len(h.probes))
	for k, p := range h.probes {
		probes = append(probes, ProbeHealth{Bucket: k.bucket, URL: k.url, Up: p.up, Known: p.known})
	}
	h.mu.Unlock()
	sort.Slice(origins, func(i, j int) bool {
		return origins[i].Bucket < origins[j].Bucket || origins[i].Bucket == origins[j].Bucket && origins[i].Origin < origins[j].Origin
	})
	sort.Slice(probes, func(i, j int) bool {
		return probes[i].Bucket < probes[j].Bucket || probes[i].Bucket == probes[j].Bucket && probes[i].URL < probes[j].URL
	})
	return origins, probes
}
