package configapi

import (
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The Volcengine TOS PutBucketMirrorBack and friends API (issue 22): not answered yet; every request is
// refused with NotImplemented.
var tosAPI = &api{format: mirror.FormatTOS, dialect: httpapi.Gateway, name: "TOS PutBucketMirrorBack", subresource: "mirror",
	claims: func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Authorization"), "TOS4-") },
	verify: refuseAll, jsonBody: true, what: "a mirror configuration", none: "the bucket has no mirror configuration", resource: "mirror"}

var _ = http.MethodGet
