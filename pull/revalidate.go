package pull

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/mirrorkit/mirror"
)

// Revalidate asks the origin of a fetch decision whether the stored object
// stale describes is still its object, by a conditional GET with the
// validators stored with it (docs/SERVING.md §3.9): a 304 keeps the
// object, its age starting again (Download.Stored: read it from the
// store); a 200 replaces it, as a fetch of a miss stores one (streamed
// while it is stored); a 404 removes it, when the store is a Deleter,
// and is the FetchError a fetch's 404 is. Like Fetch, it joins a running
// flight of the key, and one that it starts is joined by every request
// for the key until it ends.
func (f *Fetcher) Revalidate(ctx context.Context, bucket, key string, d *mirror.Decision, stale ObjectInfo) (*Download, error) {
	return f.begin(ctx, bucket, key, d, &stale)
}

// Stale reports whether an object older than maxAge is to be revalidated
// now: maxAge 0 never, an object with no recorded fetch time always.
func Stale(info ObjectInfo, maxAge time.Duration, now time.Time) bool {
	return maxAge > 0 && (info.Fetched.IsZero() || now.Sub(info.Fetched) >= maxAge)
}

// conditional gives the validators a revalidation sends: the origin's
// ETag (If-None-Match) and, when the origin gave it, its Last-Modified
// (If-Modified-Since: ObjectInfo.OriginDate, the origin's date whether
// the rule made it the object's Last-Modified or not), which an origin
// ignores when it has the other, as RFC 9110 §13.1.3 says. With neither,
// it is nil: a revalidation is then a plain GET, and a 304 to it is no
// answer (found in review).
func conditional(stale *ObjectInfo) http.Header {
	if stale == nil {
		return nil
	}
	date := stale.OriginDate()
	if stale.OriginETag == "" && date.IsZero() {
		return nil
	}
	h := http.Header{}
	if stale.OriginETag != "" {
		h.Set("If-None-Match", stale.OriginETag)
	}
	if !date.IsZero() {
		h.Set("If-Modified-Since", date.UTC().Format(http.TimeFormat))
	}
	return h
}

// maxOriginETag bounds a stored origin ETag.
const maxOriginETag = 256

// originETag is the origin's ETag when it can be stored and sent back: one
// value, printable ASCII, at most 256 bytes; else "".
func originETag(h http.Header) string {
	v := h.Get("Etag")
	if v == "" || len(v) > maxOriginETag {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return ""
		}
	}
	return v
}

// refresh answers an origin's 304: the stored object is the origin's
// still, so it is committed again with the same bytes and metadata and a
// new fetch time, which its age counts from (a store has no way to
// change an object's metadata alone). The flight's clients read it from
// the store.
func (f *Fetcher) refresh(ctx context.Context, fl *flight, began time.Time) error {
	obj, err := f.Store.Open(ctx, fl.key.bucket, fl.key.key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			// Purged meanwhile: nothing to keep, and nothing to read
			// (found in review: answered 500 when marked stored).
			return &FetchError{Outcome: OutcomePurged, Message: "the object was purged while it was revalidated"}
		}
		return &FetchError{Outcome: OutcomeStoreErr, Message: "the store could not read the object to keep: " + err.Error()}
	}
	defer func() {
		fl.mu.Lock()
		fl.stored = true
		fl.mu.Unlock()
	}()
	defer obj.Close()
	info := obj.Info()
	if !info.Fetched.Equal(fl.stale.Fetched) || info.ETag != fl.stale.ETag {
		return nil // replaced or revalidated meanwhile
	}
	upload, err := f.Store.Create(ctx, fl.key.bucket, fl.key.key)
	if err != nil {
		return &FetchError{Outcome: OutcomeStoreErr, Message: "the store refused the object: " + err.Error()}
	}
	defer upload.Abort()
	if _, err := io.Copy(upload, obj); err != nil {
		return &FetchError{Outcome: OutcomeStoreErr, Message: "copying the kept object: " + err.Error()}
	}
	info.Fetched = began.UTC()
	return f.commit(ctx, fl, upload, info)
}

// gone follows a failed revalidation: an origin's 404 removes the stored
// object (docs/SERVING.md §3.9), unless a purge took the key meanwhile;
// any other failure keeps it, and it is served stale.
func (f *Fetcher) gone(ctx context.Context, fl *flight, err error) {
	var fe *FetchError
	d, ok := f.Store.(Deleter)
	if !ok || !errors.As(err, &fe) || fe.Outcome != OutcomeNotFound {
		return
	}
	fl.commitMu.Lock()
	defer fl.commitMu.Unlock()
	if !fl.purged {
		if err := d.Delete(ctx, fl.key.bucket, fl.key.key); err != nil {
			f.logger().Warn("revalidation: the object the origin no longer has could not be removed",
				"bucket", fl.key.bucket, "key", fl.key.key, "error", err.Error())
		}
	}
}
