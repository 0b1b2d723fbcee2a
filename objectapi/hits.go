package objectapi

import (
	"net/http"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/requestlog"
)

// Rules on hits (docs/SERVING.md §1; issue 21, item 7). A rule whose "on"
// takes a 200 ("always": S3's website redirects without
// HttpErrorCodeReturnedEquals) decides for keys that are stored too. The
// engine is asked about a hit only in a bucket whose engine has such a
// rule (mirror.Engine.FiresOnHits): every other hit is served as it was,
// at no cost.

// hitRedirect answers a hit that a rule redirects: the engine is asked
// with Status 200, and a redirect decision is answered instead of the
// object. It reports false, having answered nothing, when the hit is to
// be served: no such rule in the bucket, no rule deciding (or a key or
// request the engine refuses), or a fetch or redirectFetch decision
// (there is nothing to fetch: the object is here). A request carrying
// only-if-cached or the loop marker is answered by the store alone, as it
// is on a miss.
func hitRedirect(w http.ResponseWriter, r *http.Request, eng *mirror.Engine, key string) bool {
	if eng == nil || !eng.FiresOnHits() || onlyIfCached(r.Header) || fromMirror(r.Header) {
		return false
	}
	req := engineRequest(r, key)
	req.Status = http.StatusOK
	d, err := eng.Resolve(req)
	if err != nil || d.Mode != mirror.ModeRedirect {
		return false
	}
	requestlog.FromContext(r.Context()).SetOutcome("redirect")
	w.Header().Set("Location", d.URLs[0])
	w.WriteHeader(d.RedirectCode)
	return true
}
