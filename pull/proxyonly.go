package pull

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/tmpfile"
)

// Proxy-only fetches (docs/SERVING.md §3.10): a rule with fetch.store
// false (Decision.Policy.Store) has its objects served without being
// stored. The flight is a fetch's in every other way: one origin request
// for every client that asks while it runs, the body streamed to them all
// from a spool, its last byte held until the body is whole and verified.
// Only the spool is a temporary file of the Fetcher's own (SpoolDir), the
// store's Create is never called, and the "commit" commits nothing: so
// nothing of the object, whole or half-written, is ever in the store,
// and the next request after the flight asks the origin again.

// OutcomeProxied ends a proxy-only fetch whose body was served whole:
// nothing was stored.
const OutcomeProxied Outcome = "proxied"

// proxyOnly reports whether a decision's rule serves its objects without
// storing them.
func proxyOnly(d *mirror.Decision) bool { return d.Policy != nil && !d.Policy.Store }

// create starts what a flight writes the origin's body to: the store's
// upload, or, for a proxy-only rule, a spool that nothing commits.
func (f *Fetcher) create(ctx context.Context, fl *flight, d *mirror.Decision) (Upload, error) {
	if !proxyOnly(d) {
		return f.Store.Create(ctx, fl.key.bucket, fl.key.key)
	}
	tmp, err := tmpfile.Create(f.SpoolDir, spoolPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("no spool for a proxy-only fetch: %w", err)
	}
	fl.mu.Lock()
	fl.proxied = true
	fl.mu.Unlock()
	return &proxyUpload{file: tmp}, nil
}

// proxyUpload is the spool of a proxy-only flight: a FileUpload, so that
// spoolFor reads it back and clients may be sent its bytes with
// sendfile(2), as a directory store's upload is, whose Commit keeps
// nothing. Abort (the flight's release, once no client reads it) removes
// it; a sweep removes one a killed gateway left behind (tmpfile).
type proxyUpload struct {
	file *os.File
	once sync.Once
}

func (u *proxyUpload) Write(p []byte) (int, error)              { return u.file.Write(p) }
func (u *proxyUpload) ReadAt(p []byte, off int64) (int, error)  { return u.file.ReadAt(p, off) }
func (u *proxyUpload) File() *os.File                           { return u.file }
func (u *proxyUpload) Commit(context.Context, ObjectInfo) error { return nil }

// Abort closes and removes the spool; it may be called more than once (a
// failed flight aborts at once, and its release aborts again).
func (u *proxyUpload) Abort() {
	u.once.Do(func() {
		u.file.Close()
		os.Remove(u.file.Name())
	})
}

// committed is the outcome of a flight that ended without an error.
func (fl *flight) committed() Outcome {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.proxied {
		return OutcomeProxied
	}
	return OutcomeStored
}

// Proxied reports whether the fetch's rule serves the object without
// storing it (fetch.store false): once Wait has returned nil, read it
// with Object, never from the Store, which does not hold it.
func (d *Download) Proxied() bool {
	fl := d.fl
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.proxied
}
