package objectapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
)

// staleDecision gives the fetch decision to revalidate a stored object
// with, or nil when it is served as it is (docs/SERVING.md §3.9): when its
// bucket has no maximum age or it is younger, when the request may not
// reach an origin (only-if-cached, a HEAD under NoHeadFetch, the loop
// marker), or when the bucket's rules no longer fetch its key (no rules,
// no rule, a redirect): nothing then could replace it.
func (h *Handler) staleDecision(r *http.Request, eng *mirror.Engine, bucket, key string, obj pull.Object) *mirror.Decision {
	if h.MaxAge == nil || eng == nil || !pull.Stale(obj.Info(), h.MaxAge(bucket), time.Now()) {
		return nil
	}
	if onlyIfCached(r.Header) || fromMirror(r.Header) || r.Method == http.MethodHead && h.NoHeadFetch {
		return nil
	}
	// Asked as a miss: what the rules would fetch the key from now.
	d, err := eng.Resolve(engineRequest(r, key))
	if err != nil || d.Mode != mirror.ModeFetch {
		return nil
	}
	return d
}

// servedStale reports whether a failed revalidation leaves the stored
// object to be served: every failure but the origin's 404 (which removed
// it) and a purge, as RFC 5861's stale-if-error would have it. A slow
// or failing origin never turns a stored object into an error.
func servedStale(err error) bool {
	var fe *pull.FetchError
	if errors.As(err, &fe) {
		return fe.Outcome != pull.OutcomeNotFound && fe.Outcome != pull.OutcomePurged
	}
	return true // the client's context ended, or a store error
}

// engineRequest is what the engine is asked about a miss of key: the
// request's query, headers, method, Host and scheme (for the conditions
// of docs/SEMANTICS.md §11), and Status 0, a miss (a revalidation asks
// what a miss would fetch). A hit is asked about with Status 200, in a
// bucket whose rules fire on hits only (hits.go).
func engineRequest(r *http.Request, key string) *mirror.Request {
	req := &mirror.Request{Key: key, RawQuery: r.URL.RawQuery, Header: r.Header, Method: r.Method, Host: r.Host, Scheme: "http"}
	if r.TLS != nil {
		req.Scheme = "https"
	}
	return req
}
