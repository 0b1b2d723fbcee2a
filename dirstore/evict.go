package dirstore

import (
	"cmp"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The size cap (docs/SERVING.md §2.3): with Options.MaxSize set, a store
// keeps the bytes of its object files under it, removing the objects used
// least recently, as nginx's cache manager keeps a cache under max_size.
// What it tracks is in memory: each object file's size and when it was
// last used, a hit's Open or a commit, seeded when the store opens from
// the files' access and modification times. A commit over the cap wakes
// one goroutine, which evicts down to lowWater of the cap: the commit
// itself never waits for it.

// lowWater is the share of the cap an eviction brings the store down to,
// in percent: evicting a little more than needed leaves room for the next
// commits, so that a store at its cap is not woken for every one.
const lowWater = 95

// space is a Store's part in keeping under its cap. A nil *space (no cap)
// tracks nothing and costs a hit nothing.
type space struct {
	max, low int64
	// objs maps an object file's name (objects/B/HH/H) to its entry: a
	// hit only loads and stamps one.
	objs sync.Map // string -> *spaceEntry
	// mu orders the changes of objs and total: commits, removals,
	// evictions.
	mu    sync.Mutex
	total int64
	// clock orders uses: a use takes the next tick. Seeded files take
	// ticks below zero, in the order of their times.
	clock atomic.Int64
	wake  chan struct{}
	// sync asks the evictor for a round and says when it is done (tests).
	sync      chan chan struct{}
	stop      chan struct{}
	done      chan struct{}
	evictions atomic.Int64
	// seeding is closed once the files found at open are tracked:
	// evictions wait for it, or they would take the objects committed
	// since for the oldest.
	seeded chan struct{}
}

type spaceEntry struct {
	size int64 // space.mu
	used atomic.Int64
}

// startSpace starts tracking and evicting when max is positive.
func (s *Store) startSpace(max int64) {
	if max <= 0 {
		return
	}
	c := &space{max: max, low: max / 100 * lowWater, wake: make(chan struct{}, 1), sync: make(chan chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}), seeded: make(chan struct{})}
	if c.low == 0 {
		c.low = max * lowWater / 100
	}
	s.space = c
	go func() {
		defer close(c.seeded)
		s.seedSpace()
	}()
	go s.evictor()
}

// stopSpace stops the evictor and waits for it.
func (s *Store) stopSpace() {
	if s.space == nil {
		return
	}
	close(s.space.stop)
	<-s.space.done
	<-s.space.seeded
}

// seedSpace tracks the object files already in the directory, oldest use
// first: a file's use is the later of its access and modification times
// (with relatime, Linux's default, the access time moves at most once a
// day, so the order after a restart is coarse).
func (s *Store) seedSpace() {
	type found struct {
		name string
		size int64
		at   time.Time
	}
	var files []found
	buckets, _ := fs.ReadDir(s.root.FS(), "objects")
	for _, b := range buckets {
		fans, _ := fs.ReadDir(s.root.FS(), path.Join("objects", b.Name()))
		for _, fan := range fans {
			if !fan.IsDir() || !isHex(fan.Name(), 2) {
				continue
			}
			dir := path.Join("objects", b.Name(), fan.Name())
			names, _ := fs.ReadDir(s.root.FS(), dir)
			for _, n := range names {
				if s.closing.Load() {
					return
				}
				if !isHex(n.Name(), 64) || n.Name()[:2] != fan.Name() {
					continue // a temporary file, or nothing of this store's
				}
				fi, err := n.Info()
				if err != nil || !fi.Mode().IsRegular() {
					continue
				}
				files = append(files, found{path.Join(dir, n.Name()), fi.Size(), lastUse(fi)})
			}
		}
	}
	slices.SortFunc(files, func(a, b found) int { return a.at.Compare(b.at) })
	c := s.space
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range files {
		e := &spaceEntry{size: f.size}
		e.used.Store(int64(i - len(files)))
		if _, loaded := c.objs.LoadOrStore(f.name, e); !loaded {
			c.total += f.size
		}
	}
	if c.total > c.max {
		c.poke()
	}
}

// poke wakes the evictor, without waiting.
func (c *space) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// used stamps a hit of the object file name.
func (c *space) used(name string) {
	if c == nil {
		return
	}
	if e, ok := c.objs.Load(name); ok {
		e.(*spaceEntry).used.Store(c.clock.Add(1))
	}
}

// committed tracks the object file name, of size bytes, just renamed into
// place, and wakes the evictor when the store is over its cap.
func (c *space) committed(name string, size int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	e := &spaceEntry{size: size}
	e.used.Store(c.clock.Add(1))
	if old, loaded := c.objs.Swap(name, e); loaded {
		c.total -= old.(*spaceEntry).size
	}
	c.total += size
	over := c.total > c.max
	c.mu.Unlock()
	if over {
		c.poke()
	}
}

// removed stops tracking the object file name, just unlinked.
func (c *space) removed(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, loaded := c.objs.LoadAndDelete(name); loaded {
		c.total -= old.(*spaceEntry).size
	}
}

// evictor runs the evictions, one round after each wake-up.
func (s *Store) evictor() {
	c := s.space
	defer close(c.done)
	for {
		var reply chan struct{}
		select {
		case <-c.stop:
			return
		case <-c.wake:
		case reply = <-c.sync:
		}
		select {
		case <-c.seeded:
		case <-c.stop:
			return
		}
		s.evict()
		if reply != nil {
			close(reply)
		}
	}
}

// evict removes the objects used least recently until the store is under
// its low-water mark, if it is over its cap.
func (s *Store) evict() {
	c := s.space
	c.mu.Lock()
	over := c.total > c.max
	c.mu.Unlock()
	if !over {
		return
	}
	type candidate struct {
		name string
		e    *spaceEntry
		used int64
	}
	var all []candidate
	c.objs.Range(func(k, v any) bool {
		e := v.(*spaceEntry)
		all = append(all, candidate{k.(string), e, e.used.Load()})
		return true
	})
	slices.SortFunc(all, func(a, b candidate) int { return cmp.Compare(a.used, b.used) })
	for _, o := range all {
		c.mu.Lock()
		done := c.total <= c.low
		c.mu.Unlock()
		if done || s.closing.Load() {
			return
		}
		if o.e.used.Load() != o.used {
			continue // used since the round began: no longer the oldest
		}
		if cur, ok := c.objs.Load(o.name); !ok || cur != o.e {
			continue // removed or committed again meanwhile
		}
		if s.evictFile(o.name) {
			c.evictions.Add(1)
		}
	}
}

// evictFile removes the object file name, which needs its key for the key
// index's record (read from the file's trailer). A file that is gone, or
// that is no object file, is only forgotten.
func (s *Store) evictFile(name string) bool {
	dir := path.Dir(name)
	f, err := s.root.Open(name)
	if err != nil {
		s.space.removed(name)
		return false
	}
	m, err := readDirMeta(f)
	f.Close()
	if err != nil {
		// Not an object Open would serve: removed without an index
		// record, as a rebuild would skip it.
		if s.root.Remove(name) == nil {
			s.space.removed(name)
			return true
		}
		s.space.removed(name)
		return false
	}
	removed, err := s.removeObject(dir, name, string(m.Key))
	if err != nil {
		slog.Warn("dirstore: an eviction failed", "object", name, "error", err)
		s.space.removed(name)
		return false
	}
	if !removed {
		s.space.removed(name)
	}
	return removed
}

// Usage reports the bytes of the object files the store tracks under its
// cap (Options.MaxSize), and the objects evicted since it opened; both are
// zero without a cap.
func (s *Store) Usage() (bytes, evictions int64) {
	c := s.space
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.evictions.Load()
}

// settleEvictions waits until the evictor has run a round after
// everything committed before the call (tests).
func (s *Store) settleEvictions() {
	if s.space == nil {
		return
	}
	reply := make(chan struct{})
	select {
	case s.space.sync <- reply:
		<-reply
	case <-s.space.done:
	}
}
