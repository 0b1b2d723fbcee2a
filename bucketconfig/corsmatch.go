package bucketconfig

import (
	"net/http"
	"strconv"
	"strings"
)

// Matching follows S3 (docs/SERVING.md §1.2): the first rule whose
// origins match the request's Origin, whose methods hold the method (or
// a preflight's Access-Control-Request-Method) and, for a preflight,
// whose allowed headers cover every header it names, decides. Origins
// match case-sensitively, as BOS documents; header names do not, as HTTP
// has it. A rule's origin "*" is answered "*", without credentials; any
// other match echoes the request's Origin with
// Access-Control-Allow-Credentials: true, as S3 answers.

// Preflight judges an OPTIONS preflight from origin asking for method
// and the (lower-cased) request headers. When a rule allows it, its
// answer's headers are set in h (Access-Control-Allow-Origin, -Methods,
// -Headers, -Max-Age, -Expose-Headers, -Credentials) and ok is true. A nil
// CORS allows nothing.
func (c *CORS) Preflight(h http.Header, origin, method string, headers []string) (ok bool) {
	if c == nil || badOrigin(origin) != "" {
		// An Origin is echoed only when it is plain text, as a rule's is.
		return false
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		pattern, ok := r.allows(origin, method)
		if !ok || !r.allowsHeaders(headers) {
			continue
		}
		r.answer(h, origin, pattern)
		h.Set("Access-Control-Allow-Methods", strings.Join(r.AllowedMethods, ", "))
		if len(headers) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
		}
		if r.MaxAgeSeconds != nil {
			h.Set("Access-Control-Max-Age", strconv.FormatInt(*r.MaxAgeSeconds, 10))
		}
		return true
	}
	return false
}

// Allow judges a request with method (a GET or HEAD) from origin: when a
// rule allows it, the headers its answer carries are set in h
// (Access-Control-Allow-Origin, -Expose-Headers, -Credentials) and ok is
// true. A nil CORS allows nothing.
func (c *CORS) Allow(h http.Header, origin, method string) (ok bool) {
	if c == nil || badOrigin(origin) != "" {
		return false
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if pattern, ok := r.allows(origin, method); ok {
			r.answer(h, origin, pattern)
			return true
		}
	}
	return false
}

// allows reports whether the rule allows method from origin, and the
// origin pattern that matched.
func (r *CORSRule) allows(origin, method string) (pattern string, ok bool) {
	if !contains(r.AllowedMethods, method) {
		return "", false
	}
	for _, p := range r.AllowedOrigins {
		if wildcard(p, origin, false) {
			return p, true
		}
	}
	return "", false
}

// allowsHeaders reports whether every header named is allowed.
func (r *CORSRule) allowsHeaders(headers []string) bool {
next:
	for _, name := range headers {
		for _, p := range r.AllowedHeaders {
			if wildcard(p, name, true) {
				continue next
			}
		}
		return false
	}
	return true
}

// answer sets the headers every allowed request is answered with.
func (r *CORSRule) answer(h http.Header, origin, pattern string) {
	if pattern == "*" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(r.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(r.ExposeHeaders, ", "))
	}
}

// wildcard matches s against a pattern with at most one "*", any run of
// characters; fold: case-insensitively. Linear in len(s).
func wildcard(pattern, s string, fold bool) bool {
	eq := func(a, b string) bool { return a == b || (fold && strings.EqualFold(a, b)) }
	before, after, star := strings.Cut(pattern, "*")
	if !star {
		return eq(pattern, s)
	}
	return len(s) >= len(before)+len(after) && eq(s[:len(before)], before) && eq(s[len(s)-len(after):], after)
}
