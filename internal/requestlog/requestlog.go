// Package requestlog writes the access log (docs/SERVING.md §5): one line
// per request, with what the server saw (client, method, status, bytes,
// duration) and what the handlers said of it in its Record (request id,
// bucket, key, outcome, error code). A fetch's own log line carries the
// id of the request that started it, found by ID.
package requestlog

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Record is what a request's handlers know of it that the server does
// not. Outside a Handler there is none: FromContext gives nil, and every
// method of a nil *Record does nothing.
type Record struct {
	// ID is the request id the answer carries.
	ID string
	// Bucket and Key are what the request addressed, once known.
	Bucket, Key string
	// Outcome is how it was answered: hit, miss, joined, redirect,
	// not_cached, purge, config, … ("" when it never got that far).
	Outcome string
	// Code is the error code answered, in the request's dialect.
	Code string
}

type recordKey struct{}

// FromContext returns the Record of the request ctx belongs to, or nil.
func FromContext(ctx context.Context) *Record {
	rec, _ := ctx.Value(recordKey{}).(*Record)
	return rec
}

// ID returns the id of the request ctx belongs to, "" when it has none.
func ID(ctx context.Context) string {
	if rec := FromContext(ctx); rec != nil {
		return rec.ID
	}
	return ""
}

// SetID records the request id.
func (r *Record) SetID(id string) {
	if r != nil {
		r.ID = id
	}
}

// SetObject records the bucket and key addressed.
func (r *Record) SetObject(bucket, key string) {
	if r != nil {
		r.Bucket, r.Key = bucket, key
	}
}

// SetOutcome records how the request was answered.
func (r *Record) SetOutcome(outcome string) {
	if r != nil {
		r.Outcome = outcome
	}
}

// SetCode records the error code answered.
func (r *Record) SetCode(code string) {
	if r != nil {
		r.Code = code
	}
}

// Handler logs one line per request Next serves, when Next has returned.
type Handler struct {
	// Next serves the requests. Required.
	Next http.Handler
	// Logger gets the lines, at level Info, message "request". Required.
	Logger *slog.Logger
}

// logged is one request's Record and the writer that counts its answer,
// allocated together.
type logged struct {
	Record
	w writer
}

// ServeHTTP serves r with Next and logs its line.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	l := &logged{w: writer{ResponseWriter: w}}
	r = r.WithContext(context.WithValue(r.Context(), recordKey{}, &l.Record))
	h.Next.ServeHTTP(&l.w, r)
	status := l.w.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := [...]slog.Attr{
		slog.String("request_id", l.ID),
		slog.String("client", r.RemoteAddr),
		slog.String("method", r.Method),
		slog.String("bucket", l.Bucket),
		slog.String("key", l.Key),
		slog.Int("status", status),
		slog.Int64("bytes", l.w.bytes),
		slog.Duration("duration", time.Since(began)),
		slog.String("outcome", l.Outcome),
		slog.String("code", l.Code),
	}
	h.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs[:]...)
}

// writer counts the status and body bytes of an answer. It keeps what
// the server's writer can do: ReadFrom (sendfile(2)), Flush, and Unwrap
// for http.ResponseController.
type writer struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *writer) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.bytes += n
	return n, err
}

func (w *writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
