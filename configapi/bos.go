package configapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/bce"
)

// The BOS API: PUT|GET|DELETE /BUCKET?mirroring, as
// github.com/baidubce/bce-sdk-go's PutBucketMirror, GetBucketMirror and
// DeleteBucketMirror send them.

// bosError is BOS's error body.
type bosError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

const bosJSON = "application/json; charset=utf-8"

func (h *Handler) bos(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("X-Bce-Request-Id", id)
	fail := func(e *apiError) {
		writeJSON(w, e.status, bosJSON, bosError{e.code, e.message, id})
	}
	if h.Credentials.empty() {
		// Nothing can be signed: every request is refused alike, before
		// its header or bucket is judged (docs/SERVING.md §4.3).
		fail(&apiError{http.StatusForbidden, "AccessDenied", "this gateway takes no configuration requests"})
		return
	}
	bucket, ok := hostBucket(r, h.Domain)
	if !ok || (r.URL.Path != "/" && r.URL.Path != "") {
		bucket = pathBucket(r)
	}
	// The signature covers the path, so it is checked before the bucket
	// name: an unsigned request learns nothing about either.
	ak, e := h.verifyBCE(r)
	if e == nil && !mirror.ValidBucket(bucket) {
		e = &apiError{http.StatusBadRequest, "InvalidBucketName", "the bucket name is not 3-63 of a-z 0-9 - starting and ending with a letter or digit"}
	}
	if e == nil && !h.Credentials.allows(ak, bucket) {
		e = &apiError{http.StatusForbidden, "AccessDenied", "the access key may not configure bucket " + bucket}
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
			fail(&apiError{http.StatusBadRequest, "EntityTooLarge", "a mirroring configuration is at most 64 KiB"})
			return
		case !digestMatches(r, body):
			fail(&apiError{http.StatusBadRequest, "BadDigest", "the Content-MD5 you specified did not match what was received"})
			return
		}
		notJSON, invalid, err := h.put(r, bucket, APIBOS, mirror.FormatBOS, body)
		switch {
		case notJSON:
			fail(&apiError{http.StatusBadRequest, "MalformedJSON", "the JSON you provided was not well-formed"})
		case invalid != "":
			fail(&apiError{http.StatusBadRequest, "InappropriateJSON", invalid})
		case err != nil:
			h.internal("storing a configuration", err, id)
			fail(&apiError{http.StatusInternalServerError, "InternalError", "the configuration could not be stored; try again"})
		default:
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
		}
	case http.MethodGet:
		api, doc, ok, err := h.Registry.Config(r.Context(), bucket)
		switch {
		case err != nil:
			h.internal("reading a configuration", err, id)
			fail(&apiError{http.StatusInternalServerError, "InternalError", "the configuration could not be read; try again"})
		case !ok || api != APIBOS:
			fail(&apiError{http.StatusNotFound, "NoSuchMirroring", "the bucket has no mirroring configuration"})
		default:
			writeBody(w, http.StatusOK, bosJSON, doc)
		}
	case http.MethodDelete:
		// Only a configuration put through this API is removed; any other
		// is "none set" here, as GET says (docs/SERVING.md §4.1).
		if _, err := h.Registry.Delete(r.Context(), bucket, APIBOS); err != nil {
			h.internal("deleting a configuration", err, id)
			fail(&apiError{http.StatusInternalServerError, "InternalError", "the configuration could not be deleted; try again"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "PUT, GET, DELETE")
		fail(&apiError{http.StatusMethodNotAllowed, "MethodNotAllowed", "mirroring takes PUT, GET and DELETE"})
	}
}

// verifyBCE checks a BCE auth v1 signature (docs/SERVING.md §4.3):
// "bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE", host among
// the signed headers, the timestamp at most 15 minutes ahead, not past
// TIMESTAMP + EXPIRE, EXPIRE at most 3600 s. It returns the access key;
// the key's scope is the caller's to check.
func (h *Handler) verifyBCE(r *http.Request) (string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &apiError{http.StatusForbidden, "AccessDenied", "the request is not signed"}
	}
	malformed := func(why string) (string, *apiError) {
		return "", &apiError{http.StatusBadRequest, "InvalidHTTPAuthHeader", "the Authorization header is invalid: " + why}
	}
	parts := strings.Split(auth, "/")
	if len(parts) != 6 || parts[0] != bce.Version {
		return malformed("want bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE")
	}
	ak, stamp, expireText, signedText, sig := parts[1], parts[2], parts[3], parts[4], parts[5]
	ts, err := time.Parse(bce.TimeFormat, stamp)
	if err != nil {
		return malformed("the timestamp is not YYYY-MM-DDThh:mm:ssZ")
	}
	expire, err := strconv.Atoi(expireText)
	if err != nil || expire <= 0 || expire > 3600 || strconv.Itoa(expire) != expireText {
		return malformed("the expiration is not 1 to 3600 seconds")
	}
	signed := strings.Split(signedText, ";")
	hasHost := false
	for _, name := range signed {
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return malformed("host must be a signed header")
	}
	secret, known := h.Credentials.secret(ak)
	if !known {
		return "", &apiError{http.StatusForbidden, "InvalidAccessKeyId", "the access key ID you provided does not exist in our records"}
	}
	now := h.now()
	if ts.After(now.Add(maxSkew)) || now.After(ts.Add(time.Duration(expire)*time.Second)) {
		return "", &apiError{http.StatusForbidden, "RequestExpired", "the request has expired: its timestamp is " + stamp}
	}
	headers := make(map[string]string, len(signed))
	for _, name := range signed {
		if name == "host" {
			headers[name] = r.Host
		} else {
			headers[name] = r.Header.Get(name)
		}
	}
	canonicalHeaders, _ := bce.CanonicalHeaders(headers)
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	prefix := strings.Join(parts[:4], "/")
	want := bce.Signature(secret, prefix, r.Method, bce.URIEncode(r.URL.Path, false), bce.CanonicalQuery(params), canonicalHeaders)
	if !equal(want, sig) {
		return "", &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "the request signature we calculated does not match the signature you provided"}
	}
	return ak, nil
}
