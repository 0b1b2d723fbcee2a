package configapi

import (
	"net/http"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The Tencent COS PutBucketOrigin / GetBucketOrigin / DeleteBucketOrigin API (issue 22): not answered yet; every request is
// refused with NotImplemented.
var cosAPI = &api{format: mirror.FormatCOS, dialect: httpapi.Gateway, name: "COS PutBucketOrigin", subresource: "origin",
	verify: refuseAll, what: "an origin configuration", none: "the bucket has no origin configuration", resource: "origin"}

var _ = http.MethodGet
