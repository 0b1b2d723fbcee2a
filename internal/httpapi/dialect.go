package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/mirrorkit/mirror/internal/requestlog"
)

// A Dialect is how one API answers: the header its request id goes in,
// the media type and shape of its error bodies, and its table of
// failures. The tables are in this package, one file each.
type Dialect struct {
	// Name is the API's, for logs.
	Name string
	// RequestIDHeader carries the request id on every answer.
	RequestIDHeader string
	// ContentType is the media type of error bodies (and of the
	// documents the API returns).
	ContentType string
	// body encodes an error body about r.
	body func(code, message, id string, r *http.Request) []byte
	// table gives each Failure its status and code.
	table [numFailures]Answer
}

// Answer is a failure's status and code in one dialect.
type Answer struct {
	Status int
	Code   string
}

// Answer returns f's status and code.
func (d *Dialect) Answer(f Failure) Answer { return d.table[f] }

// Start gives a request its id, in the dialect's header, and returns what
// answers it.
func (d *Dialect) Start(w http.ResponseWriter, r *http.Request) *Reply {
	id := NewRequestID()
	w.Header().Set(d.RequestIDHeader, id)
	requestlog.FromContext(r.Context()).SetID(id)
	return &Reply{d: d, w: w, r: r, ID: id}
}

// Reply answers one request in one dialect.
type Reply struct {
	d  *Dialect
	w  http.ResponseWriter
	r  *http.Request
	ID string // the request id
}

// Fail answers with e: its dialect's status and code, e's message and the
// request id, as the dialect's error body. A HEAD gets the status and
// headers without the body.
func (rp *Reply) Fail(e *Error) {
	a := rp.d.table[e.Failure]
	requestlog.FromContext(rp.r.Context()).SetCode(a.Code)
	body := rp.d.body(a.Code, e.Message, rp.ID, rp.r)
	h := rp.w.Header()
	h.Set("Content-Type", rp.d.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rp.w.WriteHeader(a.Status)
	if rp.r.Method != http.MethodHead {
		_, _ = rp.w.Write(body)
	}
}

// Failf answers with a failure and a message.
func (rp *Reply) Failf(f Failure, message string) { rp.Fail(&Error{f, message}) }

// jsonBody encodes v, which always marshals.
func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// table builds a dialect's table from its rows; a test holds every table
// to naming every failure.
func table(rows map[Failure]Answer) (t [numFailures]Answer) {
	for f, a := range rows {
		t[f] = a
	}
	return t
}
