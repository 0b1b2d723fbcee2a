package signature

import (
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror/internal/bce"
	"github.com/mirrorkit/mirror/internal/sigv4"
)

// SignedHeaders names, lower-cased, the headers a verified request's
// signature covers, so that a caller can require the ones a write depends
// on (a body's Content-MD5, an x-amz-acl): a header the signature leaves
// out could be replaced in a captured request. Call it only on a request
// Verify accepted.
func SignedHeaders(r *http.Request) []string {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch {
	case strings.HasPrefix(auth, sigv4.Algorithm+" "):
		for _, part := range strings.Split(strings.TrimPrefix(auth, sigv4.Algorithm+" "), ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "SignedHeaders="); ok {
				return strings.Split(v, ";")
			}
		}
	case strings.HasPrefix(auth, bce.Version+"/"):
		return bceSigned(auth)
	case strings.HasPrefix(auth, "QS "):
		return qsSigned(r)
	case q.Has("X-Amz-SignedHeaders"):
		return strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	case q.Has("authorization"):
		return bceSigned(q.Get("authorization"))
	case q.Has("signature"):
		return qsSigned(r)
	}
	return nil
}

// bceSigned reads the SIGNED-HEADERS part of a BCE auth string.
func bceSigned(auth string) []string {
	parts := strings.Split(auth, "/")
	if len(parts) != 6 {
		return nil
	}
	return strings.Split(parts[4], ";")
}

// qsSigned is what QingStor's string to sign covers: Content-MD5 and
// Content-Type (empty or not), and every x-qs- header.
func qsSigned(r *http.Request) []string {
	names := []string{"content-md5", "content-type"}
	for name := range r.Header {
		if n := strings.ToLower(name); strings.HasPrefix(n, "x-qs-") {
			names = append(names, n)
		}
	}
	return names
}
