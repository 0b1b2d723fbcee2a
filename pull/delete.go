package pull

import (
	"context"
	"errors"
	"strings"
)

// Deleter is a Store that removes what it holds: the object path's
// DELETE and DeleteObjects, and mirror purge, purge through it
// (docs/SERVING.md §2.2). Both stores of this module are Deleters.
type Deleter interface {
	// Delete removes a key's committed object, so that Open, List and
	// HasObjects no longer see it; a key that is not stored is no error,
	// as S3's DeleteObject answers 204 for it. A reader that opened the
	// object before may read it to its end, or fail; it never reads
	// other bytes. A commit of the key that ends after Delete began may
	// stand: Delete removes what was committed before it.
	Delete(ctx context.Context, bucket, key string) error
	// DeletePrefix removes the bucket's committed objects whose keys
	// start with prefix ("" is every one), as Delete does each, and
	// returns how many it removed.
	DeletePrefix(ctx context.Context, bucket, prefix string) (int, error)
}

// ErrNoDelete is what a purge answers over a Store that is not a Deleter.
var ErrNoDelete = errors.New("pull: the store can not delete objects")

// Purge removes a key's object from the Fetcher's store, so that the next
// GET pulls it again: it forgets the origin's remembered 404 of the key,
// and a fetch of the key running meanwhile stores nothing and fails its
// clients (OutcomePurged), since its bytes may be the ones the purge is
// for (docs/SERVING.md §2.2). The store must be a Deleter.
func (f *Fetcher) Purge(ctx context.Context, bucket, key string) error {
	d, ok := f.Store.(Deleter)
	if !ok {
		return ErrNoDelete
	}
	f.forget(func(k flightKey) bool { return k.bucket == bucket && k.key == key })
	return d.Delete(ctx, bucket, key)
}

// PurgePrefix is Purge of every key of the bucket that starts with prefix,
// and returns how many objects it removed.
func (f *Fetcher) PurgePrefix(ctx context.Context, bucket, prefix string) (int, error) {
	d, ok := f.Store.(Deleter)
	if !ok {
		return 0, ErrNoDelete
	}
	f.forget(func(k flightKey) bool { return k.bucket == bucket && strings.HasPrefix(k.key, prefix) })
	return d.DeletePrefix(ctx, bucket, prefix)
}

// forget drops the remembered 404s of the keys purged, and detaches their
// running fetches: none joins one, and each ends OutcomePurged instead of
// committing. It returns once no commit of those fetches is
// under way, so that the store's delete, which follows, removes any that
// landed.
func (f *Fetcher) forget(purged func(flightKey) bool) {
	f.init()
	var running []*flight
	f.mu.Lock()
	for k := range f.negative {
		if purged(k) {
			delete(f.negative, k)
		}
	}
	for k, fl := range f.flights {
		if purged(k) {
			// A GET from now on starts a fetch of its own: a client is
			// never served bytes fetched before the purge.
			delete(f.flights, k)
			running = append(running, fl)
		}
	}
	f.mu.Unlock()
	for _, fl := range running {
		fl.commitMu.Lock()
		fl.purged = true
		fl.commitMu.Unlock()
	}
}

// OutcomePurged ends a fetch whose key was purged while it ran: its bytes
// may be the ones the purge is for, so they are not stored, and its
// clients' answers fail, as a failed mirror's do, rather than end as if
// stored (docs/SERVING.md §2.2).
const OutcomePurged Outcome = "purged"

// commit commits a flight's upload unless a purge came first; a purge
// waits for a commit under way (forget). Its error is a *FetchError.
func (f *Fetcher) commit(ctx context.Context, fl *flight, upload Upload, info ObjectInfo) error {
	fl.commitMu.Lock()
	defer fl.commitMu.Unlock()
	if fl.purged {
		return &FetchError{Outcome: OutcomePurged, Message: "the key was purged while it was fetched: nothing was stored"}
	}
	if err := upload.Commit(ctx, info); err != nil {
		return &FetchError{Outcome: OutcomeStoreErr, Message: "the store could not commit the object: " + err.Error()}
	}
	return nil
}
