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
	// virtualHost: the bucket may be named in the Host under the domain.
	virtualHost bool
	verify      func(r *http.Request, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error)
	checkBody   func(body []byte) *httpapi.Error // nil: none
	// signsBody: the signature can cover a body, and a PUT must have it
	// do so (bodySigned).
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
