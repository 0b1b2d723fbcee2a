package configapi

import (
	"net/http"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// api is what one provider's configuration API says differently in the
// flow of Handler.serve: the format its documents are in, its dialect
// (request-id header, error bodies, the code of each failure), where it
// names the bucket, how its requests are signed, any check of its own on
// a body, and its words for messages.
type api struct {
	format  mirror.Format
	dialect *httpapi.Dialect
	// name is the API as the docs and messages name it ("BOS
	// PutBucketMirroring").
	name string
	// subresource is the query parameter that selects the API.
	subresource string
	// claims, for an API that shares its sub-resource with another
	// (?website: OSS and S3; ?mirror: QingStor and TOS), says whether a
	// request is signed in its scheme; nil for the API that takes the
	// rest.
	claims func(r *http.Request) bool
	// docType is the Content-Type of the documents a GET answers with
	// ("": the dialect's, which its error bodies have too).
	docType string
	// jsonBody: documents are JSON (the body is checked to be JSON before
	// it is compiled, for the API's MalformedJSON); else XML.
	jsonBody bool
	// digests checks the body against digests the request carries beyond
	// Content-MD5 and x-bce-content-sha256 (x-amz-content-sha256, …);
	// nil: none.
	digests func(r *http.Request, body []byte) *httpapi.Error
	// virtualHost: the bucket may be named in the Host under the domain.
	virtualHost bool
	verify      func(r *http.Request, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error)
	checkBody   func(body []byte) *httpapi.Error // nil: none
	// signsBody: the signature can cover a body, and a PUT must have it
	// do so (bodySigned). An API whose SDK may leave the body uncovered
	// holds such a PUT to the replay rule alone (docs/SERVING.md §4.3),
	// and its digests refuse what it must refuse.
	signsBody bool
	// what names a configuration, none says there is none, resource is
	// the query parameter, in messages.
	what, none, resource string
}

// router finds the bucket of a request to api.
func (a *api) router(h *Handler) httpapi.Router {
	if a.virtualHost {
		return httpapi.Router{Domain: h.Domain}
	}
	return httpapi.Router{}
}

// apis are the configuration APIs, in the order requests are matched to
// them: by sub-resource, and among APIs sharing one, the first whose
// claims holds, else the one without claims.
var apis = []*api{bosAPI, ossAPI, s3WebsiteAPI, cosAPI, obsAPI, tosAPI, qingstorAPI}

// apiOf is the configuration API a request is for, nil when none.
func apiOf(r *http.Request) *api {
	q := r.URL.Query()
	var fallback *api
	for _, a := range apis {
		if !q.Has(a.subresource) {
			continue
		}
		switch {
		case a.claims == nil:
			if fallback == nil {
				fallback = a
			}
		case a.claims(r):
			return a
		}
	}
	return fallback
}
