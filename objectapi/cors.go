package objectapi

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// CORS on the object path (docs/SERVING.md §1.2): a browser asks an
// OPTIONS preflight before a cross-origin request it may not send
// unasked, and reads a cross-origin answer only when it carries
// Access-Control-Allow-Origin. Both are judged by the bucket's CORS rules
// in the Registry alone.

// preflightVary is what a preflight's answer depends on.
const preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

// maxPreflightHeaders bounds the headers one preflight may ask for: each
// is matched against every allowed header of a rule, and a browser asks
// for a handful.
const maxPreflightHeaders = 64

// preflight answers an OPTIONS of the bucket or of any key in it: 200
// with the headers of the first rule that allows its Origin,
// Access-Control-Request-Method and Access-Control-Request-Headers, else
// 403 AccessForbidden in the client's dialect. A browser sends no
// credentials with a preflight, so none is asked for, of a private bucket
// too; and the answer is the rules' alone, never the store's or an
// origin's: it says nothing of whether an object, or the bucket, exists,
// and one refusal stands for no rules and rules that do not allow it.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, bucket string) {
	w.Header().Set("Vary", preflightVary)
	origin, method := r.Header.Values("Origin"), r.Header.Values("Access-Control-Request-Method")
	if len(origin) != 1 || len(method) != 1 {
		e.Failf(httpapi.InvalidArgument, "a CORS preflight carries one Origin and one Access-Control-Request-Method header")
		return
	}
	var rules *bucketconfig.CORS
	if h.Registry != nil {
		var err error
		if rules, err = h.Registry.CORS(r.Context(), bucket); err != nil {
			h.internal(e, "reading the bucket's CORS rules", err)
			return
		}
	}
	headers, ok := requestedHeaders(r.Header)
	if !ok || !rules.Preflight(w.Header(), origin[0], method[0], headers) {
		e.Failf(httpapi.CORSForbidden, "CORSResponse: this CORS request is not allowed: no CORS rule of the bucket allows its origin, method and headers")
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// requestedHeaders reads Access-Control-Request-Headers: the header names
// listed, lower-cased. ok is false when one is not a header name, or they
// are more than maxPreflightHeaders.
func requestedHeaders(h http.Header) (names []string, ok bool) {
	for _, v := range h.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.Trim(name, " \t"))
			if name == "" {
				continue
			}
			if !headerName(name) || len(names) == maxPreflightHeaders {
				return nil, false
			}
			names = append(names, name)
		}
	}
	return names, true
}

// headerName reports whether s is a header name without "*" (a "*" in a
// request would otherwise be read as a rule's wildcard when echoed).
func headerName(s string) bool {
	return httpguts.ValidHeaderFieldName(s) && !strings.Contains(s, "*")
}

// corsHeaders sets what every answer to a GET or HEAD of a bucket with
// CORS rules carries, an error's too: Vary: Origin, since the answer
// depends on it (a cache must not hand one origin's answer to another);
// and, when a rule allows the request's Origin and method,
// Access-Control-Allow-Origin (and -Expose-Headers, -Credentials), so
// that the page may read it. An error is readable too: it tells a page
// only what the same request tells any client that is not a browser.
func (h *Handler) corsHeaders(w http.ResponseWriter, r *http.Request, bucket string) {
	rules, err := h.Registry.CORS(r.Context(), bucket)
	if err != nil || rules == nil {
		return // the Bucket read just before succeeded: a race with the TTL at most
	}
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Values("Origin"); len(origin) == 1 {
		rules.Allow(w.Header(), origin[0], r.Method)
	}
}
