package objectapi

import (
	"net/http"

	"github.com/mirrorkit/mirror/pull"
)

// metaHeaders sets what an object's answer, a hit's or a miss's, says of
// its user metadata and provenance (docs/SERVING.md §3.7): each name the
// rule kept as x-amz-meta-NAME, its value in RFC 2047 encoded-words when
// it is not ASCII (as S3 sends one), and the provenance as
// x-amz-meta-mirror-origin, -origin-etag, -origin-last-modified and
// -pulled-at, the values an S3 store keeps under those names, so that
// `aws s3api head-object` says the same through the gateway and on the
// S3 store behind it. The user metadata goes first: a provenance name is
// never one of its (pull keeps none starting with mirror-), and would
// win if it were.
func metaHeaders(h http.Header, info *pull.ObjectInfo) {
	for name, v := range info.UserMeta {
		h.Set("X-Amz-Meta-"+name, pull.MetaValue(v))
	}
	for _, kv := range info.Provenance() {
		h[provenanceHeader(kv[0])] = []string{kv[1]}
	}
}

// provenanceHeader is the canonical header name of a provenance name,
// made once: a hit sends four of them.
func provenanceHeader(name string) string {
	if k, ok := provenanceHeaders[name]; ok {
		return k
	}
	return http.CanonicalHeaderKey("X-Amz-Meta-" + name)
}

var provenanceHeaders = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{pull.MetaOrigin, pull.MetaOriginETag, pull.MetaOriginLastModified, pull.MetaPulledAt} {
		m[name] = http.CanonicalHeaderKey("X-Amz-Meta-" + name)
	}
	return m
}()
