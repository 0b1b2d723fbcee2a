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
	// Logger gets a line per configuration change (nil: slog.Default()).
	Logger *slog.Logger
	// ObserveChange, when set, is called once per configuration change
	// made through this registry: op is "put" or "delete".
	ObserveChange func(bucket, api, op string)
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*slot
}

// slot is one bucket's place in the registry.
type slot struct {
	cur     atomic.Pointer[entry]
	loading sync.Mutex // one reload at a time
}

// entry is a bucket's configuration as last read: eng is nil when none
// is set.
type entry struct {
	api    string
	doc    []byte
	eng    *mirror.Engine
	loaded time.Time
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

func (r *Registry) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *Registry) slot(bucket string) *slot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buckets == nil {
		r.buckets = map[string]*slot{}
	}
	s, ok := r.buckets[bucket]
	if !ok {
		s = &slot{}
		r.buckets[bucket] = s
	}
	return s
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
	s := r.slot(bucket)
	if e := s.cur.Load(); e != nil && r.now().Sub(e.loaded) < r.ttl() {
		return e, nil
	}
	s.loading.Lock()
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
	} else if e.eng, err = r.Compiler.Load(doc, mirror.FormatAuto); err != nil {
		// Stored by a gateway with other options (private origins allowed
		// there, say): this one can not use it.
		r.logger().Error("a stored configuration does not compile here", "bucket", bucket, "error", err)
		e.eng = nil
	}
	s.cur.Store(e)
	return e, nil
}

// Put compiles doc, stores it durably as the bucket's configuration and
// then puts it in force. The error is the *mirror.CompileError of a
// document that does not compile (nothing changes then), or the Store's.
func (r *Registry) Put(ctx context.Context, bucket, api string, doc []byte, format mirror.Format) error {
	eng, err := r.Compiler.Load(doc, format)
	if err != nil {
		return err
	}
	s := r.slot(bucket)
	s.loading.Lock()
	defer s.loading.Unlock()
	doc = bytes.Clone(doc)
	if err := r.Store.PutConfig(ctx, bucket, api, doc); err != nil {
		return err
	}
	s.cur.Store(&entry{api: api, doc: doc, eng: eng, loaded: r.now()})
	r.changed(bucket, api, "put")
	return nil
}

// Delete removes the bucket's configuration, durably, then here.
func (r *Registry) Delete(ctx context.Context, bucket, api string) error {
	s := r.slot(bucket)
	s.loading.Lock()
	defer s.loading.Unlock()
	if err := r.Store.DeleteConfig(ctx, bucket); err != nil {
		return err
	}
	s.cur.Store(&entry{loaded: r.now()})
	r.changed(bucket, api, "delete")
	return nil
}

func (r *Registry) changed(bucket, api, op string) {
	r.logger().Info("configuration", "bucket", bucket, "api", api, "op", op)
	if r.ObserveChange != nil {
		r.ObserveChange(bucket, api, op)
	}
}
