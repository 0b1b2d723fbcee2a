package configapi

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/access"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/signature"
)

// Handler answers the configuration APIs (docs/SERVING.md §4): BOS
// PUT|GET|DELETE /BUCKET?mirroring and QingStor PUT|GET|DELETE
// /BUCKET?mirror. Every request must be signed with a key of Credentials
// that may configure the bucket; without Credentials (or with none in
// them) every request is refused with 403 before anything else is judged.
type Handler struct {
	// Registry holds the configurations. Required.
	Registry *bucketconfig.Registry
	// Credentials are the keys that may configure buckets (nil: none, and
	// every request is refused).
	Credentials *access.Credentials
	// Domain, when set, lets a BOS request name its bucket in the Host,
	// BUCKET.Domain, with the path "/". QingStor requests are always
	// path-style: their Host's first label is a zone, not a bucket.
	Domain string
	// Logger gets a line per request that fails inside the gateway (nil:
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock signatures are judged by (nil: time.Now).
	Now func() time.Time

	seen httpapi.SeenWrites // writes' signatures (internal/httpapi/replay.go)
}

// IsConfigRequest reports whether a request is for a configuration API:
// its query names the "mirroring" (BOS) or "mirror" (QingStor)
// sub-resource, "acl" (a bucket's read policy) or "cors" (its CORS
// rules). A gateway sends those to a Handler and the rest to its
// object path. An OPTIONS is never one: every OPTIONS is a CORS
// preflight, which the object path answers (docs/SERVING.md §1.2).
func IsConfigRequest(r *http.Request) bool {
	if r.Method == http.MethodOptions {
		return false
	}
	q := r.URL.Query()
	return apiOf(r) != nil || q.Has("acl") || q.Has("cors")
}

// maxBody is the largest configuration document taken.
const maxBody = 64 << 10

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ServeHTTP serves one configuration request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := apiOf(r)
	switch {
	case q.Has("cors") && !q.Has("acl") && a == nil:
		h.serveCORS(w, r) // cors.go
	case q.Has("acl") && a == nil:
		h.serveACL(w, r)
	case a == nil:
		// Not a configuration request (IsConfigRequest says so): the
		// gateway's own words.
		httpapi.Gateway.Start(w, r).Failf(httpapi.InvalidArgument, "not a configuration request")
	default:
		h.serve(w, r, a)
	}
}

// serve takes a configuration request through the steps both APIs share:
// refuse everything when nothing can be signed, check the signature
// before the bucket name, then PUT, GET or DELETE the bucket's
// configuration, answering in api's dialect.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, api *api) {
	rp := api.dialect.Start(w, r)
	if h.Credentials.Empty() {
		// Nothing can be signed: every request is refused alike, before
		// its header or bucket is judged (docs/SERVING.md §4.3).
		rp.Failf(httpapi.AccessDenied, "this gateway takes no configuration requests")
		return
	}
	bucket, key := api.router(h).Route(r)
	if key != "" {
		bucket += "/" + key // a configuration names a bucket, never an object
	}
	// The signature covers the path, so it is checked before the bucket
	// name: an unsigned request learns nothing about either.
	ak, e := api.verify(r, h.Credentials.Secret, h.now())
	if e == nil && !mirror.ValidBucket(bucket) {
		e = httpapi.ErrBucketName
	}
	if e == nil && !h.Credentials.MayConfigure(ak, bucket) {
		e = httpapi.Fail(httpapi.AccessDenied, "the access key may not configure bucket "+bucket)
	}
	if e != nil {
		rp.Fail(e)
		return
	}
	switch r.Method {
	case http.MethodPut:
		if api.signsBody {
			if e := bodySigned(r); e != nil {
				rp.Fail(e)
				return
			}
		}
		body, ok := readBody(r)
		if !ok {
			rp.Failf(httpapi.EntityTooLarge, api.what+" is at most 64 KiB")
			return
		}
		if e := bodyMatches(r, body); e != nil {
			rp.Fail(e)
			return
		}
		if api.digests != nil {
			if e := api.digests(r, body); e != nil {
				rp.Fail(e)
				return
			}
		}
		h.writeOnce(w, r, rp, body, func() bool {
			e, err := h.put(r, bucket, api, body)
			switch {
			case e != nil:
				rp.Fail(e)
			case err != nil:
				h.internal(rp, "storing a configuration", "stored", err)
			}
			return e == nil && err == nil
		})
	case http.MethodGet:
		doc, e, err := h.get(r, bucket, api) // convert.go
		switch {
		case err != nil:
			h.internal(rp, "reading a configuration", "read", err)
		case e != nil:
			rp.Fail(e)
		default:
			ct := api.docType
			if ct == "" {
				ct = api.dialect.ContentType
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(doc)
		}
	case http.MethodDelete:
		// A bucket has one configuration, whichever API put it: a DELETE
		// through any API removes it (docs/SERVING.md §4.6).
		h.writeOnce(w, r, rp, nil, func() bool {
			_, err := h.Registry.Delete(r.Context(), bucket, "")
			if err != nil {
				h.internal(rp, "deleting a configuration", "deleted", err)
			}
			return err == nil
		})
	default:
		w.Header().Set("Allow", "PUT, GET, DELETE")
		rp.Failf(httpapi.MethodNotAllowed, api.resource+" takes PUT, GET and DELETE")
	}
}

// writeOnce makes a write at most once per signature (replay.go): the
// same write signed the same is answered as done and not made again,
// another write with that signature is refused, and a new one is made by
// write, which answers its own failures and says whether it took effect;
// a signature whose write failed is forgotten, so the write may be sent
// again.
//
// Every write is signed in its Authorization header, never by a presigned
// URL: a URL lives for days, longer than the replay window, and would
// have no signature here to be remembered by (docs/SERVING.md §4.3).
func (h *Handler) writeOnce(w http.ResponseWriter, r *http.Request, rp *httpapi.Reply, what []byte, write func() bool) {
	auth := r.Header.Get("Authorization")
	if auth == "" || signature.Presigned(r) {
		rp.Failf(httpapi.AccessDenied, "a configuration is written by a request signed in its Authorization header, never by a presigned URL")
		return
	}
	// The signature's value, however the header spells it (found in
	// review: keyed on the header's text, a re-spelled capture was a new
	// write).
	sig := httpapi.ReplayKey(auth)
	done, e := h.seen.Replay(sig, r.Method, what, h.now())
	switch {
	case e != nil:
		rp.Fail(e)
	case done:
		answerWrite(w, r.Method)
	case write():
		answerWrite(w, r.Method)
	default:
		h.seen.Forget(sig)
	}
}

// answerWrite answers a write that was made: exactly 200 for a PUT (the
// QingStor SDK takes any other success code for an error), 204 for a
// DELETE.
func answerWrite(w http.ResponseWriter, method string) {
	if method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// put checks and stores a document, or says why not: a wrong Content-MD5,
// a member the API does not take, not JSON, not a valid configuration
// (every problem, one line each); err is the store failing.
func (h *Handler) put(r *http.Request, bucket string, api *api, body []byte) (e *httpapi.Error, err error) {
	if api.checkBody != nil {
		if e := api.checkBody(body); e != nil {
			return e, nil
		}
	}
	if api.jsonBody && !json.Valid(body) {
		return httpapi.Fail(httpapi.MalformedJSON, "the JSON you provided was not well-formed"), nil
	}
	err = h.Registry.Put(r.Context(), bucket, api.format, body)
	if ce := (*mirror.CompileError)(nil); errors.As(err, &ce) {
		return httpapi.Fail(httpapi.InvalidConfiguration, ce.Error()), nil
	}
	return nil, err
}

// internal answers a failure inside the gateway: the client is told what
// could not be done, the log why.
func (h *Handler) internal(rp *httpapi.Reply, doing, what string, err error) {
	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error("configuration request", "request", rp.ID, "doing", doing, "error", err)
	rp.Failf(httpapi.InternalError, "the configuration could not be "+what+"; try again")
}

// readBody reads a document of at most maxBody bytes: a body announced
// larger is refused before it is read.
func readBody(r *http.Request) ([]byte, bool) {
	if r.ContentLength > maxBody {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(b) > maxBody {
		return nil, false
	}
	return b, true
}

// bodySigned requires a write's signature to cover its body, through a
// signed Content-MD5 or x-bce-content-sha256: a captured request could
// otherwise carry any body for as long as its signature is good (issue
// 16). bce-sdk-go always signs Content-MD5.
func bodySigned(r *http.Request) *httpapi.Error {
	for _, name := range signature.SignedHeaders(r) {
		if (name == "content-md5" && r.Header.Get("Content-Md5") != "") ||
			(name == "x-bce-content-sha256" && r.Header.Get("X-Bce-Content-Sha256") != "") {
			return nil
		}
	}
	return httpapi.Fail(httpapi.MalformedAuthorization,
		"the Authorization header is invalid: a write must sign content-md5 or x-bce-content-sha256")
}

// bodyMatches checks the body against the Content-MD5 and
// x-bce-content-sha256 the client sent, each when it did.
func bodyMatches(r *http.Request, body []byte) *httpapi.Error {
	if want := r.Header.Get("Content-Md5"); want != "" {
		sum := md5.Sum(body)
		if subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(want)) != 1 {
			return httpapi.Fail(httpapi.BadDigest, "the Content-MD5 you specified did not match what was received")
		}
	}
	if want := r.Header.Get("X-Bce-Content-Sha256"); want != "" {
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(want))) != 1 {
			return httpapi.Fail(httpapi.BadDigest, "the x-bce-content-sha256 you specified did not match what was received")
		}
	}
	return nil
}
