package s3store

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mirrorkit/mirror/pull"
)

// The provenance and user metadata of an object (docs/SERVING.md §2,
// §3.7) as S3 user metadata: the provenance under x-amz-meta-mirror-*
// (the names a hit sends them by), the origin's user metadata under its
// own names, x-amz-meta-NAME, so that other S3 tools see both as the
// gateway does.

// maxUserMetadata is S3's bound on an object's user metadata: names
// (without x-amz-meta-) and values, in bytes, summed. versitygw holds
// PUTs to it too (MetadataTooLarge).
const maxUserMetadata = 2 << 10

// writeProvenance adds to meta the origin's ETag and Last-Modified and the
// pulled-at time, each when known. The origin URL, which may be long,
// is fitMetadata's.
func writeProvenance(meta map[string]string, info pull.ObjectInfo) {
	if info.OriginETag != "" {
		meta[metaOriginETag] = info.OriginETag // printable ASCII (pull)
	}
	if !info.OriginLastModified.IsZero() {
		meta[metaOriginLastModified] = info.OriginLastModified.UTC().Format(http.TimeFormat)
	}
	if !info.Fetched.IsZero() {
		meta[metaPulledAt] = pull.FormatPulledAt(info.Fetched)
	}
}

// fitMetadata is the user metadata of a PUT: own (the store's keys, all of
// them), then the origin URL (x-amz-meta-mirror-origin) when it fits
// beside them in maxUserMetadata, then the object's user metadata, in
// name order, while it fits (the first that does not ends it).
// **Choice** (docs/SERVING.md §2): an object whose metadata would pass
// S3's bound is stored without what does not fit, rather than refused,
// which would leave it unstorable, fetched again on every miss.
func fitMetadata(own map[string]string, origin string, user map[string]string) map[string]string {
	out := make(map[string]string, len(own)+1+len(user))
	size := 0
	for k, v := range own {
		out[k] = v
		size += len(k) + len(v)
	}
	if origin != "" {
		v := asciiValue(origin)
		if n := len(metaOrigin) + len(v); size+n <= maxUserMetadata {
			out[metaOrigin] = v
			size += n
		}
	}
	names := make([]string, 0, len(user))
	for name := range user {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := pull.MetaValue(user[name])
		if size += len(name) + len(v); size > maxUserMetadata {
			break
		}
		// Prefixed, so that minio-go sends it as user metadata whatever
		// the name (unprefixed, "cache-control" would be sent as the
		// object's own Cache-Control).
		out["X-Amz-Meta-"+name] = v
	}
	return out
}

// asciiValue percent-encodes what is not printable ASCII in a URL: S3
// user metadata is ASCII. A fetch's origin URL is ASCII already
// (pull.ObjectInfo.Origin).
func asciiValue(u string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		if c := u[i]; c < 0x21 || c > 0x7e {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// readProvenance reads back what writeProvenance and fitMetadata wrote:
// the origin URL and date, and as user metadata every x-amz-meta name
// that does not start with mirror-, in lower case. minio-go has decoded
// the RFC 2047 encoded-words of a value that starts with them, which is
// every value pull.MetaValue encoded. An object stored before these were
// kept, or by another tool, reads back without them.
func readProvenance(info *pull.ObjectInfo, meta map[string]string) {
	info.Origin = meta[metaOrigin]
	if t, err := http.ParseTime(meta[metaOriginLastModified]); err == nil {
		info.OriginLastModified = t.UTC()
	}
	for k, v := range meta {
		name := strings.ToLower(k)
		if strings.HasPrefix(name, pull.ProvenancePrefix) {
			continue
		}
		if info.UserMeta == nil {
			info.UserMeta = map[string]string{}
		}
		info.UserMeta[name] = v
	}
}
