package configapi

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mirrorkit/mirror"
)

// ConfigStore keeps the buckets' configurations durably: a PutConfig that
// returned nil survives a restart and is seen by every gateway sharing the
// store. pull.DirStore and s3store.Store implement it.
type ConfigStore interface {
	// GetConfig returns a bucket's document and the API that set it
	// ("bos", "qingstor" or "native"), or an error wrapping
	// fs.ErrNotExist when none is set.
	GetConfig(ctx context.Context, bucket string) (api string, doc []byte, err error)
	// PutConfig replaces a bucket's configuration, all or nothing.
	PutConfig(ctx context.Context, bucket, api string, doc []byte) error
	// DeleteConfig removes it; removing none is not an error.
	DeleteConfig(ctx context.Context, bucket string) error
}

// The APIs a configuration arrives through.
const (
	APIBOS      = "bos"
	APIQingStor = "qingstor"
	APINative   = "native" // mirror serve -bucket with a native document
)

// formatOf is the format a stored document is read in: the one of the API
// that stored it, so that a document is the same rules on every gateway
// and after every restart as on the gateway that took the PUT (a QingStor
// body that also holds a BOS member is QingStor's one rule, never the BOS
// rules; docs/SERVING.md §4.4). Only a document stored without an API, by
// a tool that writes no API metadata, is auto-detected.
func formatOf(api string) mirror.Format {
	switch api {
	case APIBOS:
		return mirror.FormatBOS
	case APIQingStor:
		return mirror.FormatQingStor
	case APINative:
		return mirror.FormatNative
	}
	return mirror.FormatAuto
}

// DefaultMaxUnconfigured is how many buckets without a configuration a
// Registry remembers by default.
const DefaultMaxUnconfigured = 4096

// Registry keeps each bucket's compiled rules. A configuration takes effect
// whole: the engine of a bucket is swapped with an atomic.Pointer, so a
// request is decided wholly by the old rules or wholly by the new ones,
// and fetches already running finish with the decision they started with.
//
// What another gateway sharing the Store changed is in force here within
// TTL: an entry older than that is read again from the Store when next
// asked for.
type Registry struct {
	// Store keeps the configurations. Required.
	Store ConfigStore
	// Compiler compiles them (AllowPrivateOrigins for tests on loopback).
	Compiler mirror.Compiler
	// TTL is how long a bucket's configuration is trusted before it is
	// read from the Store again (default 5 s).
	TTL time.Duration
	// MaxUnconfigured bounds the buckets without a configuration that are
	// remembered (default DefaultMaxUnconfigured): any client can ask for
	// any valid bucket name, and each one remembered costs memory and a
	// Store read per TTL. When more are remembered, the idle ones are
	// forgotten (and read again when next asked for); a bucket with a
	// configuration is never forgotten.
	MaxUnconfigured int
	// Logger gets a line per configuration change (nil: slog.Default()).
	Logger *slog.Logger
	// ObserveChange, when set, is called once per configuration change
	// made through this registry: op is "put" or "delete" (a DELETE that
	// removed nothing is no change).
	ObserveChange func(bucket, api, op string)
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*slot
	// sweepAt is the number of slots at which the next new one first
	// forgets idle unconfigured buckets.
	sweepAt int
}

// slot is one bucket's place in the registry.
type slot struct {
	cur     atomic.Pointer[entry]
	loading sync.Mutex // one reload at a time
	// dropped is set, under loading, when the slot was forgotten: whoever
	// locks it then takes the bucket's new slot instead.
	dropped bool
}

// entry is a bucket's configuration as last read: eng is nil when none
// is set.
type entry struct {
	api    string
	doc    []byte
	eng    *mirror.Engine
	loaded time.Time
}

// unconfigured reports whether an entry holds no configuration (nil: not
// read yet, or the read failed).
func (e *entry) unconfigured() bool {
	return e == nil || (e.eng == nil && e.doc == nil)
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Registry) ttl() time.Duration {
	if r.TTL > 0 {
		return r.TTL
	}
	return 5 * time.Second
}

func (r *Registry) maxUnconfigured() int {
	if r.MaxUnconfigured > 0 {
		return r.MaxUnconfigured
	}
	return DefaultMaxUnconfigured
}

func (r *Registry) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// slot returns the bucket's slot, making it when it has none. Before the
// registry grows past the slots its last sweep kept plus MaxUnconfigured,
// it forgets the idle slots of unconfigured buckets, so that asking for
// endless bucket names costs bounded memory (amortized: one sweep per
// MaxUnconfigured new slots).
func (r *Registry) slot(bucket string) *slot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buckets == nil {
		r.buckets = map[string]*slot{}
	}
	s, ok := r.buckets[bucket]
	if ok {
		return s
	}
	if len(r.buckets) >= max(r.sweepAt, r.maxUnconfigured()) {
		r.sweep()
		r.sweepAt = len(r.buckets) + r.maxUnconfigured()
	}
	s = &slot{}
	r.buckets[bucket] = s
	return s
}

// sweep forgets the slots of buckets without a configuration that nobody
// is loading or changing now. r.mu is held. A slot is marked dropped under
// its own lock, so a caller that took it from the map just before sees
// that once it holds the lock, and takes the new slot: one Store read at a
// time per bucket still holds, and no change lands in a forgotten slot.
func (r *Registry) sweep() {
	for b, s := range r.buckets {
		if !s.cur.Load().unconfigured() || !s.loading.TryLock() {
			continue
		}
		if s.cur.Load().unconfigured() {
			s.dropped = true
			delete(r.buckets, b)
		}
		s.loading.Unlock()
	}
}

// lock returns the bucket's slot, locked for loading or changing it.
func (r *Registry) lock(bucket string) *slot {
	for {
		s := r.slot(bucket)
		s.loading.Lock()
		if !s.dropped {
			return s
		}
		s.loading.Unlock()
	}
}

// slots is the number of buckets the registry remembers.
func (r *Registry) slots() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buckets)
}

// Engine returns a bucket's compiled rules, or nil when it has no
// configuration: the Rules of a pull.Handler.
func (r *Registry) Engine(ctx context.Context, bucket string) (*mirror.Engine, error) {
	e, err := r.current(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return e.eng, nil
}

// Config returns a bucket's document as it was put and the API that put
// it; ok is false when none is set.
func (r *Registry) Config(ctx context.Context, bucket string) (api string, doc []byte, ok bool, err error) {
	e, err := r.current(ctx, bucket)
	if err != nil || e.eng == nil {
		return "", nil, false, err
	}
	return e.api, e.doc, true, nil
}

// current returns the bucket's entry, read again from the Store when it
// is older than the TTL.
func (r *Registry) current(ctx context.Context, bucket string) (*entry, error) {
	if e := r.slot(bucket).cur.Load(); e != nil && r.now().Sub(e.loaded) < r.ttl() {
		return e, nil
	}
	s := r.lock(bucket)
	defer s.loading.Unlock()
	old := s.cur.Load()
	if old != nil && r.now().Sub(old.loaded) < r.ttl() {
		return old, nil // another caller reloaded it meanwhile
	}
	api, doc, err := r.Store.GetConfig(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e := &entry{loaded: r.now()}
		s.cur.Store(e)
		return e, nil
	case err != nil:
		if old != nil {
			// The store is unreachable: keep deciding with what we had.
			r.logger().Warn("reading a configuration", "bucket", bucket, "error", err)
			return old, nil
		}
		return nil, err
	}
	e := &entry{api: api, doc: doc, loaded: r.now()}
	if old != nil && old.api == api && bytes.Equal(old.doc, doc) {
		e.eng = old.eng // unchanged: no need to compile again
	} else if e.eng, err = r.Compiler.Load(doc, formatOf(api)); err != nil {
		// Stored by a gateway with other options (private origins allowed
		// there, say): this one can not use it.
		r.logger().Error("a stored configuration does not compile here", "bucket", bucket, "api", api, "error", err)
		e.eng = nil
	}
	s.cur.Store(e)
	return e, nil
}

// Put compiles doc, stores it durably as the bucket's configuration and
// then puts it in force. The error is the *mirror.CompileError of a
// document that does not compile (nothing changes then), or the Store's.
// A document put through one of the APIs is compiled in that API's
// format (FormatBOS for APIBOS, …), whatever format says: that is the
// format every gateway reads the stored document back in, so the rules in
// force here are the rules in force everywhere.
func (r *Registry) Put(ctx context.Context, bucket, api string, doc []byte, format mirror.Format) error {
	if f := formatOf(api); f != mirror.FormatAuto {
		format = f
	}
	eng, err := r.Compiler.Load(doc, format)
	if err != nil {
		return err
	}
	s := r.lock(bucket)
	defer s.loading.Unlock()
	doc = bytes.Clone(doc)
	if err := r.Store.PutConfig(ctx, bucket, api, doc); err != nil {
		return err
	}
	s.cur.Store(&entry{api: api, doc: doc, eng: eng, loaded: r.now()})
	r.changed(bucket, api, "put")
	return nil
}

// Delete removes the bucket's configuration, durably, then here, when it
// was stored through api (docs/SERVING.md §4.4): a DELETE through one API
// leaves alone what the other API, or -bucket, stored, as a GET through it
// answers "none set" for it. removed reports whether one was removed.
//
// The API is read from the Store under the bucket's lock, so this is exact
// between the requests of one gateway; a PUT another gateway makes between
// that read and the removal can still be removed, as the Store offers no
// conditional delete.
func (r *Registry) Delete(ctx context.Context, bucket, api string) (removed bool, err error) {
	s := r.lock(bucket)
	defer s.loading.Unlock()
	stored, _, err := r.Store.GetConfig(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.cur.Store(&entry{loaded: r.now()})
		return false, nil
	case err != nil:
		return false, err
	case stored != api:
		return false, nil
	}
	if err := r.Store.DeleteConfig(ctx, bucket); err != nil {
		return false, err
	}
	s.cur.Store(&entry{loaded: r.now()})
	r.changed(bucket, api, "delete")
	return true, nil
}

func (r *Registry) changed(bucket, api, op string) {
	r.logger().Info("configuration", "bucket", bucket, "api", api, "op", op)
	if r.ObserveChange != nil {
		r.ObserveChange(bucket, api, op)
	}
}
