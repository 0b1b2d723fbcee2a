package pull

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/mirrorkit/mirror"
)

// Handler serves the object path of a mirror gateway (docs/SERVING.md §1):
// GET and HEAD of /BUCKET/KEY (or /KEY under Domain), from the Store when
// the object is there, else as the bucket's rules decide: a 404, a
// redirect, or a fetch through the Fetcher, streamed to the client while
// it is stored. Every response carries an X-Request-Id; errors are JSON.
type Handler struct {
	// Store holds the objects; Fetcher fetches into the same Store.
	Store   Store
	Fetcher *Fetcher
	// Rules returns a bucket's compiled rules, or nil when the bucket has
	// no configuration. A configuration changed between two calls takes
	// effect whole: each request is decided by the one engine it got.
	Rules func(ctx context.Context, bucket string) (*mirror.Engine, error)
	// Domain, when set, makes a request whose Host is BUCKET.Domain
	// address the bucket virtual-host style: /KEY.
	Domain string
	// Logger gets a line per request that fails inside the gateway
	// (nil: slog.Default()).
	Logger *slog.Logger
	// ObserveLookup, when set, is called once per GET or HEAD with whether
	// the Store held the object.
	ObserveLookup func(hit bool)
}

// ServeHTTP serves one object request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("X-Request-Id", id)
	e := &errorWriter{w: w, r: r, id: id}
	bucket, key, ok := h.route(r)
	if !ok {
		e.write(http.StatusBadRequest, "InvalidBucketName", "the bucket name is not 3-63 of a-z 0-9 - starting and ending with a letter or digit")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		e.write(http.StatusMethodNotAllowed, "MethodNotAllowed", "this gateway is a read-only mirror: GET and HEAD only")
		return
	}
	ctx := r.Context()
	obj, err := h.Store.Open(ctx, bucket, key)
	if h.ObserveLookup != nil {
		h.ObserveLookup(err == nil)
	}
	switch {
	case err == nil:
		serveObject(w, r, obj)
		obj.Close()
		return
	case !errors.Is(err, ErrNotFound):
		h.internal(e, "reading the store", err)
		return
	}
	var eng *mirror.Engine
	if h.Rules != nil {
		if eng, err = h.Rules(ctx, bucket); err != nil {
			h.internal(e, "reading the bucket's configuration", err)
			return
		}
	}
	if eng == nil {
		if has, err := h.Store.HasObjects(ctx, bucket); err != nil || has {
			e.write(http.StatusNotFound, CodeNoSuchKey, "no such object")
			return
		}
		e.write(http.StatusNotFound, "NoSuchBucket", "the bucket has no mirror configuration and no objects")
		return
	}
	if r.Method == http.MethodHead {
		e.write(http.StatusNotFound, CodeNoSuchKey, "no such object (a HEAD never starts a fetch)")
		return
	}
	if fromMirror(r.Header) {
		e.write(http.StatusNotFound, CodeNoSuchKey, "no such object (the request came through a mirror gateway: no fetch, no loop)")
		return
	}
	d, err := eng.Resolve(&mirror.Request{Key: key, RawQuery: r.URL.RawQuery, Header: r.Header})
	switch {
	case errors.Is(err, mirror.ErrNoRule):
		e.write(http.StatusNotFound, CodeNoSuchKey, "no such object, and no mirror rule covers its key")
		return
	case errors.Is(err, mirror.ErrInvalidQuery):
		e.write(http.StatusBadRequest, "InvalidArgument", err.Error())
		return
	case err != nil:
		e.write(http.StatusBadRequest, "InvalidObjectName", err.Error())
		return
	case d.Mode == mirror.ModeRedirect:
		w.Header().Set("Location", d.URLs[0])
		w.WriteHeader(d.RedirectCode)
		return
	}
	h.fetch(w, r, e, bucket, key, d)
}

// route finds the bucket and the key: path-style /BUCKET/KEY, or /KEY
// when the Host is BUCKET.Domain. The key is the path after the bucket,
// percent-decoded exactly once (Go's r.URL.Path), so "%2F" is a "/" in
// the key and "%252F" a literal "%2F".
func (h *Handler) route(r *http.Request) (bucket, key string, ok bool) {
	p := r.URL.Path
	if h.Domain != "" {
		host := r.Host
		if hn, _, err := net.SplitHostPort(host); err == nil {
			host = hn
		}
		if b, found := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(h.Domain)); found {
			return b, strings.TrimPrefix(p, "/"), ValidBucket(b)
		}
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key, ValidBucket(bucket)
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
// Range and conditional requests.
func serveObject(w http.ResponseWriter, r *http.Request, obj Object) {
	info := obj.Info()
	objectHeaders(w.Header(), info)
	w.Header().Set("ETag", `"`+info.ETag+`"`)
	http.ServeContent(w, r, "", info.LastModified, obj)
}

// objectHeaders sets what an object's response says about it.
func objectHeaders(h http.Header, info ObjectInfo) {
	for k, v := range info.Header {
		h[k] = v
	}
	h.Set("Content-Type", contentType(info.Header))
	if info.StorageClass != "" {
		h.Set("X-Bce-Storage-Class", info.StorageClass)
	}
}

// fetch answers a miss that a fetch rule covers.
func (h *Handler) fetch(w http.ResponseWriter, r *http.Request, e *errorWriter, bucket, key string, d *mirror.Decision) {
	ctx := r.Context()
	dl, err := h.Fetcher.Fetch(ctx, bucket, key, d)
	if err != nil {
		h.fetchError(w, e, err)
		return
	}
	defer dl.Close()
	single, off, n := singleRange(r.Header.Get("Range"), dl.Info.Size)
	if dl.Stored || conditional(r.Header) || (r.Header.Get("Range") != "" && !single) {
		// Answered as a hit once the object is committed.
		if err := dl.Wait(ctx); err != nil {
			h.fetchError(w, e, err)
			return
		}
		obj, err := h.Store.Open(ctx, bucket, key)
		if err != nil {
			h.internal(e, "reading the object just stored", err)
			return
		}
		defer obj.Close()
		serveObject(w, r, obj)
		return
	}
	objectHeaders(w.Header(), dl.Info)
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
	h.stream(w, r, e, status, dl.Reader(ctx, off, n))
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// stream copies the spool to the client as it arrives, flushing each
// piece. The status line waits for the first byte, so that a fetch that
// fails before it still gets a plain error answer; once bytes were sent, a
// failure aborts the connection: the client must be able to tell that the
// response is not whole.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, e *errorWriter, status int, rd io.Reader) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	rc := http.NewResponseController(w)
	for started := false; ; started = true {
		k, err := rd.Read(buf)
		if !started {
			if err != nil && !errors.Is(err, io.EOF) {
				for _, name := range []string{"Content-Length", "Content-Range", "Content-Encoding", "Content-Disposition",
					"Content-Language", "Cache-Control", "Expires", "X-Bce-Storage-Class"} {
					w.Header().Del(name)
				}
				h.fetchError(w, e, err)
				return
			}
			w.WriteHeader(status)
		}
		if k > 0 {
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

// fetchError answers a fetch that gave no object.
func (h *Handler) fetchError(w http.ResponseWriter, e *errorWriter, err error) {
	var fe *FetchError
	switch {
	case errors.As(err, &fe) && fe.Code == CodeNoSuchKey:
		e.write(http.StatusNotFound, CodeNoSuchKey, fe.Message)
	case errors.As(err, &fe) && fe.Code == CodeSlowDown:
		w.Header().Set("Retry-After", "1")
		e.write(http.StatusServiceUnavailable, CodeSlowDown, fe.Message)
	case errors.As(err, &fe):
		e.write(http.StatusFailedDependency, CodeMirrorFailed, fe.Message)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The client went away (or half-closed): net/http would send an
		// empty 200 for a handler that writes nothing.
		panic(http.ErrAbortHandler)
	default:
		e.write(http.StatusFailedDependency, CodeMirrorFailed, err.Error())
	}
}

func (h *Handler) internal(e *errorWriter, doing string, err error) {
	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error("object request", "request", e.id, "doing", doing, "error", err)
	e.write(http.StatusInternalServerError, "InternalError", "the gateway failed "+doing)
}

// errorWriter writes the JSON error answers.
type errorWriter struct {
	w  http.ResponseWriter
	r  *http.Request
	id string
}

// ErrorBody is the JSON of an error answer.
type ErrorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func (e *errorWriter) write(status int, code, message string) {
	h := e.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	body, _ := json.Marshal(ErrorBody{Code: code, Message: message, RequestID: e.id})
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	e.w.WriteHeader(status)
	if e.r.Method != http.MethodHead {
		_, _ = e.w.Write(append(body, '\n'))
	}
}

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
