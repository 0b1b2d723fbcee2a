package pull

import (
	"encoding/base64"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/mirrorkit/mirror"
)

// What a fetch stores beside the kept headers (docs/SERVING.md §3.7): the
// Last-Modified the rule chose, the origin's user metadata when the rule
// keeps it, and the object's provenance.

// MetaPrefixes are the response-header prefixes of the user metadata an
// origin may send (S3, OSS, COS, BOS, OBS, TOS, QingStor), in the order
// that decides between two that give one name.
var MetaPrefixes = []string{"x-amz-meta-", "x-oss-meta-", "x-cos-meta-", "x-bce-meta-", "x-obs-meta-", "x-tos-meta-", "x-qs-meta-"}

// MaxUserMetaBytes bounds an object's user metadata, names and values
// (UTF-8 bytes) summed, as S3 bounds it (2 KiB).
const MaxUserMetaBytes = 2 << 10

// ProvenancePrefix starts the names of the provenance (and of every other
// name the gateway and its stores keep for themselves): an origin's user
// metadata by such a name is never kept, so that no origin can forge a
// provenance.
const ProvenancePrefix = "mirror-"

// The names of the provenance as user metadata (x-amz-meta-NAME), on a
// hit or a miss and in an S3 store.
const (
	MetaOrigin             = "mirror-origin"
	MetaOriginETag         = "mirror-origin-etag"
	MetaOriginLastModified = "mirror-origin-last-modified"
	MetaPulledAt           = "mirror-pulled-at"
)

// describe completes what a fetch stores from its origin's answer: the
// Last-Modified the rule chose (fetch.lastModified; "" and "origin": the
// origin's when it sent a valid one, else when the fetch began; "fetched":
// when the fetch began), the origin's own date in either case, the
// origin URL that answered (answered: FetchResult.Origin, the decision's
// URL of that origin), and the user metadata when the rule keeps it
// (fetch.saveMeta).
func describe(info *ObjectInfo, d *mirror.Decision, answered string, h http.Header, began time.Time) {
	info.LastModified, info.OriginModified = lastModified(h, began)
	if info.OriginModified {
		info.OriginLastModified = info.LastModified
		if d.Policy != nil && d.Policy.LastModified == "fetched" {
			info.LastModified, info.OriginModified = began.UTC().Truncate(time.Second), false
		}
	}
	info.Origin = originURL(d, answered)
	if d.Policy != nil && d.Policy.SaveMeta {
		info.UserMeta = userMeta(h)
	}
}

// OriginDate is the origin's Last-Modified as the object recorded it:
// OriginLastModified, or, for an object stored before that was recorded,
// LastModified when it was the origin's; zero when the origin gave none.
func (i *ObjectInfo) OriginDate() time.Time {
	if !i.OriginLastModified.IsZero() {
		return i.OriginLastModified
	}
	if i.OriginModified {
		return i.LastModified
	}
	return time.Time{}
}

// originURL is the provenance's origin: the URL of the decision's origin
// that answered, built from its parts (scheme, authority, path: no query,
// no userinfo; a bos:// or s3:// origin in that form, never the signed
// https request). The answering origin is found by its URL, which ask
// records before each attempt (FetchResult.Origin); the URL a redirect
// led to is not the provenance (**Choice**, docs/SERVING.md §3.7). When
// no origin of the decision has that URL, the URL itself is cut.
func originURL(d *mirror.Decision, answered string) string {
	for i := range d.Origins {
		if o := &d.Origins[i]; o.String() == answered {
			return asciiURL(o.Scheme + "://" + o.Authority() + o.Path)
		}
	}
	return asciiURL(bareURL(answered))
}

// bareURL cuts a URL's query, fragment and userinfo.
func bareURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	return scheme + "://" + authority + path
}

// asciiURL percent-encodes every byte of u that is not printable ASCII
// (escapes already there are kept): S3 user metadata is ASCII, and the
// URL names the same resource.
func asciiURL(u string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(u); i++ {
		if u[i] < 0x21 || u[i] > 0x7e {
			n++
		}
	}
	if n == 0 {
		return u
	}
	b := make([]byte, 0, len(u)+2*n)
	for i := 0; i < len(u); i++ {
		if c := u[i]; c < 0x21 || c > 0x7e {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// userMeta picks an origin's user metadata: headers whose names start
// with one of MetaPrefixes, named by the rest in lower case. A name is
// kept when it is a token (as HTTP, and so S3, names go) not starting
// with ProvenancePrefix; a value (the header's first) when it is a valid
// field value in UTF-8, not empty. Two prefixes giving one name: the one
// first in MetaPrefixes. Then, in name order, names and values are kept
// while their bytes add up to at most MaxUserMetaBytes; the first that
// would pass it is dropped, and every name after it. Nil when none is
// kept.
func userMeta(h http.Header) map[string]string {
	type found struct {
		rank  int
		value string
	}
	var all map[string]found
	for k, vs := range h {
		if len(k) < len("x-qs-meta-")+1 || k[0] != 'X' && k[0] != 'x' {
			continue
		}
		lk := strings.ToLower(k)
		for rank, p := range MetaPrefixes {
			name, ok := strings.CutPrefix(lk, p)
			if !ok {
				continue
			}
			if len(vs) > 0 && validMetaName(name) && validMetaValue(vs[0]) {
				if f, seen := all[name]; !seen || rank < f.rank {
					if all == nil {
						all = map[string]found{}
					}
					all[name] = found{rank, vs[0]}
				}
			}
			break
		}
	}
	if len(all) == 0 {
		return nil
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make(map[string]string, len(names))
	size := 0
	for _, name := range names {
		v := all[name].value
		if size += len(name) + len(v); size > MaxUserMetaBytes {
			break
		}
		out[name] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// validMetaName reports whether a user metadata name (lower case, its
// prefix cut) may be kept.
func validMetaName(name string) bool {
	return name != "" && httpguts.ValidHeaderFieldName(name) && !strings.HasPrefix(name, ProvenancePrefix)
}

// validMetaValue reports whether a user metadata value may be kept.
func validMetaValue(v string) bool {
	return v != "" && httpguts.ValidHeaderFieldValue(v) && utf8.ValidString(v)
}

// MetaValue is a user metadata value as an HTTP header or S3 user
// metadata carries it: as it is when it is printable ASCII, else in RFC
// 2047 encoded-words (=?UTF-8?q?…?=), as S3 sends a value that is not
// ASCII. A tab is encoded too (a signed PUT of one to versitygw fails
// its signature), and so is an ASCII value that would read as
// encoded-words, so that ParseMetaValue (or minio-go, which decodes a
// value starting with "=?") gives every value back exactly.
func MetaValue(v string) string {
	e := mime.QEncoding.Encode("UTF-8", v)
	if e != v || !strings.Contains(v, "\t") && ParseMetaValue(v) == v {
		return e
	}
	// Printable ASCII and tabs: base64 words of 45 bytes (60
	// characters, inside RFC 2047's 75).
	var b strings.Builder
	for len(v) > 0 {
		n := min(len(v), 45)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?UTF-8?b?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(v[:n])))
		b.WriteString("?=")
		v = v[n:]
	}
	return b.String()
}

// ParseMetaValue undoes MetaValue: RFC 2047 encoded-words (UTF-8,
// ISO-8859-1 or US-ASCII) are decoded; a value that holds none, or that
// does not decode, is read as it is.
func ParseMetaValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// Provenance is what an object says of where it came from, as user
// metadata (names without x-amz-meta-, values ASCII): mirror-origin (the
// origin URL), mirror-origin-etag (its ETag as sent),
// mirror-origin-last-modified (its Last-Modified, in HTTP's date form),
// mirror-pulled-at (Fetched, RFC 3339 in UTC to the nanosecond), each only
// when known. A hit and a miss send them as x-amz-meta-NAME headers, and
// an S3 store keeps them under the same names, with the same values.
func (i *ObjectInfo) Provenance() [][2]string {
	out := make([][2]string, 0, 4)
	if i.Origin != "" {
		out = append(out, [2]string{MetaOrigin, asciiURL(i.Origin)})
	}
	if i.OriginETag != "" {
		out = append(out, [2]string{MetaOriginETag, i.OriginETag})
	}
	if t := i.OriginDate(); !t.IsZero() {
		out = append(out, [2]string{MetaOriginLastModified, t.UTC().Format(http.TimeFormat)})
	}
	if !i.Fetched.IsZero() {
		out = append(out, [2]string{MetaPulledAt, FormatPulledAt(i.Fetched)})
	}
	return out
}

// FormatPulledAt is the form of mirror-pulled-at: RFC 3339 in UTC, to the
// nanosecond (a revalidation tells a fetch time from another by it).
func FormatPulledAt(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
