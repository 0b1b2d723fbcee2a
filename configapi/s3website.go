package configapi

import (
	"net/http"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The AWS S3 PutBucketWebsite / GetBucketWebsite / DeleteBucketWebsite API (issue 22): not answered yet; every request is
// refused with NotImplemented.
var s3WebsiteAPI = &api{format: mirror.FormatS3, dialect: httpapi.Gateway, name: "S3 PutBucketWebsite", subresource: "website",
	verify: refuseAll, what: "a website configuration", none: "the bucket has no website configuration", resource: "website"}

var _ = http.MethodGet
