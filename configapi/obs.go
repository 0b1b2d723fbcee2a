package configapi

import (
	"net/http"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The Huawei OBS SetBucketMirrorBackToSource and friends API (issue 22): not answered yet; every request is
// refused with NotImplemented.
var obsAPI = &api{format: mirror.FormatOBS, dialect: httpapi.Gateway, name: "OBS SetBucketMirrorBackToSource", subresource: "mirrorBackToSource",
	verify: refuseAll, jsonBody: true, what: "a mirror back-to-source configuration", none: "the bucket has no mirror back-to-source configuration", resource: "mirrorBackToSource"}

var _ = http.MethodGet
