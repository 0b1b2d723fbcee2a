package pull

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mirrorkit/mirror"
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
	// (default 5 s). HeaderTimeout bounds the wait for an origin's
	// response headers (10 s). IdleTimeout bounds the wait for the next
	// body byte (30 s). FetchTimeout bounds a whole fetch (1 h). None of
	// them is an http.Client.Timeout, which would cut long bodies.
	DialTimeout, HeaderTimeout, IdleTimeout, FetchTimeout time.Duration
	// MaxObjectSize is the largest object fetched, in bytes (5 GiB).
	MaxObjectSize int64
	// MaxFetches is the most fetches running at once (64). Past it a new
	// fetch is refused with SlowDown; joining a running one never is.
	MaxFetches int
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

	// SpoolDir holds the spools of stores whose uploads can not be read
	// back (os.TempDir() when empty).
	SpoolDir string
	// Logger gets one line per fetch (nil: slog.Default()).
	Logger *slog.Logger
	// Observe, when set, is called once per fetch that ran, with what
	// happened, for metrics.
	Observe func(FetchResult)
	// ObserveOrigin, when set, is called once per origin request.
	ObserveOrigin func(OriginResult)
	// ObserveJoin, when set, is called once per request that joined a
	// fetch another one started.
	ObserveJoin func()

	once      sync.Once
	transport *http.Transport
	mu        sync.Mutex
	flights   map[flightKey]*flight
	negative  map[flightKey]time.Time
	// negativeSwept is the size of negative after its last sweep.
	negativeSwept int
	running       sync.WaitGroup
	shutdown      context.Context // canceled when Shutdown gives up waiting
	cancel        context.CancelFunc
}

// FetchResult describes one fetch, for logs and metrics.
type FetchResult struct {
	Bucket, Key string
	Rule        int
	Origin      string // the URL of the last origin asked
	Status      int    // its status, 0 when it gave none
	Bytes       int64
	Duration    time.Duration
	Outcome     Outcome
	Err         error // nil when stored
}

// OriginResult describes one origin request.
type OriginResult struct {
	Origin   string
	Status   int // 0: no response (dial, TLS, guard or timeout)
	Duration time.Duration
}

// Outcome is how a fetch ended.
type Outcome string

// The outcomes of a fetch (docs/SERVING.md §3.4).
const (
	OutcomeStored    Outcome = "stored"     // committed
	OutcomeNotFound  Outcome = "not_found"  // the origin answered 404
	OutcomeFailed    Outcome = "failed"     // every origin failed, or answered another status
	OutcomeTooLarge  Outcome = "too_large"  // over MaxObjectSize
	OutcomeCut       Outcome = "cut_short"  // the body ended early, broke off, or stalled
	OutcomeBadDigest Outcome = "bad_digest" // Content-MD5 did not match
	OutcomeStoreErr  Outcome = "store_error"
	OutcomeSlowDown  Outcome = "slow_down" // refused: MaxFetches were running
)

// Error codes of a failed fetch, as a gateway answers them.
const (
	CodeNoSuchKey    = "NoSuchKey"
	CodeMirrorFailed = "MirrorFailed"
	CodeSlowDown     = "SlowDown"
)

// FetchError is why a fetch gave no object: Code is NoSuchKey (the
// origin has no such object), MirrorFailed or SlowDown.
type FetchError struct {
	Code    string
	Outcome Outcome
	Message string
}

func (e *FetchError) Error() string { return e.Code + ": " + e.Message }

func (f *Fetcher) dialTimeout() time.Duration   { return orDefault(f.DialTimeout, 5*time.Second) }
func (f *Fetcher) headerTimeout() time.Duration { return orDefault(f.HeaderTimeout, 10*time.Second) }
func (f *Fetcher) idleTimeout() time.Duration   { return orDefault(f.IdleTimeout, 30*time.Second) }
func (f *Fetcher) fetchTimeout() time.Duration  { return orDefault(f.FetchTimeout, time.Hour) }

func (f *Fetcher) maxObjectSize() int64 {
	if f.MaxObjectSize > 0 {
		return f.MaxObjectSize
	}
	return 5 << 30
}

func (f *Fetcher) maxFetches() int {
	if f.MaxFetches > 0 {
		return f.MaxFetches
	}
	return 64
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (f *Fetcher) init() {
	f.once.Do(func() {
		f.transport = f.newTransport()
		f.flights = map[flightKey]*flight{}
		f.negative = map[flightKey]time.Time{}
		f.shutdown, f.cancel = context.WithCancel(context.Background())
	})
}

// UserAgent is what origin requests carry unless the rule sets one.
var UserAgent = "mirrorkit/" + version()

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
			if m.Path == "github.com/mirrorkit/mirror" && m.Version != "" && m.Version != "(devel)" {
				return m.Version
			}
		}
	}
	return "devel"
}

// Download is a client's share of a fetch: the object's headers as soon
// as the origin has answered, and its bytes as they arrive. Close it.
type Download struct {
	// Info describes the object: Header (the kept origin headers) and
	// StorageClass are set, and Size is the origin's Content-Length, or
	// -1 when it sent none. ETag and LastModified are only known once the
	// object is stored.
	Info ObjectInfo
	// Joined is true when the request joined a fetch another one started.
	Joined bool
	// Stored is true when the object was committed before this fetch
	// could start: read it from the Store instead.
	Stored bool

	fl     *flight
	closed bool
}

// Reader returns a reader of n bytes of the object from off (n < 0: to
// its end). It returns bytes as they arrive, and io.EOF only once the
// object is committed; when the fetch fails, it returns an error, and a
// response built from it must not end cleanly. ctx ends its waits.
func (d *Download) Reader(ctx context.Context, off, n int64) io.Reader {
	return d.fl.newReader(ctx, off, n)
}

// Wait blocks until the fetch has ended, and returns nil when the object
// was committed.
func (d *Download) Wait(ctx context.Context) error { return d.fl.wait(ctx) }

// Close lets the fetch's spool go.
func (d *Download) Close() {
	if !d.closed {
		d.closed = true
		d.fl.unhold()
	}
}

// Fetch returns the object of a fetch decision: it joins the running
// fetch of (bucket, key, first URL), or starts one, and waits until the
// origin has answered with its headers. The fetch runs on whatever ctx
// does: ctx ends only this caller's wait.
//
// The error is a *FetchError (NoSuchKey, MirrorFailed, SlowDown) or ctx's.
func (f *Fetcher) Fetch(ctx context.Context, bucket, key string, d *mirror.Decision) (*Download, error) {
	if d == nil || d.Mode != mirror.ModeFetch || len(d.Origins) == 0 {
		return nil, errors.New("pull: Fetch needs a fetch decision")
	}
	f.init()
	k := flightKey{bucket, key, d.URLs[0]}
	f.mu.Lock()
	if until, ok := f.negative[k]; ok {
		if time.Now().Before(until) {
			f.mu.Unlock()
			return nil, &FetchError{Code: CodeNoSuchKey, Outcome: OutcomeNotFound, Message: "the origin has no such object (remembered)"}
		}
		delete(f.negative, k)
	}
	fl, joined := f.flights[k]
	if !joined {
		if running := len(f.flights); running >= f.maxFetches() {
			f.mu.Unlock()
			f.observe(FetchResult{Bucket: bucket, Key: key, Rule: d.Rule, Outcome: OutcomeSlowDown})
			return nil, &FetchError{Code: CodeSlowDown, Outcome: OutcomeSlowDown,
				Message: fmt.Sprintf("%d fetches are running, the most this gateway runs at once", running)}
		}
		fl = newFlight(k)
		f.flights[k] = fl
		f.running.Add(1)
		go f.run(fl, d)
	}
	fl.hold()
	f.mu.Unlock()
	if joined && f.ObserveJoin != nil {
		f.ObserveJoin()
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
	return len(f.flights)
}

// run is one flight, from the first origin request to the commit, on a
// context of its own.
func (f *Fetcher) run(fl *flight, d *mirror.Decision) {
	defer f.running.Done()
	ctx, cancel := context.WithTimeout(f.shutdown, f.fetchTimeout())
	defer cancel()
	began := time.Now()
	res := FetchResult{Bucket: fl.key.bucket, Key: fl.key.key, Rule: d.Rule}
	release, err := f.fetch(ctx, fl, d, &res)
	res.Duration = time.Since(began)
	res.Err = err
	switch {
	case err == nil:
		res.Outcome = OutcomeStored
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
	delete(f.flights, fl.key)
	if res.Outcome == OutcomeNotFound && f.NegativeTTL > 0 {
		f.remember404(fl.key)
	}
	f.mu.Unlock()
	fl.mu.Lock()
	stored := fl.stored
	fl.mu.Unlock()
	fl.end(err, release)
	if stored {
		return // nothing was fetched
	}
	f.observe(res)
	attrs := []slog.Attr{slog.String("bucket", res.Bucket), slog.String("key", res.Key), slog.Int("rule", res.Rule),
		slog.String("origin", res.Origin), slog.Int("status", res.Status), slog.Int64("bytes", res.Bytes),
		slog.Duration("duration", res.Duration), slog.String("outcome", string(res.Outcome))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	f.logger().LogAttrs(ctx, slog.LevelInfo, "fetch", attrs...)
}

func (f *Fetcher) observe(r FetchResult) {
	if f.Observe != nil {
		f.Observe(r)
	}
}

// fetch asks the origins in turn and streams the body of the first that
// answers into the store. It returns what frees the spool.
func (f *Fetcher) fetch(ctx context.Context, fl *flight, d *mirror.Decision, res *FetchResult) (release func(), err error) {
	// The object may have been committed between the caller's store
	// lookup and this flight: then there is nothing to fetch.
	if obj, err := f.Store.Open(ctx, fl.key.bucket, fl.key.key); err == nil {
		obj.Close()
		fl.mu.Lock()
		fl.stored = true
		fl.mu.Unlock()
		return nil, nil
	}
	// The idle timer cancels bodyCtx: that is what unblocks a read from an
	// origin that stopped sending.
	bodyCtx, cancelBody := context.WithCancel(ctx)
	defer cancelBody()
	resp, err := f.ask(bodyCtx, fl.key.bucket, d, res)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > f.maxObjectSize() {
		return nil, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeTooLarge,
			Message: fmt.Sprintf("the origin's object is %d bytes, more than the %d this gateway stores", resp.ContentLength, f.maxObjectSize())}
	}
	upload, err := f.Store.Create(ctx, fl.key.bucket, fl.key.key)
	if err != nil {
		return nil, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeStoreErr, Message: "the store refused the object: " + err.Error()}
	}
	spool, sink, release, err := f.spoolFor(upload)
	if err != nil {
		upload.Abort()
		return nil, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeStoreErr, Message: "no spool: " + err.Error()}
	}
	info := ObjectInfo{Size: resp.ContentLength, Header: keptHeaders(resp.Header), StorageClass: d.StorageClass}
	if info.Header.Get("Content-Type") == "" {
		info.Header.Set("Content-Type", contentType(info.Header))
	}
	fl.start(info, spool)

	sum := newAsyncHash(md5.New())
	n, err := f.copyBody(cancelBody, fl, io.MultiWriter(sink, sum), resp.Body, resp.ContentLength)
	digest := sum.Sum()
	res.Bytes = n
	if err == nil {
		err = verify(resp, n, digest)
	}
	if err != nil {
		upload.Abort()
		return release, err
	}
	info.Size, info.ETag = n, hex.EncodeToString(digest)
	if err := upload.Commit(ctx, info); err != nil {
		upload.Abort()
		return release, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeStoreErr, Message: "the store could not commit the object: " + err.Error()}
	}
	fl.mu.Lock()
	fl.info.Size, fl.info.ETag = n, info.ETag
	fl.mu.Unlock()
	return release, nil
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

// spoolFor returns where clients read the body from, where it is written,
// and what frees both once nobody reads: the upload itself when it can be
// read back, else a temporary file beside it.
func (f *Fetcher) spoolFor(upload Upload) (io.ReaderAt, io.Writer, func(), error) {
	if ra, ok := upload.(io.ReaderAt); ok {
		return ra, upload, upload.Abort, nil
	}
	tmp, err := os.CreateTemp(f.SpoolDir, "mirror-spool-*")
	if err != nil {
		return nil, nil, nil, err
	}
	release := func() {
		upload.Abort()
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return tmp, io.MultiWriter(tmp, upload), release, nil
}

// copyBody copies the origin's body to w, growing the flight as bytes
// land, within the size limit and the idle timeout (on which it calls
// cancel, the origin request's).
func (f *Fetcher) copyBody(cancel context.CancelFunc, fl *flight, w io.Writer, body io.Reader, length int64) (int64, error) {
	idle := f.idleTimeout()
	stalled := make(chan struct{})
	timer := time.AfterFunc(idle, func() { close(stalled); cancel() })
	defer timer.Stop()
	buf := make([]byte, 256<<10)
	var n int64
	limit := f.maxObjectSize()
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if !timer.Reset(idle) {
				return n, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeCut, Message: fmt.Sprintf("no body byte from the origin for %v", idle)}
			}
			if n+int64(k) > limit {
				return n, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeTooLarge,
					Message: fmt.Sprintf("the origin's body passed the %d bytes this gateway stores", limit)}
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeStoreErr, Message: "writing the object: " + err.Error()}
			}
			n += int64(k)
			fl.grow(k)
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			select {
			case <-stalled:
				return n, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeCut, Message: fmt.Sprintf("no body byte from the origin for %v", idle)}
			default:
			}
			return n, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeCut, Message: "the origin's body broke off: " + rerr.Error()}
		}
		if length >= 0 && n > length {
			return n, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeCut, Message: "the origin sent more than its Content-Length"}
		}
	}
}

// verify checks the length and, when the origin sent one, Content-MD5.
func verify(resp *http.Response, n int64, digest []byte) error {
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeCut,
			Message: fmt.Sprintf("the origin sent %d of the %d bytes of its Content-Length", n, resp.ContentLength)}
	}
	if want := resp.Header.Get("Content-Md5"); want != "" {
		got := base64.StdEncoding.EncodeToString(digest)
		if got != want {
			return &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeBadDigest,
				Message: fmt.Sprintf("the body's MD5 is %s, the origin's Content-MD5 says %s", got, want)}
		}
	}
	return nil
}

// ask sends the origin request to each origin in turn (docs/SERVING.md
// §3.3): the next one is tried when the current one fails before any body
// byte, by a dial, TLS or guard error, no headers in time, or 429, 500,
// 502, 503 or 504. A 404 is the answer, and any other status ends the
// fetch; redirects are not followed.
func (f *Fetcher) ask(ctx context.Context, bucket string, d *mirror.Decision, res *FetchResult) (*http.Response, error) {
	var last string
	for i := range d.Origins {
		o := &d.Origins[i]
		res.Origin, res.Status = o.String(), 0
		req, err := f.originRequest(ctx, bucket, o, d.Header)
		if err != nil {
			last = fmt.Sprintf("%s: %v", o, err)
			continue
		}
		began := time.Now()
		resp, err := f.transport.RoundTrip(req)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		if f.ObserveOrigin != nil {
			f.ObserveOrigin(OriginResult{Origin: o.String(), Status: status, Duration: time.Since(began)})
		}
		res.Status = status
		if err != nil {
			last = fmt.Sprintf("%s: %v", o, err)
			continue
		}
		switch status {
		case http.StatusOK:
			return resp, nil
		case http.StatusNotFound:
			resp.Body.Close()
			return nil, &FetchError{Code: CodeNoSuchKey, Outcome: OutcomeNotFound, Message: fmt.Sprintf("the origin %s has no such object", o)}
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			resp.Body.Close()
			last = fmt.Sprintf("%s answered %s", o, resp.Status)
			continue
		}
		resp.Body.Close()
		return nil, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeFailed, Message: fmt.Sprintf("%s answered %s", o, resp.Status)}
	}
	return nil, &FetchError{Code: CodeMirrorFailed, Outcome: OutcomeFailed, Message: "every origin failed; the last: " + last}
}

// originRequest is the GET of docs/SERVING.md §3.8: the decision's URL
// exactly as written, its headers, a User-Agent unless the rule sets one,
// Accept-Encoding: identity, and the loop marker. A bos:// origin is
// signed with the gateway bucket's own credentials.
func (f *Fetcher) originRequest(ctx context.Context, bucket string, o *mirror.Origin, h http.Header) (*http.Request, error) {
	req, err := o.NewRequest(ctx)
	if err != nil {
		return nil, err
	}
	for name, values := range h {
		req.Header[name] = values
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("Via", LoopMarker)
	if o.Scheme == "bos" {
		var creds *BOSCredentials
		if f.BOSCredentials != nil {
			creds = f.BOSCredentials(bucket)
		}
		if err := bosRequest(req, o, bucket, creds, f.BOSInsecureHTTP, time.Now()); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// LoopMarker is the Via header of every origin request. A request that
// arrives with a Via naming mirrorkit never starts a fetch, so that a rule
// whose origin is a mirror gateway can not loop.
const LoopMarker = "1.1 mirrorkit"

// Shutdown waits for the running fetches to end; when ctx ends first, it
// cancels them and returns ctx's error.
func (f *Fetcher) Shutdown(ctx context.Context) error {
	f.init()
	done := make(chan struct{})
	go func() {
		f.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		f.cancel()
		<-done
		return ctx.Err()
	}
}

// asyncHash hashes on a goroutine of its own. MD5 is the slowest step of
// a fetch (about 650 MB/s on one core); run beside the reads and writes,
// it costs a fetch its own time instead of adding to theirs.
type asyncHash struct {
	h    hash.Hash
	work chan []byte
	free chan []byte
	done chan struct{}
}

const asyncHashChunk = 256 << 10

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{h: h, work: make(chan []byte, 2), free: make(chan []byte, 3), done: make(chan struct{})}
	for range 3 {
		a.free <- make([]byte, asyncHashChunk)
	}
	go func() {
		defer close(a.done)
		for b := range a.work {
			a.h.Write(b)
			a.free <- b[:cap(b)]
		}
	}()
	return a
}

// Write hands a copy of p to the hashing goroutine.
func (a *asyncHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		b := <-a.free
		k := copy(b, p)
		a.work <- b[:k]
		p = p[k:]
	}
	return n, nil
}

// Sum waits for what was written and returns its digest. Call it once.
func (a *asyncHash) Sum() []byte {
	close(a.work)
	<-a.done
	return a.h.Sum(nil)
}
