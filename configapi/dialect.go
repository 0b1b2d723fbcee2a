package configapi

import (
	"net/http"

	"github.com/mirrorkit/mirror"
)

// Both APIs take a configuration request through the same steps
// (docs/SERVING.md §4): refuse everything when nothing can be signed,
// check the signature before the bucket name, then PUT, GET or DELETE the
// bucket's configuration. A dialect is what one provider says
// differently: its headers, error body and codes, where the bucket is
// named, how requests are signed, and any check of its own on a body.

// dialect is one provider's wording of serveConfig.
type dialect struct {
	api             string // APIBOS or APIQingStor
	format          mirror.Format
	contentType     string // of error bodies and GET's document
	requestIDHeader string
	errorBody       func(code, message, id string) any
	bucket          func(h *Handler, r *http.Request) string
	verify          func(h *Handler, r *http.Request) (accessKey string, e *apiError)
	checkBody       func(body []byte) *apiError // nil: none
	codes           dialectCodes
	// what names a configuration, none says there is none, resource
	// is the query parameter, in messages.
	what, none, resource string
}

// dialectCodes are a provider's error codes for the steps' refusals.
type dialectCodes struct {
	denied, invalidBucket, tooLarge, badDigest, notJSON, invalid, internal, notFound, method string
}

// serveConfig serves one configuration request in dialect d.
func (h *Handler) serveConfig(w http.ResponseWriter, r *http.Request, d *dialect) {
	id := newRequestID()
	w.Header().Set(d.requestIDHeader, id)
	c := &d.codes
	fail := func(e *apiError) { writeJSON(w, e.status, d.contentType, d.errorBody(e.code, e.message, id)) }
	internal := func(doing, what string, err error) {
		h.internal(doing, err, id)
		fail(&apiError{http.StatusInternalServerError, c.internal, "the configuration could not be " + what + "; try again"})
	}
	if h.Credentials.empty() {
		// Nothing can be signed: every request is refused alike, before
		// its header or bucket is judged (docs/SERVING.md §4.3).
		fail(&apiError{http.StatusForbidden, c.denied, "this gateway takes no configuration requests"})
		return
	}
	bucket := d.bucket(h, r)
	// The signature covers the path, so it is checked before the bucket
	// name: an unsigned request learns nothing about either.
	ak, e := d.verify(h, r)
	if e == nil && !mirror.ValidBucket(bucket) {
		e = &apiError{http.StatusBadRequest, c.invalidBucket, "the bucket name is not 3-63 of a-z 0-9 - starting and ending with a letter or digit"}
	}
	if e == nil && !h.Credentials.allows(ak, bucket) {
		e = &apiError{http.StatusForbidden, c.denied, "the access key may not configure bucket " + bucket}
	}
	if e != nil {
		fail(e)
		return
	}
	switch r.Method {
	case http.MethodPut:
		body, ok := readBody(r)
		switch {
		case !ok:
			fail(&apiError{http.StatusBadRequest, c.tooLarge, d.what + " is at most 64 KiB"})
			return
		case !digestMatches(r, body):
			fail(&apiError{http.StatusBadRequest, c.badDigest, "the Content-MD5 you specified did not match what was received"})
			return
		}
		if d.checkBody != nil {
			if e := d.checkBody(body); e != nil {
				fail(e)
				return
			}
		}
		notJSON, invalid, err := h.put(r, bucket, d.api, d.format, body)
		switch {
		case notJSON:
			fail(&apiError{http.StatusBadRequest, c.notJSON, "the JSON you provided was not well-formed"})
		case invalid != "":
			fail(&apiError{http.StatusBadRequest, c.invalid, invalid})
		case err != nil:
			internal("storing a configuration", "stored", err)
		default:
			// Exactly 200: the QingStor SDK takes any other success code
			// for an error.
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
		}
	case http.MethodGet:
		api, doc, ok, err := h.Registry.Config(r.Context(), bucket)
		switch {
		case err != nil:
			internal("reading a configuration", "read", err)
		case !ok || api != d.api:
			fail(&apiError{http.StatusNotFound, c.notFound, d.none})
		default:
			writeBody(w, http.StatusOK, d.contentType, doc)
		}
	case http.MethodDelete:
		// Only a configuration put through this API is removed; any other
		// is "none set" here, as GET says (docs/SERVING.md §4.1, §4.2).
		if _, err := h.Registry.Delete(r.Context(), bucket, d.api); err != nil {
			internal("deleting a configuration", "deleted", err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "PUT, GET, DELETE")
		fail(&apiError{http.StatusMethodNotAllowed, c.method, d.resource + " takes PUT, GET and DELETE"})
	}
}
