package configapi

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
)

// Handler answers the configuration APIs (docs/SERVING.md §4): BOS
// PUT|GET|DELETE /BUCKET?mirroring and QingStor PUT|GET|DELETE
// /BUCKET?mirror. Every request must be signed with a key of Credentials
// that may configure the bucket; without Credentials (or with none in
// them) every request is refused with 403 before anything else is judged.
type Handler struct {
	// Registry holds the configurations. Required.
	Registry *Registry
	// Credentials are the keys that may configure buckets (nil: none, and
	// every request is refused).
	Credentials *Credentials
	// Domain, when set, lets a BOS request name its bucket in the Host,
	// BUCKET.Domain, with the path "/". QingStor requests are always
	// path-style: their Host's first label is a zone, not a bucket.
	Domain string
	// Logger gets a line per request that fails inside the gateway (nil:
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock signatures are judged by (nil: time.Now).
	Now func() time.Time
}

// IsConfigRequest reports whether a request is for a configuration API:
// its query names the "mirroring" (BOS) or "mirror" (QingStor)
// sub-resource. A gateway sends those to a Handler and the rest to its
// object path.
func IsConfigRequest(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("mirroring") || q.Has("mirror")
}

// maxBody is the largest configuration document taken.
const maxBody = 64 << 10

// maxSkew is how far a signature's time may be from the gateway's.
const maxSkew = 15 * time.Minute

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ServeHTTP serves one configuration request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("mirroring") {
		h.serveConfig(w, r, bosAPI)
		return
	}
	h.serveConfig(w, r, qingstorAPI)
}

// apiError is an answer of either API: its status, the provider's code
// and a message for people.
type apiError struct {
	status        int
	code, message string
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

// digestMatches checks a Content-MD5 header against the body, when the
// client sent one.
func digestMatches(r *http.Request, body []byte) bool {
	want := r.Header.Get("Content-Md5")
	if want == "" {
		return true
	}
	sum := md5.Sum(body)
	return equal(base64.StdEncoding.EncodeToString(sum[:]), want)
}

// put stores a document through the registry and words what went wrong:
// not JSON, not a valid configuration (every problem, one line each), or
// the store failing.
func (h *Handler) put(r *http.Request, bucket, api string, format mirror.Format, body []byte) (notJSON bool, invalid string, err error) {
	if !json.Valid(body) {
		return true, "", nil
	}
	err = h.Registry.Put(r.Context(), bucket, api, body, format)
	var ce *mirror.CompileError
	if errors.As(err, &ce) {
		return false, ce.Error(), nil
	}
	return false, "", err
}

func (h *Handler) internal(doing string, err error, id string) {
	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error("configuration request", "request", id, "doing", doing, "error", err)
}

// writeJSON writes a JSON answer.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, _ := json.Marshal(v)
	writeBody(w, status, contentType, body)
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// pathBucket is the bucket of a path-style request, /BUCKET with nothing
// after it but an optional "/".
func pathBucket(r *http.Request) string {
	b := strings.TrimPrefix(r.URL.Path, "/")
	return strings.TrimSuffix(b, "/")
}

// hostBucket is the bucket of a virtual-host request under domain.
func hostBucket(r *http.Request, domain string) (string, bool) {
	if domain == "" {
		return "", false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(domain))
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
