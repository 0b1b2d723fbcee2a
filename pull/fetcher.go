package pull

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mirrorkit/mirror/internal/tmpfile"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/requestlog"
)

// The defaults of a Fetcher's zero fields; mirror serve's flags use them.
const (
	DefaultDialTimeout   = 5 * time.Second
	DefaultHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout   = 30 * time.Second
	DefaultFetchTimeout  = time.Hour
	DefaultMaxObjectSize = 5 << 30
	DefaultMaxFetches    = 64
	DefaultMinRate       = 1024
	DefaultRateWindow    = 30 * time.Second
)

// Fetcher fetches missing objects from their origins and commits them to
// its Store (docs/SERVING.md §3). Its fields are read when it first
// fetches; the zero value of each is the safe default. A Fetcher is safe
// for concurrent use and must not be copied after its first use.
type Fetcher struct {
	// Store receives the fetched objects. Required.
	Store Store

	// AllowPrivateOrigins turns the dial guard off: origins may then be
	// loopback, private or metadata addresses. Tests on 127.0.0.1 need it.
	AllowPrivateOrigins bool
	// Resolve maps "HOST:PORT" to an address to dial instead, as curl's
	// --resolve does; the dial guard judges that address.
	Resolve map[string]string
	// TLSClientConfig is used for https origins (nil: the system's roots).
	TLSClientConfig *tls.Config

	// DialTimeout bounds a connection (and its TLS handshake) to an origin
	// (DefaultDialTimeout). HeaderTimeout bounds the wait for an origin's
	// response headers (DefaultHeaderTimeout). IdleTimeout bounds the
	// wait for the next body byte (DefaultIdleTimeout). FetchTimeout
	// bounds a whole fetch (DefaultFetchTimeout). None of them is an
	// http.Client.Timeout, which would cut long bodies.
	DialTimeout, HeaderTimeout, IdleTimeout, FetchTimeout time.Duration
	// MaxObjectSize is the largest object fetched, in bytes
	// (DefaultMaxObjectSize, 5 GiB).
	MaxObjectSize int64
	// MaxFetches is the most fetches running at once (DefaultMaxFetches).
	// Past it a new fetch is refused with SlowDown; joining a running one
	// never is.
	MaxFetches int
	// MaxBucketFetches is the most fetches of one bucket running at once
	// (default: a quarter of MaxFetches, at least 1), so that slow origins
	// of one bucket can not take every slot.
	MaxBucketFetches int
	// MinRate is the fewest bytes a second an origin may send, measured
	// over each RateWindow of time spent waiting for it (DefaultMinRate,
	// DefaultRateWindow): a slower origin ends its fetch with
	// OutcomeTooSlow, freeing its slot.
	MinRate    int64
	RateWindow time.Duration
	// NegativeTTL, when positive, remembers an origin's 404 for that long,
	// so that the next GET of the key is answered without asking again.
	NegativeTTL time.Duration

	// BOSCredentials returns the origin credentials of a gateway bucket
	// for its bos:// origins, or nil. A bos:// origin fails over, as an
	// unreachable origin does, when its bucket has none or they do not
	// list its endpoint and source bucket.
	BOSCredentials func(bucket string) *BOSCredentials
	// BOSInsecureHTTP fetches bos:// origins over http (loopback tests).
	BOSInsecureHTTP bool
	// S3Credentials returns the origin credentials of a gateway bucket
	// for its s3:// origins, or nil. An s3:// origin is asked with AWS
	// Signature V4 or not at all: it fails over, as an unreachable origin
	// does, when its bucket has none or they do not list its endpoint and
	// source bucket (s3origin.go).
	S3Credentials func(bucket string) *S3Credentials
	// S3InsecureHTTP fetches s3:// origins over http (loopback tests).
	S3InsecureHTTP bool

	// BreakerFailures is how many consecutive failures of an origin (a
	// transport error, no headers in time, or a 5xx) open its circuit
	// breaker for one gateway bucket (DefaultBreakerFailures); negative
	// turns the breakers off. BreakerCoolDown is how long an open breaker
	// skips its origin before one request tests it
	// (DefaultBreakerCoolDown). ProbeInterval is how often a rule's
	// fetch.probe URL is asked (DefaultProbeInterval). See health.go.
	BreakerFailures int
	BreakerCoolDown time.Duration
	ProbeInterval   time.Duration

	// SpoolDir holds the spools of stores whose uploads can not be read
	// back (os.TempDir() when empty).
	SpoolDir string
	// Logger gets one line per fetch (nil: slog.Default()).
	Logger *slog.Logger
	// Hooks are called as fetches run, for metrics.
	Hooks Hooks

	once      sync.Once
	transport *http.Transport
	mu        sync.Mutex
	flights   map[flightKey]*flight
	perBucket map[string]int // running fetches of each bucket
	// inFlight counts the running fetches, those a purge detached from
	// flights included: they hold their slot until they end (found in
	// review: len(flights) let a purge free a slot early).
	inFlight int
	negative map[flightKey]time.Time
	// negativeSwept is the size of negative after its last sweep.
	negativeSwept int
	health        *health // breakers and probes (health.go)
	testClock     func() time.Time
	running       sync.WaitGroup
	shutdown      context.Context // canceled when Shutdown gives up waiting
	cancel        context.CancelFunc
}

func (f *Fetcher) dialTimeout() time.Duration { return orDefault(f.DialTimeout, DefaultDialTimeout) }
func (f *Fetcher) headerTimeout() time.Duration {
	return orDefault(f.HeaderTimeout, DefaultHeaderTimeout)
}
func (f *Fetcher) idleTimeout() time.Duration  { return orDefault(f.IdleTimeout, DefaultIdleTimeout) }
func (f *Fetcher) fetchTimeout() time.Duration { return orDefault(f.FetchTimeout, DefaultFetchTimeout) }
func (f *Fetcher) maxObjectSize() int64        { return orDefault(f.MaxObjectSize, DefaultMaxObjectSize) }
func (f *Fetcher) maxFetches() int             { return orDefault(f.MaxFetches, DefaultMaxFetches) }
func (f *Fetcher) minRate() int64              { return orDefault(f.MinRate, DefaultMinRate) }
func (f *Fetcher) rateWindow() time.Duration   { return orDefault(f.RateWindow, DefaultRateWindow) }
func (f *Fetcher) maxBucketFetches() int {
	return orDefault(f.MaxBucketFetches, max(1, f.maxFetches()/4))
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// orDefault is v when set (positive), else def.
func orDefault[T time.Duration | int64 | int](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (f *Fetcher) init() {
	f.once.Do(func() {
		f.transport = f.newTransport()
		f.flights = map[flightKey]*flight{}
		f.perBucket = map[string]int{}
		f.negative = map[flightKey]time.Time{}
		f.health = newHealth()
		f.shutdown, f.cancel = context.WithCancel(context.Background())
		// Spools a killed gateway left behind; those in use are held.
		go func() {
			dir := f.SpoolDir
			if dir == "" {
				dir = os.TempDir()
			}
			_, _ = tmpfile.Sweep(dir, spoolPrefix)
		}()
	})
}

// Fetch returns the object of a fetch decision: it joins the running
// fetch of (bucket, key), whatever its decision's URLs, or starts one, and waits until the
// origin has answered with its headers. The fetch runs on whatever ctx
// does: ctx ends only this caller's wait.
//
// The error is a *FetchError or ctx's.
func (f *Fetcher) Fetch(ctx context.Context, bucket, key string, d *mirror.Decision) (*Download, error) {
	return f.begin(ctx, bucket, key, d, nil)
}

// begin joins or starts the flight of (bucket, key): a fetch, or, with
// stale, a revalidation of the stored object stale describes.
func (f *Fetcher) begin(ctx context.Context, bucket, key string, d *mirror.Decision, stale *ObjectInfo) (*Download, error) {
	// A redirectFetch decision is a fetch too: its client is redirected,
	// and its object fetched and stored as a fetch rule's.
	if d == nil || d.Mode != mirror.ModeFetch && d.Mode != mirror.ModeRedirectFetch || len(d.Origins) == 0 {
		return nil, errors.New("pull: Fetch needs a fetch decision")
	}
	f.init()
	k := flightKey{bucket, key}
	f.mu.Lock()
	if until, ok := f.negative[k]; ok {
		if time.Now().Before(until) {
			f.mu.Unlock()
			return nil, &FetchError{Outcome: OutcomeNotFound, Message: "the origin has no such object (remembered)"}
		}
		delete(f.negative, k)
	}
	fl, joined := f.flights[k]
	if !joined {
		var full string
		switch running, ofBucket := f.inFlight, f.perBucket[bucket]; {
		case running >= f.maxFetches():
			full = fmt.Sprintf("%d fetches are running, the most this gateway runs at once", running)
		case ofBucket >= f.maxBucketFetches():
			full = fmt.Sprintf("%d fetches of this bucket are running, the most this gateway runs for one bucket", ofBucket)
		}
		if full != "" {
			f.mu.Unlock()
			f.Hooks.fetch(FetchResult{Bucket: bucket, Key: key, Rule: d.Rule, Outcome: OutcomeSlowDown})
			return nil, &FetchError{Outcome: OutcomeSlowDown, Message: full}
		}
		fl = newFlight(k)
		fl.stale = stale
		f.flights[k] = fl
		f.perBucket[bucket]++
		f.inFlight++
		f.running.Add(1)
		go f.run(fl, d, requestlog.ID(ctx))
	}
	fl.hold()
	f.mu.Unlock()
	if joined {
		f.Hooks.join()
	}
	dl := &Download{fl: fl, Joined: joined}
	select {
	case <-fl.started:
	case <-ctx.Done():
		dl.Close()
		return nil, ctx.Err()
	}
	fl.mu.Lock()
	dl.Info, dl.Stored = fl.info, fl.stored
	ended, err := fl.ended, fl.err
	fl.mu.Unlock()
	if ended && err != nil {
		dl.Close()
		return nil, err
	}
	return dl, nil
}

// Running returns the number of fetches running.
func (f *Fetcher) Running() int {
	f.init()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlight
}

// run is one flight, from the first origin request to the commit, on a
// context of its own.
func (f *Fetcher) run(fl *flight, d *mirror.Decision, requestID string) {
	defer f.running.Done()
	ctx, cancel := context.WithTimeout(f.shutdown, f.fetchTimeout())
	defer cancel()
	began := time.Now()
	res := FetchResult{Bucket: fl.key.bucket, Key: fl.key.key, Rule: d.Rule, RequestID: requestID}
	release, err := f.fetch(ctx, fl, d, &res)
	res.Duration = time.Since(began)
	res.Err = err
	switch {
	case err == nil:
		res.Outcome = fl.committed() // proxyonly.go: stored, or proxied
	default:
		var fe *FetchError
		if errors.As(err, &fe) {
			res.Outcome = fe.Outcome
		} else {
			res.Outcome = OutcomeStoreErr
		}
	}
	// A fetch that ends is forgotten before any client hears of it, so
	// that the next GET starts afresh (or, after a commit, hits).
	f.mu.Lock()
	// A purge may have detached it (delete.go): then its 404 is not
	// remembered either.
	attached := f.flights[fl.key] == fl
	if attached {
		delete(f.flights, fl.key)
	}
	f.inFlight--
	if f.perBucket[fl.key.bucket]--; f.perBucket[fl.key.bucket] == 0 {
		delete(f.perBucket, fl.key.bucket)
	}
	if attached && res.Outcome == OutcomeNotFound && f.NegativeTTL > 0 {
		f.remember404(fl.key)
	}
	f.mu.Unlock()
	fl.mu.Lock()
	stored := fl.stored
	fl.mu.Unlock()
	fl.end(err, release)
	switch {
	case stored && res.Status != http.StatusNotModified:
		return // nothing was fetched
	case stored && err == nil:
		res.Outcome = OutcomeNotModified
	}
	f.Hooks.fetch(res)
	attrs := []slog.Attr{slog.String("request_id", res.RequestID), slog.String("bucket", res.Bucket), slog.String("key", res.Key), slog.Int("rule", res.Rule),
		slog.String("origin", res.Origin), slog.Int("status", res.Status), slog.Int64("bytes", res.Bytes),
		slog.Duration("duration", res.Duration), slog.String("outcome", string(res.Outcome))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	f.logger().LogAttrs(ctx, slog.LevelInfo, "fetch", attrs...)
}

// fetch asks the origins in turn and streams the body of the first that
// answers into the store. It returns what frees the spool.
func (f *Fetcher) fetch(ctx context.Context, fl *flight, d *mirror.Decision, res *FetchResult) (release func(), err error) {
	// The object may have been committed between the caller's store
	// lookup and this flight (or revalidated since it was found stale):
	// then there is nothing to fetch.
	if obj, err := f.Store.Open(ctx, fl.key.bucket, fl.key.key); err == nil {
		fresh := fl.stale == nil || obj.Info().Fetched.After(fl.stale.Fetched)
		obj.Close()
		if fresh {
			fl.mu.Lock()
			fl.stored = true
			fl.mu.Unlock()
			return nil, nil
		}
	}
	began := time.Now()
	// The idle timer cancels bodyCtx: that is what unblocks a read from an
	// origin that stopped sending.
	bodyCtx, cancelBody := context.WithCancel(ctx)
	defer cancelBody()
	resp, err := f.ask(bodyCtx, fl.key.bucket, d, conditional(fl.stale), res)
	if err != nil {
		if fl.stale != nil {
			f.gone(ctx, fl, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, f.refresh(ctx, fl, began)
	}
	if resp.ContentLength > f.maxObjectSize() {
		return nil, &FetchError{Outcome: OutcomeTooLarge,
			Message: fmt.Sprintf("the origin's object is %d bytes, more than the %d this gateway stores", resp.ContentLength, f.maxObjectSize())}
	}
	upload, err := f.create(ctx, fl, d) // proxyonly.go: the store's, or a spool nothing commits
	if err != nil {
		return nil, &FetchError{Outcome: OutcomeStoreErr, Message: "the store refused the object: " + err.Error()}
	}
	spool, spoolFile, sink, release, err := f.spoolFor(upload)
	if err != nil {
		upload.Abort()
		return nil, &FetchError{Outcome: OutcomeStoreErr, Message: "no spool: " + err.Error()}
	}
	info := ObjectInfo{Size: resp.ContentLength, Header: keptHeaders(resp.Header), StorageClass: d.StorageClass,
		ETag: promisedETag(resp.Header), OriginETag: originETag(resp.Header), Fetched: began.UTC()}
	describe(&info, d, res.Origin, resp.Header, began) // meta.go: the rule's Last-Modified, user metadata, provenance
	info.Header.Set("Content-Type", info.ContentType())
	fl.start(info, spool, spoolFile)

	n, digest, err := f.copyBody(cancelBody, fl, sink, resp.Body, resp.ContentLength)
	res.Bytes = n
	if err == nil {
		err = verify(resp, n, digest)
	}
	if err != nil {
		upload.Abort()
		return release, err
	}
	info.Size, info.ETag = n, hex.EncodeToString(digest)
	if err := f.commit(ctx, fl, upload, info); err != nil { // delete.go: unless purged
		upload.Abort()
		return release, err
	}
	fl.mu.Lock()
	fl.info.Size, fl.info.ETag = n, info.ETag
	fl.mu.Unlock()
	return release, nil
}

// lastModified is the origin's Last-Modified when it is a valid date not
// in the future (fromOrigin), else when the fetch began, in whole seconds
// (HTTP's).
func lastModified(h http.Header, began time.Time) (t time.Time, fromOrigin bool) {
	// A missing header is not parsed: a failed http.ParseTime allocates
	// an error for each of its three layouts.
	if v := h.Get("Last-Modified"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !t.After(began) {
			return t.UTC(), true
		}
	}
	return began.UTC().Truncate(time.Second), false
}

// promisedETag is the ETag the object will have when the origin sent a
// Content-MD5 (verify holds the body to it), "" when it did not.
func promisedETag(h http.Header) string {
	sum, err := base64.StdEncoding.DecodeString(h.Get("Content-Md5"))
	if err != nil || len(sum) != md5.Size {
		return ""
	}
	return hex.EncodeToString(sum)
}

// maxNegative bounds the remembered 404s.
const maxNegative = 1 << 16

// remember404 notes an origin's 404 for NegativeTTL. The expired entries
// are swept whenever the set has doubled since the last sweep, and past
// maxNegative live entries nothing more is remembered: the set never
// grows without bound. f.mu is held.
func (f *Fetcher) remember404(k flightKey) {
	now := time.Now()
	if len(f.negative) >= max(2*f.negativeSwept, 1024) {
		for key, until := range f.negative {
			if !now.Before(until) {
				delete(f.negative, key)
			}
		}
		f.negativeSwept = len(f.negative)
	}
	if len(f.negative) < maxNegative {
		f.negative[k] = now.Add(f.NegativeTTL)
	}
}

// Shutdown waits for the running fetches to end; when ctx ends first, it
// cancels them and returns ctx's error.
func (f *Fetcher) Shutdown(ctx context.Context) error {
	f.init()
	done := make(chan struct{})
	go func() {
		f.running.Wait()
		close(done)
	}()
	// The kept-alive origin connections go with the last fetch, and the
	// probes with the Fetcher.
	defer f.transport.CloseIdleConnections()
	defer f.health.stopProbes()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		f.cancel()
		<-done
		return ctx.Err()
	}
}
