package signature

import (
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror/internal/sigv4"
)

// Scheme names the scheme a request is signed with.
type Scheme string

// The schemes.
const (
	Anonymous Scheme = ""         // no signature, or not one Verify takes
	SigV4     Scheme = "sigv4"    // AWS Signature Version 4
	BCE       Scheme = "bce"      // BCE auth v1
	QingStor  Scheme = "qingstor" // QingStor's
)

// SchemeOf tells the one scheme r is signed with, as Verify finds it:
// Anonymous when r carries no signature, or carries one Verify refuses
// whatever it holds (an unsupported scheme, two signatures). It verifies
// nothing. The object path routes a QingStor-signed request path-style:
// QingStor's signature covers the path, not the Host.
func SchemeOf(r *http.Request) Scheme {
	s, e := detect(r)
	if e != nil {
		return Anonymous
	}
	return [...]Scheme{schemeSigV4: SigV4, schemeBCE: BCE, schemeQS: QingStor, schemeNone: Anonymous}[s]
}

// Presigned reports whether a request Verify accepted was signed in its
// query (a presigned URL) rather than its Authorization header. A write
// takes only the header form: a presigned URL lives for days.
func Presigned(r *http.Request) bool { return r.Header.Get("Authorization") == "" }

// SignedHeaders names, lower-cased, the headers a verified request's
// signature covers, by the scheme Verify verified it with, so that a
// caller can require the ones a write depends on (a body's Content-MD5,
// an x-amz-acl): a header the signature leaves out could be replaced in a
// captured request. Call it only on a request Verify accepted.
func SignedHeaders(r *http.Request) []string {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch SchemeOf(r) {
	case SigV4:
		if auth == "" {
			return strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
		}
		for _, part := range strings.Split(strings.TrimPrefix(auth, sigv4.Algorithm+" "), ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "SignedHeaders="); ok {
				return strings.Split(v, ";")
			}
		}
	case BCE:
		if auth == "" {
			auth = q.Get("authorization")
		}
		return bceSigned(auth)
	case QingStor:
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
