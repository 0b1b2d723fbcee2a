// Package objectapi is the object path of a mirror gateway
// (docs/SERVING.md §1): GET and HEAD of /BUCKET/KEY (or /KEY under a
// domain), from a pull.Store when the object is there, else as the
// bucket's rules in a bucketconfig.Registry decide: a 404, a redirect, or
// a fetch through a pull.Fetcher, streamed to the client while it is
// stored.
package objectapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/internal/signature"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/requestlog"
	"github.com/mirrorkit/mirror/pull"
)

// Handler serves the object path. Every response carries a request id,
// in the header of the request's dialect, and errors come in that dialect
// (S3's XML unless the request speaks another; see Errors). The zero value with a Store works: it
// serves the Store's objects, and with a Registry it answers misses as the
// rules say, fetching with a Fetcher of its own.
type Handler struct {
	// Store holds the objects. Nil: the Fetcher's Store, so that a
	// Handler given a Fetcher names its store once. Store or Fetcher is
	// required.
	Store pull.Store
	// Fetcher fetches the misses a fetch rule covers into the store. Nil:
	// the Handler makes one of its own over Store, with every default
	// (the dial guard on). A Fetcher given with a Store must fetch into
	// it, or what it commits is never served.
	Fetcher *pull.Fetcher
	// Registry holds the buckets' rules and read policies. Nil: no bucket
	// has any, only stored objects are served, and every bucket is
	// public-read. A configuration changed between two requests takes
	// effect whole: each request is decided by the one engine it got.
	Registry *bucketconfig.Registry
	// Credentials are the keys whose signed reads are taken (nil: none; a
	// private bucket can then not be read, and a signed read of any
	// bucket is refused). Every signed read is verified, of a public
	// bucket too (docs/SERVING.md §1.1).
	Credentials *access.Credentials
	// Domain, when set, makes a request whose Host is BUCKET.Domain
	// address the bucket virtual-host style: /KEY.
	Domain string
	// Logger gets a line per request that fails inside the gateway
	// (nil: slog.Default()).
	Logger *slog.Logger
	// ObserveLookup, when set, is called once per GET or HEAD with whether
	// the Store held the object.
	ObserveLookup func(hit bool)
	// Errors is the dialect of the error answers of a request that does
	// not say its own: "s3" (S3's XML, the default), "bos", "qingstor", or
	// "json" (the gateway's own JSON). A signed request gets its scheme's
	// dialect, and otherwise an x-amz-, x-bce- or x-qs- header decides
	// (docs/SERVING.md §1).
	Errors string
	// SmallObject, when positive, is the largest miss whose ETag can not
	// be known before its body (the origin sent no Content-MD5) that is
	// answered once stored, ETag and all, rather than streamed: such an
	// object arrives in a moment, and SDKs that read every answer's ETag
	// get one. Zero streams every miss (docs/SERVING.md §1).
	SmallObject int64
	// NoHeadFetch keeps a HEAD of a missing key from pulling: it is then
	// 404 NoSuchKey, never a fetch (OSS's MirrorAllowHeadObject off). The
	// zero value pulls, as a GET would, since the tools that look before
	// they read ask a HEAD first (docs/SERVING.md §1).
	NoHeadFetch bool
	// HeadWait bounds how long a HEAD of a miss whose ETag can not be
	// known before its body waits for the object's commit, to answer as
	// a hit, ETag and all (DefaultHeadWait when zero; negative: no wait).
	// S3 clients take a HEAD's ETag for granted (s3cmd fails without
	// one), and the tool's GET that follows hits instead of joining; a
	// fetch still running then is answered with the origin's headers and
	// no ETag (docs/SERVING.md §1).
	HeadWait time.Duration
	// ProgressTimeout bounds each write to a client (DefaultProgressTimeout):
	// a client that stops reading is dropped then, and what its answer
	// held goes back to the pool, while its fetch goes on.
	ProgressTimeout time.Duration
	// MaxAge, when set, gives a bucket's maximum age: a stored object
	// fetched longer ago than that is revalidated with its origin before
	// it is served (docs/SERVING.md §3.9). Nil, or 0 for a bucket: never,
	// as the providers' mirrors never refresh.
	MaxAge func(bucket string) time.Duration

	once    sync.Once
	seen    httpapi.SeenWrites // purges whose bodies only a CRC signs (purge.go)
	fetcher *pull.Fetcher
	store   pull.Store
}

// DefaultProgressTimeout is a Handler's ProgressTimeout when unset.
const DefaultProgressTimeout = 30 * time.Second

// DefaultHeadWait is a Handler's HeadWait when unset: well inside the
// read timeouts of S3 clients (aws-cli's is 60 s).
const DefaultHeadWait = 20 * time.Second

func (h *Handler) headWait() time.Duration {
	if h.HeadWait == 0 {
		return DefaultHeadWait
	}
	return max(h.HeadWait, 0)
}

func (h *Handler) progressTimeout() time.Duration {
	if h.ProgressTimeout > 0 {
		return h.ProgressTimeout
	}
	return DefaultProgressTimeout
}

// fetcherOf is the Fetcher misses go to.
func (h *Handler) fetcherOf() *pull.Fetcher {
	h.once.Do(func() {
		h.fetcher, h.store = h.Fetcher, h.Store
		if h.fetcher == nil {
			h.fetcher = &pull.Fetcher{Store: h.Store, Logger: h.Logger}
		}
		if h.store == nil {
			h.store = h.fetcher.Store
		}
	})
	return h.fetcher
}

// storeOf is the store objects are read from.
func (h *Handler) storeOf() pull.Store {
	h.fetcherOf()
	return h.store
}

// Shutdown waits for the fetches the Handler's Fetcher runs to end, as
// pull.Fetcher.Shutdown does.
func (h *Handler) Shutdown(ctx context.Context) error { return h.fetcherOf().Shutdown(ctx) }

// ServeHTTP serves one object request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme := signature.SchemeOf(r)
	// Errors are answered in the dialect the request speaks, by its
	// signature or its headers, else in Errors'.
	own := requestDialect(r, scheme)
	dia := own
	if dia == nil {
		dia = errorDialect(h.Errors)
	}
	e := dia.Start(w, r)
	router := httpapi.Router{Domain: h.Domain}
	if scheme == signature.QingStor || own == httpapi.QingStor && !h.hostNamesBucket(r, router) {
		// QingStor's SDK puts a zone label before the Host, never a
		// bucket, and its signature covers the path, not the Host: a
		// signed request names its bucket in the path, or a signature for
		// one bucket would read another. An unsigned one that only says
		// it is QingStor's does so when its Host names no bucket here, so
		// that saying so never changes what a bucket's URL serves
		// (docs/SERVING.md §1.1).
		router = httpapi.Router{}
	}
	bucket, key := router.Route(r)
	rec := requestlog.FromContext(r.Context())
	rec.SetObject(bucket, key)
	if bucket == "" && key == "" && !router.VirtualHost(r) {
		h.serveService(w, r, e, own)
		return
	}
	// A browser must never run what an origin sent as anything but its
	// declared type; and under path-style addressing every bucket shares
	// one web origin, so active content is sandboxed there
	// (docs/SERVING.md §1).
	w.Header().Set("X-Content-Type-Options", "nosniff")
	sandbox := !router.VirtualHost(r)
	if !mirror.ValidBucket(bucket) {
		e.Fail(httpapi.ErrBucketName)
		return
	}
	if r.Method == http.MethodOptions {
		h.preflight(w, r, e, bucket) // cors.go: unsigned, even of a private bucket
		return
	}
	if h.servePurge(w, r, e, own, bucket, key) { // purge.go: DELETE, POST ?delete
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, DELETE")
		e.Failf(httpapi.MethodNotAllowed, "this gateway is a mirror: GET and HEAD, and DELETE to purge")
		return
	}
	ctx := r.Context()
	var eng *mirror.Engine
	policy := bucketconfig.PublicRead
	if h.Registry != nil {
		var err error
		if eng, policy, err = h.Registry.Bucket(ctx, bucket); err != nil {
			h.internal(e, "reading the bucket's configuration", err)
			return
		}
		h.corsHeaders(w, r, bucket) // cors.go: on every answer from here on
	}
	// Before the store, the origin, a fetch slot or the negative cache:
	// a read that may not be made learns nothing and costs nothing.
	if fail := h.authorize(r, bucket, policy); fail != nil {
		e.Fail(fail)
		return
	}
	if key == "" {
		h.serveBucket(w, r, e, own, bucket, eng)
		return
	}
	obj, err := h.storeOf().Open(ctx, bucket, key)
	if h.ObserveLookup != nil {
		h.ObserveLookup(err == nil)
	}
	switch {
	case err == nil:
		if hitRedirect(w, r, eng, key) { // hits.go: a rule that fires on hits
			obj.Close()
			return
		}
		if d := h.staleDecision(r, eng, bucket, key, obj); d != nil {
			rec.SetOutcome("revalidated")
			h.fetch(w, r, e, bucket, key, d, sandbox, obj)
			obj.Close()
			return
		}
		rec.SetOutcome("hit")
		h.serveObject(w, r, obj, sandbox)
		obj.Close()
		return
	case !errors.Is(err, pull.ErrNotFound):
		h.internal(e, "reading the store", err)
		return
	}
	if onlyIfCached(r.Header) {
		rec.SetOutcome("not_cached")
		notCached(e) // onlyifcached.go: never the engine, an origin or a fetch
		return
	}
	if eng == nil {
		if has, err := h.storeOf().HasObjects(ctx, bucket); err != nil || has {
			e.Failf(httpapi.NoSuchKey, "no such object")
			return
		}
		e.Failf(httpapi.NoSuchBucket, "the bucket has no mirror configuration and no objects")
		return
	}
	if r.Method == http.MethodHead && h.NoHeadFetch {
		e.Failf(httpapi.NoSuchKey, "no such object (a HEAD never starts a fetch here)")
		return
	}
	if fromMirror(r.Header) {
		e.Failf(httpapi.NoSuchKey, "no such object (the request came through a mirror gateway: no fetch, no loop)")
		return
	}
	d, err := eng.Resolve(engineRequest(r, key))
	switch {
	case errors.Is(err, mirror.ErrNoRule):
		e.Failf(httpapi.NoSuchKey, "no such object, and no mirror rule covers its key")
		return
	case errors.Is(err, mirror.ErrInvalidQuery):
		e.Failf(httpapi.InvalidArgument, err.Error())
		return
	case err != nil:
		e.Failf(httpapi.InvalidObjectName, err.Error())
		return
	case d.Mode == mirror.ModeRedirect:
		rec.SetOutcome("redirect")
		w.Header().Set("Location", d.URLs[0])
		w.WriteHeader(d.RedirectCode)
		return
	case d.Mode == mirror.ModeRedirectFetch && h.redirectFetch(w, r, e, bucket, key, d):
		return // fetchpolicy.go: redirected at once, fetched in the background
	}
	rec.SetOutcome("miss")
	h.fetch(w, r, e, bucket, key, d, sandbox, nil)
}

// hostNamesBucket reports whether a request's Host names, under the
// Domain, a bucket this gateway has: a configuration or objects.
func (h *Handler) hostNamesBucket(r *http.Request, router httpapi.Router) bool {
	if !router.VirtualHost(r) {
		return false
	}
	b, _ := router.Route(r)
	if !mirror.ValidBucket(b) {
		return false
	}
	if h.Registry != nil {
		if eng, _, err := h.Registry.Bucket(r.Context(), b); err != nil || eng != nil {
			return true // when in doubt, the Host names it, as for anyone
		}
	}
	has, err := h.storeOf().HasObjects(r.Context(), b)
	return err != nil || has
}

// requestDialect is the dialect a request speaks itself, by its signature
// or its headers; nil when it says none.
func requestDialect(r *http.Request, scheme signature.Scheme) *httpapi.Dialect {
	switch scheme {
	case signature.SigV4:
		return httpapi.S3
	case signature.BCE:
		return httpapi.BOS
	case signature.QingStor:
		return httpapi.QingStor
	}
	// The QingStor SDK, unsigned, sends no x-qs- header: its User-Agent
	// names it.
	qs := strings.HasPrefix(r.Header.Get("User-Agent"), "qingstor-sdk-")
	var amz, bce bool
	for name := range r.Header {
		n := strings.ToLower(name)
		amz = amz || strings.HasPrefix(n, "x-amz-")
		bce = bce || strings.HasPrefix(n, "x-bce-")
		qs = qs || strings.HasPrefix(n, "x-qs-")
	}
	switch {
	case amz:
		return httpapi.S3
	case bce:
		return httpapi.BOS
	case qs:
		return httpapi.QingStor
	}
	return nil
}

// errorDialect is the dialect an Errors value names; S3's for "" and any
// value it does not know.
func errorDialect(name string) *httpapi.Dialect {
	switch name {
	case "bos":
		return httpapi.BOS
	case "qingstor":
		return httpapi.QingStor
	case "json":
		return httpapi.Gateway
	}
	return httpapi.S3
}

// authorize judges a read of bucket under its policy: a signed read is
// verified whatever the policy, and its key must be allowed to read the
// bucket; an unsigned one is taken only by a public-read bucket.
func (h *Handler) authorize(r *http.Request, bucket string, policy bucketconfig.Policy) *httpapi.Error {
	ak, signed, fail := signature.Verify(r, h.Credentials.Secret, time.Now())
	switch {
	case fail != nil:
		return fail
	case signed && !h.Credentials.MayRead(ak, bucket):
		return httpapi.Fail(httpapi.AccessDenied, "the access key may not read bucket "+bucket)
	case !signed && policy != bucketconfig.PublicRead:
		return httpapi.Fail(httpapi.AccessDenied, "the bucket is private: sign the request with a key that may read it")
	}
	return nil
}

// fromMirror reports whether a request carries the loop marker: a Via
// naming mirrorkit.
func fromMirror(h http.Header) bool {
	for _, v := range h.Values("Via") {
		if strings.Contains(strings.ToLower(v), "mirrorkit") {
			return true
		}
	}
	return false
}

// serveObject answers from a stored object: http.ServeContent does the
// Range and conditional requests, each write of it held to the progress
// deadline.
func (h *Handler) serveObject(w http.ResponseWriter, r *http.Request, obj pull.Object, sandbox bool) {
	info := obj.Info()
	objectHeaders(w.Header(), info, sandbox)
	w.Header().Set("ETag", `"`+info.ETag+`"`)
	if !satisfiableRange(r) {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		http.Error(w, "416 requested range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
		return
	}
	if holdsAnswer(r, obj, info) {
		defer httpapi.Hold(w, r)()
	}
	http.ServeContent(&progressWriter{w, http.NewResponseController(w), h.progressTimeout()}, r, "", info.LastModified, obj)
}

// holdsAnswer reports whether the answer to r is held (httpapi.Hold): a
// small answer, to leave in one write; and one net/http sends from the
// object's file with sendfile(2) (plain HTTP, one range or none, a known
// length: no Content-Encoding, for which http.ServeContent sends none),
// whose headers then leave with the file's first segment. No other answer
// is held: a copied one would fill the held buffer, up to 64 KiB, for a
// client that may stop reading (docs/SERVING.md §3.2).
func holdsAnswer(r *http.Request, obj pull.Object, info pull.ObjectInfo) bool {
	if info.Size <= holdMax {
		return true
	}
	_, isFile := obj.(pull.FileObject)
	rng := r.Header.Get("Range")
	single, _, _ := singleRange(rng, info.Size)
	return isFile && r.TLS == nil && (rng == "" || single) && info.Header.Get("Content-Encoding") == ""
}

// holdMax is the largest object whose answer leaves in one write, headers
// and all (httpapi.Hold).
const holdMax = 32 << 10

// activeTypes are the media types a browser runs script in.
var activeTypes = []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}

// objectHeaders sets what an object's response says about it.
func objectHeaders(h http.Header, info pull.ObjectInfo, sandbox bool) {
	for k, v := range info.Header {
		h[k] = v
	}
	ct := info.ContentType()
	h.Set("Content-Type", ct)
	if info.StorageClass != "" {
		h.Set("X-Bce-Storage-Class", info.StorageClass)
	}
	metaHeaders(h, &info) // meta.go: user metadata and provenance
	if !sandbox {
		return
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || slices.Contains(activeTypes, mt) {
		h.Set("Content-Security-Policy", "sandbox")
	}
}

// progressWriter renews the write deadline before each write: a client may
// take its time in all, but never ProgressTimeout for one write.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.renew()
	return p.ResponseWriter.Write(b)
}

func (p *progressWriter) renew() { _ = p.rc.SetWriteDeadline(time.Now().Add(p.timeout)) }

// ReadFrom copies a body to the client. http.ServeContent hands it the
// object, or one range of it, as an io.LimitedReader: one larger than
// holdMax (a smaller one leaves in one write, httpapi.Hold), of an object
// in a file (pull.FileObject), goes to the
// connection as the file itself (sendFile), which net/http sends with
// sendfile(2) over plain TCP. Anything else is copied through a pooled
// streamChunk buffer: io.Copy would otherwise give each answer a 32 KiB
// buffer of its own, pinned by a client that stops reading.
func (p *progressWriter) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok && lr.N > holdMax {
		if obj, ok := lr.R.(pull.FileObject); ok {
			if rf, ok := p.ResponseWriter.(io.ReaderFrom); ok {
				return p.sendFile(rf, lr, obj)
			}
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{p}, r, *bp)
}

// sendChunk is the most of a file handed to the connection at once: the
// write deadline is renewed between two.
const sendChunk = 4 << 20

// sendFile sends lr.N bytes of obj from its position, handing its file to
// rf (net/http's response) in chunks of sendChunk, each an
// io.LimitedReader over the file: over plain TCP net/http passes that to
// the connection's ReadFrom, which sends it with sendfile(2), no byte
// passing through the process. Elsewhere (TLS, a connection a listener
// wrapped) net/http copies it, reading the file through fileSource, which
// renews the deadline before each read, as Write does before each write.
//
// A chunk has ProgressTimeout to go out, renewed before it; one that has
// moved at least streamChunk bytes when the deadline passes goes on with
// a new one: that client is slow, not stalled. So, as with the writes of
// the copy, a client is dropped once it takes less than streamChunk in a
// ProgressTimeout (a deadline error does not break a net.Conn, and this
// one came from the connection's ReadFrom, which net/http does not watch).
//
// obj's position follows what was sent, so that a caller reading on gets
// the bytes after it.
func (p *progressWriter) sendFile(rf io.ReaderFrom, lr *io.LimitedReader, obj pull.FileObject) (int64, error) {
	f, base := obj.File()
	pos, err := obj.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if _, err := f.Seek(base+pos, io.SeekStart); err != nil {
		return 0, err
	}
	// The headers go first, alone: net/http would otherwise read the
	// body's first 512 bytes itself (to sniff a type this answer already
	// has) before it hands the rest to the connection.
	p.renew()
	if err := p.rc.Flush(); err != nil {
		return 0, err
	}
	sent, err := p.sendPieces(rf, f, base+pos, lr.N)
	lr.N -= sent
	if _, serr := obj.Seek(pos+sent, io.SeekStart); err == nil {
		err = serr
	}
	return sent, err
}

// sendPieces sends n bytes of f, whose offset is at, to the client in
// pieces of at most sendChunk, renewing the write deadline before each
// (and before each read, were net/http to copy instead of sendfile). A
// piece whose deadline passed after it moved streamChunk bytes is slow,
// not stalled: the next goes on from what was sent, f sought there, as a
// copy may have read past it. A file shorter than n is
// io.ErrUnexpectedEOF. It returns what was sent.
func (p *progressWriter) sendPieces(rf io.ReaderFrom, f *os.File, at, n int64) (int64, error) {
	piece := &io.LimitedReader{R: &fileSource{f: f, p: p}}
	var sent int64
	for sent < n {
		piece.N = min(n-sent, sendChunk)
		want := piece.N
		p.renew()
		k, err := rf.ReadFrom(piece)
		sent += k
		if err == nil && k < want {
			return sent, io.ErrUnexpectedEOF
		}
		if err != nil {
			if k < streamChunk || !errors.Is(err, os.ErrDeadlineExceeded) {
				return sent, err
			}
			if _, err := f.Seek(at+sent, io.SeekStart); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// fileSource is an object's file as sendFile hands it to the connection:
// a syscall.Conn, so that net's sendfile takes it as it takes an
// *os.File, and a Reader that renews the write deadline before each read
// when it is copied instead (each read is followed by the write of what
// it read).
type fileSource struct {
	f *os.File
	p *progressWriter
}

func (s *fileSource) Read(b []byte) (int, error) {
	s.p.renew()
	return s.f.Read(b)
}

func (s *fileSource) SyscallConn() (syscall.RawConn, error) { return s.f.SyscallConn() }

// Unwrap lets http.ResponseController reach the connection.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// satisfiableRange reports whether a Range can be answered: RFC 9110
// §14.1.1 makes a suffix of zero bytes ("-0") unsatisfiable, where
// http.ServeContent answers 206 with an empty range. Such specs are
// dropped from the header; a header of nothing else is unsatisfiable.
func satisfiableRange(r *http.Request) bool {
	v := r.Header.Get("Range")
	specs, ok := strings.CutPrefix(v, "bytes=")
	if !ok || r.Header.Get("If-Range") != "" {
		return true
	}
	var kept []string
	for _, spec := range strings.Split(specs, ",") {
		if t := strings.TrimSpace(spec); !strings.HasPrefix(t, "-") || strings.Trim(t[1:], "0") != "" || len(t) == 1 {
			kept = append(kept, spec)
		}
	}
	if len(kept) == 0 {
		return false
	}
	r.Header.Set("Range", "bytes="+strings.Join(kept, ","))
	return true
}

// fetch answers a miss that a fetch rule covers, or, with stale, a hit
// on an object to revalidate (freshness.go): the origin's 200 is streamed
// as a miss's, its 304 answered as a hit, and its failures but 404 with
// the stale object.
func (h *Handler) fetch(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, bucket, key string, d *mirror.Decision, sandbox bool,
	stale pull.Object) {
	ctx := r.Context()
	var dl *pull.Download
	var err error
	if stale != nil {
		dl, err = h.fetcherOf().Revalidate(ctx, bucket, key, d, stale.Info())
		if err != nil && servedStale(err) {
			requestlog.FromContext(ctx).SetOutcome("stale")
			h.serveObject(w, r, stale, sandbox)
			return
		}
	} else {
		dl, err = h.fetcherOf().Fetch(ctx, bucket, key, d)
	}
	if err != nil {
		h.fetchError(w, e, bucket, key, err)
		return
	}
	defer dl.Close()
	if dl.Joined {
		requestlog.FromContext(ctx).SetOutcome("joined")
	}
	single, off, n := singleRange(r.Header.Get("Range"), dl.Info.Size)
	small := dl.Info.ETag == "" && dl.Info.Size >= 0 && dl.Info.Size <= h.SmallObject
	asHit := dl.Stored || small || conditional(r.Header) || (r.Header.Get("Range") != "" && !single)
	if r.Method == http.MethodHead && !dl.Stored && (asHit || dl.Info.ETag == "") {
		// A HEAD streams nothing: it waits for the commit, up to
		// HeadWait, and then answers as a hit, ETag and all; a fetch
		// still running then is answered with the origin's headers, its
		// preconditions and ranges unjudged, so that a HEAD never
		// outlasts its client's patience (docs/SERVING.md §1).
		asHit = false
		if wait := h.headWait(); wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, wait)
			err := dl.Wait(wctx)
			cancel()
			switch {
			case err == nil:
				asHit = true
			case wctx.Err() != nil && ctx.Err() == nil:
				// Still running: answered below with the origin's headers.
			default:
				h.fetchError(w, e, bucket, key, err)
				return
			}
		}
	}
	if asHit {
		// Answered as a hit once the object is committed: read from the
		// spool this fetch wrote, or from the store when another one
		// committed it.
		if err := dl.Wait(ctx); err != nil {
			h.fetchError(w, e, bucket, key, err)
			return
		}
		if (small || dl.Proxied()) && !dl.Stored {
			// Read back from the spool: no open, no metadata decode.
			// A bigger object is opened from the store, whose file a
			// hit's answer is sent from with sendfile(2); a proxied
			// one (fetch.store false) is only in the spool.
			h.serveObject(w, r, dl.Object(), sandbox)
			return
		}
		obj, err := h.storeOf().Open(ctx, bucket, key)
		if err != nil {
			h.internal(e, "reading the object just stored", err)
			return
		}
		defer obj.Close()
		h.serveObject(w, r, obj, sandbox)
		return
	}
	objectHeaders(w.Header(), dl.Info, sandbox)
	w.Header().Set("Last-Modified", dl.Info.LastModified.UTC().Format(http.TimeFormat))
	w.Header().Set("Accept-Ranges", "bytes")
	if dl.Info.ETag != "" {
		w.Header().Set("ETag", `"`+dl.Info.ETag+`"`)
	}
	if r.Method == http.MethodHead {
		// The origin has answered: so does the HEAD, and the fetch runs
		// on, detached, so that the tool's GET joins it or hits. A 200 to
		// a HEAD does not promise a commit.
		if dl.Info.Size >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(dl.Info.Size, 10))
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	status := http.StatusOK
	switch {
	case single:
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10)+"/"+strconv.FormatInt(dl.Info.Size, 10))
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	case dl.Info.Size >= 0:
		off, n = 0, dl.Info.Size
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	default:
		off, n = 0, -1
	}
	rd := dl.Reader(ctx, off, n)
	// sendfile(2) needs a plain connection and a known length: over TLS,
	// or chunked, net/http would copy the spool anyway.
	if r.TLS == nil && n >= 0 {
		if f, ok := dl.OpenSpool(); ok {
			defer f.Close()
			h.streamFile(w, r, e, bucket, key, status, rd, f, off)
			return
		}
	}
	h.stream(w, r, e, bucket, key, status, rd)
}

// streamChunk is the buffer an answer is streamed through, a miss's or a
// hit's: what a client that stops reading pins until its progress
// deadline, so small (a stalled reader costs well under 64 KiB;
// docs/SERVING.md §3.2).
const streamChunk = 16 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, streamChunk); return &b }}

// stream copies the spool to the client as it arrives, flushing each
// piece. The status line waits for the first byte, so that a fetch that
// fails before it still gets a plain error answer; once bytes were sent, a
// failure aborts the connection: the client must be able to tell that the
// response is not whole.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, bucket, key string, status int, rd io.Reader) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	rc := http.NewResponseController(w)
	for started := false; ; started = true {
		k, err := rd.Read(buf)
		if !started {
			if err != nil && !errors.Is(err, io.EOF) {
				h.streamFailed(w, e, bucket, key, err)
				return
			}
			w.WriteHeader(status)
		}
		if k > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(h.progressTimeout()))
			if _, werr := w.Write(buf[:k]); werr != nil {
				return // the client went away; the fetch goes on
			}
			_ = rc.Flush()
		}
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			// The fetch failed, or the client's context ended (it went
			// away, or half-closed its side): either way the response must
			// not end cleanly.
			panic(http.ErrAbortHandler)
		}
	}
}

// streamFile is stream for a spool that is a file, f, positioned at the
// reader's offset: each piece that arrived goes to the client with
// sendfile(2), straight from the page cache, instead of being read into a
// buffer and written out again (issue 18). Its answers are stream's.
func (h *Handler) streamFile(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, bucket, key string, status int, rd *pull.SpoolReader, f *os.File, off int64) {
	rc := http.NewResponseController(w)
	rf, ok := w.(io.ReaderFrom)
	if !ok {
		h.stream(w, r, e, bucket, key, status, rd)
		return
	}
	// As a hit's sendFile (sendPieces), from the reader's offset.
	p := &progressWriter{w, rc, h.progressTimeout()}
	pos := off // where the next piece starts in f; f's offset is there too
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		h.stream(w, r, e, bucket, key, status, rd)
		return
	}
	for started := false; ; started = true {
		k, err := rd.Ready()
		if !started {
			if err != nil && !errors.Is(err, io.EOF) {
				h.streamFailed(w, e, bucket, key, err)
				return
			}
			// The headers are flushed before the first piece (net/http
			// would otherwise copy its first 512 bytes itself before it
			// hands the rest over), held, to leave with the piece's first
			// segment (httpapi.Hold).
			defer httpapi.Hold(w, r)()
			w.WriteHeader(status)
			if rc.Flush() != nil {
				return
			}
		}
		if k > 0 {
			sent, werr := p.sendPieces(rf, f, pos, k)
			rd.Skip(sent)
			pos += sent
			switch {
			case werr == io.ErrUnexpectedEOF:
				// The spool is shorter than it said: the answer must
				// not end cleanly.
				panic(http.ErrAbortHandler)
			case werr != nil:
				return // the client went away; the fetch goes on
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			panic(http.ErrAbortHandler) // as stream
		}
	}
}

// streamFailed answers a fetch that failed before its first byte, with
// none of the headers the object's answer would have had.
func (h *Handler) streamFailed(w http.ResponseWriter, e *httpapi.Reply, bucket, key string, err error) {
	for _, name := range []string{"Content-Length", "Content-Range", "Content-Encoding", "Content-Disposition",
		"Content-Language", "Cache-Control", "Expires", "X-Bce-Storage-Class", "Content-Security-Policy",
		"Last-Modified", "ETag", "Accept-Ranges"} {
		w.Header().Del(name)
	}
	h.fetchError(w, e, bucket, key, err)
}

// conditional reports whether a request has a precondition, which is
// answered against the stored object.
func conditional(h http.Header) bool {
	for _, name := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if h.Get(name) != "" {
			return true
		}
	}
	return false
}

// singleRange parses a Range of one satisfiable byte range of an object of
// known size; anything else is answered by http.ServeContent once stored.
func singleRange(v string, size int64) (ok bool, off, n int64) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || size < 0 || strings.Contains(spec, ",") {
		return false, 0, 0
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return false, 0, 0
	}
	if first == "" { // the last N bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k <= 0 {
			return false, 0, 0
		}
		k = min(k, size)
		return size > 0, size - k, k
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 || start >= size {
		return false, 0, 0
	}
	end := size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return false, 0, 0
		}
		end = min(end, size-1)
	}
	return true, start, end - start + 1
}

// fetchError answers a fetch that gave no object. The client hears what
// happened in words that name no origin, address or path; the log holds
// the detail beside the request id (docs/SERVING.md §3.4).
func (h *Handler) fetchError(w http.ResponseWriter, e *httpapi.Reply, bucket, key string, err error) {
	var fe *pull.FetchError
	switch {
	case errors.As(err, &fe) && fe.Outcome == pull.OutcomePassed && fe.Passed != nil:
		// The rule's fetch.passStatus hands the origin's answer on
		// (fetchpolicy.go).
		h.logger().Info("object request", "request", e.ID, "bucket", bucket, "key", key, "outcome", fe.Outcome, "error", fe.Message)
		pass(w, fe.Passed)
	case errors.As(err, &fe):
		if fe.Outcome == pull.OutcomeSlowDown {
			w.Header().Set("Retry-After", "1")
		}
		h.logger().Warn("object request", "request", e.ID, "bucket", bucket, "key", key, "outcome", fe.Outcome, "error", fe.Message)
		e.Failf(outcomeFailure(fe.Outcome), outcomeMessages[fe.Outcome])
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The client went away (or half-closed): net/http would send an
		// empty 200 for a handler that writes nothing.
		panic(http.ErrAbortHandler)
	default:
		h.logger().Warn("object request", "request", e.ID, "bucket", bucket, "key", key, "error", err)
		e.Failf(httpapi.MirrorFailed, outcomeMessages[pull.OutcomeFailed])
	}
}

// outcomeMessages are what a client is told of each failed fetch.
var outcomeMessages = map[pull.Outcome]string{
	pull.OutcomeNotFound:  "no such object here or at its origin",
	pull.OutcomeFailed:    "the object could not be fetched from its origin",
	pull.OutcomeTooLarge:  "the object is larger than this gateway stores",
	pull.OutcomeCut:       "the origin's body was cut short",
	pull.OutcomeTooSlow:   "the origin sent the object too slowly",
	pull.OutcomeBadDigest: "the origin's body did not match its Content-MD5",
	pull.OutcomeStoreErr:  "the object could not be stored",
	pull.OutcomeSlowDown:  "this gateway is fetching as much as it may; try again",
	pull.OutcomePurged:    "the object was purged while it was fetched; try again",
}

// outcomeFailure is how a fetch's outcome is answered: the origin's 404
// is the object's, a full gateway asks to try again, and anything else is
// a mirror that failed.
func outcomeFailure(o pull.Outcome) httpapi.Failure {
	switch o {
	case pull.OutcomeNotFound:
		return httpapi.NoSuchKey
	case pull.OutcomeSlowDown:
		return httpapi.SlowDown
	}
	return httpapi.MirrorFailed
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) internal(e *httpapi.Reply, doing string, err error) {
	h.logger().Error("object request", "request", e.ID, "doing", doing, "error", err)
	e.Failf(httpapi.InternalError, "the gateway failed "+doing)
}
