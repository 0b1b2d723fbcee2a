package configapi

import (
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/bce"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The BOS API: PUT|GET|DELETE /BUCKET?mirroring, as
// github.com/baidubce/bce-sdk-go's PutBucketMirror, GetBucketMirror and
// DeleteBucketMirror send them, signed with BCE auth v1.
var bosAPI = &api{
	format: mirror.FormatBOS, dialect: httpapi.BOS, virtualHost: true, verify: bce.Verify, signsBody: true,
	name: "BOS PutBucketMirroring", subresource: "mirroring", jsonBody: true,
	what: "a mirroring configuration", none: "the bucket has no mirroring configuration", resource: "mirroring",
}
