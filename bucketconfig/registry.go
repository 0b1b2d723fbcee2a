package bucketconfig

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

// readFormat is the format a stored document is read in: the one it was
// stored with, so that a document is the same rules on every gateway and
// after every restart as on the gateway that took the PUT (a QingStor body
// that also holds a BOS member is QingStor's one rule, never the BOS
// rules; docs/SERVING.md §4.4). Only a document stored without a format,
// by a tool that writes none, is auto-detected.
func readFormat(f mirror.Format) mirror.Format {
	switch f {
	case mirror.FormatBOS, mirror.FormatQingStor, mirror.FormatNative:
		return f
	}
	return mirror.FormatAuto
}

// The defaults of a Registry's zero fields; mirror serve's flags use them.
const (
	// DefaultTTL is how long a configuration is trusted before it is read
	// again from the Store.
	DefaultTTL = 5 * time.Second
	// DefaultMaxUnconfigured is how many buckets without a configuration
	// a Registry remembers.
	DefaultMaxUnconfigured = 4096
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
	Store Store
	// Compiler compiles them (AllowPrivateOrigins for tests on loopback).
	Compiler mirror.Compiler
	// TTL is how long a bucket's configuration is trusted before it is
	// read from the Store again (default DefaultTTL).
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
	ObserveChange func(bucket string, format mirror.Format, op string)
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
	// policy is the stored read policy ("": none stored); unreadable is
	// set when it could not be read, and the bucket is then private.
	policy     Policy
	unreadable bool
	// uncompilable: a document is stored that does not compile here; the
	// bucket is then private, whatever its rules meant.
	uncompilable bool
	// inForce is the read policy the entry puts in force, worked out once
	// when it is published, not on every request.
	inForce Policy
	format  mirror.Format
	doc     []byte
	eng     *mirror.Engine
	loaded  time.Time

	// cors is the bucket's CORS rules, nil when it has none
	// (corsregistry.go).
	cors *CORS
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
	return DefaultTTL
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

// publish puts e in force for the slot's bucket, with its read policy:
// the stored one, else DefaultPolicy of its rules, and Private when the
// stored one could not be read or the rules do not compile here.
func (s *slot) publish(e *entry) {
	switch {
	case e.unreadable, e.uncompilable:
		e.inForce = Private
	case e.policy != "":
		e.inForce = e.policy
	default:
		e.inForce = DefaultPolicy(e.eng)
	}
	s.cur.Store(e)
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
// configuration: what the object path decides a miss by.
func (r *Registry) Engine(ctx context.Context, bucket string) (*mirror.Engine, error) {
	e, err := r.current(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return e.eng, nil
}

// Config returns a bucket's document as it was put and the format it was
// put in; ok is false when none is set.
func (r *Registry) Config(ctx context.Context, bucket string) (format mirror.Format, doc []byte, ok bool, err error) {
	e, err := r.current(ctx, bucket)
	if err != nil || e.eng == nil {
		return "", nil, false, err
	}
	return e.format, e.doc, true, nil
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
	policy, unreadable := r.readPolicy(ctx, bucket)
	cors := r.readCORS(ctx, bucket, old)
	format, doc, err := r.Store.GetConfig(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e := &entry{policy: policy, unreadable: unreadable, cors: cors, loaded: r.now()}
		s.publish(e)
		return e, nil
	case err != nil:
		if old != nil {
			// The store is unreachable: keep deciding with what we had.
			r.logger().Warn("reading a configuration", "bucket", bucket, "error", err)
			return old, nil
		}
		return nil, err
	}
	e := &entry{policy: policy, unreadable: unreadable, cors: cors, format: format, doc: doc, loaded: r.now()}
	if old != nil && old.format == format && bytes.Equal(old.doc, doc) {
		e.eng = old.eng // unchanged: no need to compile again
	} else if e.eng, err = r.Compiler.Load(doc, readFormat(format)); err != nil {
		// Stored by a gateway with other options (private origins allowed
		// there, say): this one can not use it.
		r.logger().Error("a stored configuration does not compile here; the bucket is private", "bucket", bucket, "format", format, "error", err)
		e.eng, e.uncompilable = nil, true
	}
	if e.policy == "" && !e.unreadable && DefaultPolicy(e.eng) == Private {
		// Stored by a gateway before the private default was sticky:
		// make it so, for the objects fetched under it.
		if err := r.Store.PutPolicy(ctx, bucket, Private); err == nil {
			e.policy = Private
		}
	}
	s.publish(e)
	return e, nil
}

// Put compiles doc in format, stores it durably as the bucket's
// configuration and then puts it in force. The error is the
// *mirror.CompileError of a document that does not compile (nothing
// changes then), or the Store's. A document put with mirror.FormatAuto is
// stored with the format it was detected as, so that every gateway reads
// it back as the same rules.
func (r *Registry) Put(ctx context.Context, bucket string, format mirror.Format, doc []byte) error {
	eng, err := r.Compiler.Load(doc, format)
	if err != nil {
		return err
	}
	format = eng.Format()
	s := r.lock(bucket)
	defer s.loading.Unlock()
	e := &entry{format: format, doc: bytes.Clone(doc), eng: eng, loaded: r.now()}
	e.policy, e.unreadable = r.keptPolicy(ctx, bucket, s.cur.Load())
	e.cors = r.readCORS(ctx, bucket, s.cur.Load())
	if e.policy == "" && !e.unreadable && DefaultPolicy(eng) == Private {
		// Sticky: the objects these rules fetch stay private when the
		// rules change or go (docs/SERVING.md §1.1).
		if err := r.Store.PutPolicy(ctx, bucket, Private); err != nil {
			return err
		}
		e.policy = Private
	}
	if err := r.Store.PutConfig(ctx, bucket, format, e.doc); err != nil {
		return err
	}
	s.publish(e)
	r.changed(bucket, format, "put")
	return nil
}

// Delete removes the bucket's configuration, durably, then here, when it
// was put in format, or whatever its format when format is ""
// (docs/SERVING.md §4.4, §4.6: the configuration APIs pass ""). removed
// reports whether one was removed.
//
// The format is read from the Store under the bucket's lock, so this is
// exact between the requests of one gateway; a PUT another gateway makes
// between that read and the removal can still be removed, as the Store
// offers no conditional delete.
func (r *Registry) Delete(ctx context.Context, bucket string, format mirror.Format) (removed bool, err error) {
	s := r.lock(bucket)
	defer s.loading.Unlock()
	stored, _, err := r.Store.GetConfig(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.publish(r.unconfiguredEntry(ctx, bucket, s.cur.Load()))
		return false, nil
	case err != nil:
		return false, err
	case format != "" && stored != format:
		return false, nil
	}
	if err := r.Store.DeleteConfig(ctx, bucket); err != nil {
		return false, err
	}
	s.publish(r.unconfiguredEntry(ctx, bucket, s.cur.Load()))
	r.changed(bucket, stored, "delete")
	return true, nil
}

// readPolicy reads a bucket's stored read policy: "" when none is stored,
// unreadable when the store could not say (the bucket is then private).
func (r *Registry) readPolicy(ctx context.Context, bucket string) (p Policy, unreadable bool) {
	p, err := r.Store.GetPolicy(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", false
	case err != nil:
		r.logger().Warn("reading a read policy; the bucket is private until it reads", "bucket", bucket, "error", err)
		return "", true
	}
	if _, err := ParsePolicy(string(p)); err != nil {
		r.logger().Warn("a stored read policy is not one this gateway knows; the bucket is private", "bucket", bucket, "policy", p)
		return "", true
	}
	return p, false
}

// keptPolicy is the policy an entry replacing old keeps: a configuration
// change never changes the policy record.
func (r *Registry) keptPolicy(ctx context.Context, bucket string, old *entry) (Policy, bool) {
	if old != nil && !old.unreadable {
		return old.policy, false
	}
	return r.readPolicy(ctx, bucket)
}

// unconfiguredEntry is a bucket's entry once its configuration is gone.
func (r *Registry) unconfiguredEntry(ctx context.Context, bucket string, old *entry) *entry {
	e := &entry{loaded: r.now(), cors: r.readCORS(ctx, bucket, old)}
	e.policy, e.unreadable = r.keptPolicy(ctx, bucket, old)
	return e
}

// Bucket returns what the object path needs of a bucket, from one reading:
// its compiled rules (nil when it has no configuration) and the read
// policy in force: the stored one, else DefaultPolicy of the rules, and
// Private when the stored one could not be read.
func (r *Registry) Bucket(ctx context.Context, bucket string) (*mirror.Engine, Policy, error) {
	e, err := r.current(ctx, bucket)
	if err != nil {
		return nil, Private, err
	}
	return e.eng, e.inForce, nil
}

// StoredPolicy returns the read policy stored for a bucket ("" when none).
func (r *Registry) StoredPolicy(ctx context.Context, bucket string) (Policy, error) {
	e, err := r.current(ctx, bucket)
	if err != nil {
		return "", err
	}
	return e.policy, nil
}

// SetPolicy stores a bucket's read policy durably, then puts it in force;
// the bucket's configuration is untouched.
func (r *Registry) SetPolicy(ctx context.Context, bucket string, p Policy) error {
	if _, err := ParsePolicy(string(p)); err != nil {
		return err
	}
	s := r.lock(bucket)
	defer s.loading.Unlock()
	if err := r.Store.PutPolicy(ctx, bucket, p); err != nil {
		return err
	}
	if old := s.cur.Load(); old != nil {
		e := *old
		e.policy, e.unreadable = p, false
		s.publish(&e)
	} else {
		// Never read here: an entry already stale, so that the next
		// request reads the configuration beside the new policy.
		s.publish(&entry{policy: p})
	}
	r.changed(bucket, "", "policy "+string(p))
	return nil
}

func (r *Registry) changed(bucket string, format mirror.Format, op string) {
	r.logger().Info("configuration", "bucket", bucket, "format", format, "op", op)
	if r.ObserveChange != nil {
		r.ObserveChange(bucket, format, op)
	}
}
