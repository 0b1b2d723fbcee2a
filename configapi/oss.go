package configapi

import (
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The Aliyun OSS PutBucketWebsite / GetBucketWebsite / DeleteBucketWebsite API (issue 22): not answered yet; every request is
// refused with NotImplemented.
var ossAPI = &api{format: mirror.FormatOSS, dialect: httpapi.Gateway, name: "OSS PutBucketWebsite", subresource: "website",
	claims: func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Authorization"), "OSS") },
	verify: refuseAll, what: "a website configuration", none: "the bucket has no website configuration", resource: "website"}

var _ = http.MethodGet
