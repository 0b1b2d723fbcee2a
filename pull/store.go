package pull

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
)

// ErrNotFound is what a Store answers for an object it does not hold.
var ErrNotFound = errors.New("pull: object not found")

// Store holds mirrored objects. A commit is all or nothing: a reader sees
// the whole new object or none, and two writers committing one key at
// once leave one whole object. Any key a mirror.Engine accepts must be
// storable, and no key may reach anything outside the store.
type Store interface {
	// Open returns a committed object, or an error wrapping ErrNotFound.
	Open(ctx context.Context, bucket, key string) (Object, error)
	// Create starts a new object; nothing of it is visible until Commit.
	Create(ctx context.Context, bucket, key string) (Upload, error)
	// HasObjects reports whether the bucket holds any object: a gateway
	// tells "no such bucket" from "no such key" by it.
	HasObjects(ctx context.Context, bucket string) (bool, error)
}

// Object is a committed object, read from its start or at any offset.
type Object interface {
	io.ReadSeekCloser
	Info() ObjectInfo
}

// Upload is an object being written. An Upload that also implements
// io.ReaderAt lets a Fetcher read back what it wrote, so that the store's
// own temporary file is the spool clients read from; it must then stay
// readable after Commit, until Abort.
type Upload interface {
	io.Writer
	// Commit makes the object visible, whole, with info (its Size and
	// ETag describe what was written; a zero LastModified is set by the
	// store to the commit's time).
	Commit(ctx context.Context, info ObjectInfo) error
	// Abort drops what was written; after Commit it only releases what
	// the upload holds. Every Upload ends with Abort.
	Abort()
}

// FileUpload is an Upload whose bytes lie in a file as they are written,
// from its offset 0, and stay there until Abort: a Fetcher spools to that
// file, and clients of a running fetch may be sent its bytes with
// sendfile(2) (Download.OpenSpool). The file is the Upload's: nothing else
// writes to it, moves its offset, or closes it.
type FileUpload interface {
	Upload
	io.ReaderAt
	File() *os.File
}

// ObjectInfo is what is stored with an object.
type ObjectInfo struct {
	// Size is the object's length in bytes.
	Size int64
	// ETag is the hex MD5 of the object's bytes, without quotes.
	ETag string
	// LastModified is the origin's Last-Modified, or when its fetch began
	// when the origin sent none or the rule says so (fetch.lastModified
	// "fetched"; meta.go): known before the body, so that a miss and
	// every hit say the same. A store sets a zero one to the commit's
	// time.
	LastModified time.Time
	// Header holds the origin's response headers that are kept (see
	// KeptHeaders), canonical names, one value each.
	Header http.Header
	// StorageClass is the decision's storage class, "" when unset.
	StorageClass string
	// OriginETag is the ETag the origin sent, as sent (quotes and all),
	// when it is printable ASCII of at most 256 bytes, else "": with
	// LastModified (when OriginModified) it is what a revalidation asks
	// the origin about (docs/SERVING.md §3.9).
	OriginETag string
	// OriginModified reports whether LastModified is the origin's own
	// Last-Modified, rather than when the fetch began.
	OriginModified bool
	// Fetched is when the object's bytes were last known to be the
	// origin's: when its fetch began, or its last revalidation. Zero for
	// an object stored before it was recorded. It is the provenance's
	// pulled-at (meta.go).
	Fetched time.Time

	// The provenance and user metadata of docs/SERVING.md §3.7 (meta.go),
	// set by a fetch; nothing an origin sends afterwards changes them.

	// Origin is the URL of the rule's origin that answered the fetch,
	// without its query and userinfo (bos://… and s3://… origins in
	// that form, without a signature), in printable ASCII; "" for an
	// object stored before it was recorded. Informational: a
	// revalidation asks the current rule's origins, never this one.
	Origin string
	// OriginLastModified is the origin's Last-Modified, when it sent a
	// valid one not in the future, whatever the rule made LastModified;
	// zero otherwise (or for an object stored before it was recorded:
	// see OriginDate).
	OriginLastModified time.Time
	// UserMeta is the origin's user metadata (x-amz-meta-*,
	// x-oss-meta-*, …), kept when the rule says so (fetch.saveMeta):
	// lower-case name suffix (without the prefix) to value, the values
	// UTF-8. Nil when none was kept. Shared by every reader of the
	// object: read it, never change it.
	UserMeta map[string]string
}

// KeptHeaders are the origin response headers stored with an object and
// sent with it, each only when valid (a field value in UTF-8): the six
// that BOS keeps. No other
// origin header reaches the store or a client (never Set-Cookie).
var KeptHeaders = []string{"Content-Type", "Content-Encoding", "Content-Disposition", "Cache-Control",
	"Expires", "Content-Language"}

// maxKeptHeaderBytes bounds the kept headers of one object.
const maxKeptHeaderBytes = 8 << 10

// keptHeaders picks the headers an origin response leaves to its object:
// the first value of each kept name, when it is a valid field value (and,
// for Content-Type, a valid media type), while they fit in 8 KiB.
func keptHeaders(h http.Header) http.Header {
	out := http.Header{}
	size := 0
	for _, name := range KeptHeaders {
		v := h.Get(name)
		if name == "Content-Encoding" {
			v = StripAWSChunked(v)
		}
		if v == "" || !httpguts.ValidHeaderFieldValue(v) || !utf8.ValidString(v) {
			continue
		}
		if name == "Content-Type" {
			if _, _, err := mime.ParseMediaType(v); err != nil {
				continue
			}
		}
		if size+len(name)+len(v) > maxKeptHeaderBytes {
			continue
		}
		size += len(name) + len(v)
		out[name] = []string{v}
	}
	return out
}

// ContentType is the object's Content-Type, or application/octet-stream:
// never one sniffed from the bytes, so that a miss and a hit agree.
func (i *ObjectInfo) ContentType() string {
	if ct := i.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// StripAWSChunked drops the aws-chunked token from a Content-Encoding.
// It names the framing of a streaming-signed upload (S3's
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD), not a coding of the stored bytes,
// yet S3-compatible servers keep it with an object, and an origin that is
// one may send it back: a kept Content-Encoding never holds it, on the miss
// or on the hit, whatever the store.
func StripAWSChunked(v string) string {
	var kept []string
	found := false
	for _, tok := range strings.Split(v, ",") {
		t := strings.TrimSpace(tok)
		if strings.EqualFold(t, "aws-chunked") {
			found = true
		} else if t != "" {
			kept = append(kept, t)
		}
	}
	if !found {
		return v // kept verbatim, as stored
	}
	return strings.Join(kept, ", ")
}
