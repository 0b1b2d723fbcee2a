package configapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The configuration APIs of Aliyun OSS, Tencent COS, AWS S3, Huawei OBS
// and Volcengine TOS (issue 22). Each is built in its own file; until it
// is, it refuses every request in the S3 dialect with NotImplemented.

var (
	ossAPI = &api{format: mirror.FormatOSS, dialect: httpapi.Gateway, name: "OSS PutBucketWebsite", subresource: "website",
		claims: func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Authorization"), "OSS") },
		verify: refuseAll, what: "a website configuration", none: "the bucket has no website configuration", resource: "website"}
	s3WebsiteAPI = &api{format: mirror.FormatS3, dialect: httpapi.Gateway, name: "S3 PutBucketWebsite", subresource: "website",
		verify: refuseAll, what: "a website configuration", none: "the bucket has no website configuration", resource: "website"}
	cosAPI = &api{format: mirror.FormatCOS, dialect: httpapi.Gateway, name: "COS PutBucketOrigin", subresource: "origin",
		verify: refuseAll, what: "an origin configuration", none: "the bucket has no origin configuration", resource: "origin"}
	obsAPI = &api{format: mirror.FormatOBS, dialect: httpapi.Gateway, name: "OBS SetBucketMirrorBackToSource", subresource: "mirrorBackToSource",
		verify: refuseAll, jsonBody: true, what: "a mirror back-to-source configuration", none: "the bucket has no mirror back-to-source configuration", resource: "mirrorBackToSource"}
	tosAPI = &api{format: mirror.FormatTOS, dialect: httpapi.Gateway, name: "TOS PutBucketMirrorBack", subresource: "mirror",
		claims: func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Authorization"), "TOS4-") },
		verify: refuseAll, jsonBody: true, what: "a mirror configuration", none: "the bucket has no mirror configuration", resource: "mirror"}
)

// refuseAll is the verifier of an API not built yet.
func refuseAll(*http.Request, func(string) (string, bool), time.Time) (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.NotImplemented, "this configuration API is not answered yet")
}
