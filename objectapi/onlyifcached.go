package objectapi

import (
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// onlyIfCached reports whether a request asks for a stored object only:
// a Cache-Control directive only-if-cached (RFC 9111 §5.2.1.7), in any
// case, in any of the header's lines and comma-separated members. Such a
// miss is answered 504 before the engine is asked, so that `mirror warm`,
// or any client, can tell what is stored without ever reaching an origin
// (docs/SERVING.md §1).
func onlyIfCached(h http.Header) bool {
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			// A directive may carry an argument; only-if-cached takes
			// none, but one given is no reason to ignore the request.
			name, _, _ := strings.Cut(d, "=")
			if strings.EqualFold(strings.TrimSpace(name), "only-if-cached") {
				return true
			}
		}
	}
	return false
}

// notCached answers a miss that asked for a stored object only: 504, as
// RFC 9111 says, in the request's dialect; no origin is contacted, no
// fetch started or joined, and no negative cache entry consulted.
func notCached(e *httpapi.Reply) {
	e.Failf(httpapi.NotCached, "the object is not stored here, and the request asked for a stored one only (Cache-Control: only-if-cached)")
}
