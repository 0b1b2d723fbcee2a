package dirstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror/pull"
)

// The read path: Open, the objects it returns, and what makes a hit cheap
// (docs/SERVING.md §2): open handles of the fan-out directories, so that
// opening an object is one openat, and a cache of the objects' metadata,
// so that a hit reads no trailer and decodes no JSON.

// readPath is a Store's part in reading objects.
type readPath struct {
	// dirs caches open fan-out directories ("objects/B/HH"), each opened
	// through the store's os.Root, at most maxCachedDirs of them.
	dirs  sync.Map // string -> *dirHandle
	ndirs atomic.Int64
	meta  metaCache
	// decodes counts the trailers Open has decoded (for tests).
	decodes atomic.Int64
}

// close closes the cached directories.
func (r *readPath) close() {
	r.dirs.Range(func(_, d any) bool {
		d.(*dirHandle).f.Close()
		return true
	})
}

// Open returns a committed object. A file that is not a whole object file
// is absent (an error wrapping pull.ErrNotFound), as is one that holds
// another key.
//
// Its metadata comes from the cache when the file is one Open decoded
// before (metaCache): then a hit costs an fstatat, an openat and an fstat,
// or only the fstatat for an object small enough that the cache holds its
// bytes.
func (s *Store) Open(_ context.Context, bucket, key string) (pull.Object, error) {
	dir, name, err := objectPath(bucket, key)
	if err != nil {
		return nil, err
	}
	now := time.Now() // before the fstat: see cacheable
	// A small object whose bytes the cache holds is served from them: its
	// identity, from one fstatat, says the file is the one they were read
	// from (see "The metadata cache").
	id, err := s.statObject(dir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s/%s", pull.ErrNotFound, bucket, key)
	}
	if e := s.rd.meta.get(id); err == nil && e != nil && e.body != nil && e.key == key {
		s.space.used(name) // evict.go: a hit is a use
		return &memObject{Reader: bytes.NewReader(e.body), info: e.info}, nil
	}
	f, id, err := s.openObject(dir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s/%s", pull.ErrNotFound, bucket, key)
	}
	if err != nil {
		return nil, err
	}
	e := s.rd.meta.get(id)
	if e == nil {
		if e, err = s.rd.decode(f, id, now); err != nil {
			f.Close()
			return nil, fmt.Errorf("dirstore: object %s/%s: %w", bucket, key, err)
		}
	}
	if e.key != key {
		// Another key with the same SHA-256 would be news; say so. The
		// file is not this key's object: absent, replaced by its fetch.
		f.Close()
		return nil, fmt.Errorf("dirstore: object file %s holds key %q, not %q: %w", name, e.key, key, errDamaged)
	}
	o := &dirObject{f: f, info: e.info}
	o.SectionReader = *io.NewSectionReader(f, 0, e.info.Size)
	s.space.used(name) // evict.go: a hit is a use
	return o, nil
}

// decode reads and checks the trailer of f, whose identity is id, and
// caches what it holds when it may.
func (r *readPath) decode(f *os.File, id fileID, now time.Time) (*metaEntry, error) {
	r.decodes.Add(1)
	m, err := readDirMetaAt(f, id.size)
	if err != nil {
		return nil, err
	}
	e := &metaEntry{key: string(m.Key), info: m.info()}
	// Shared by every hit of the file: a value slice with room to spare
	// (encoding/json leaves some) could be appended to in place.
	for k, v := range e.info.Header {
		e.info.Header[k] = slices.Clip(v)
	}
	if cacheable(id, now) {
		if e.info.Size <= bodyCacheMax {
			// A small object's bytes are kept with its metadata: read
			// here whole, they are checked as the trailer is, against the
			// size the trailer gives.
			body := make([]byte, e.info.Size)
			if n, err := f.ReadAt(body, 0); n == len(body) && (err == nil || err == io.EOF) {
				e.body = body
			}
		}
		r.meta.put(id, e)
	}
	return e, nil
}

// readDirMeta reads an object file's trailer. A file that is not a whole
// object file (one a crash left cut short or torn: the length, magic,
// metadata and size must all agree) is an error wrapping errDamaged.
func readDirMeta(f *os.File) (*dirMeta, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readDirMetaAt(f, st.Size())
}

// readDirMetaAt is readDirMeta of a file of size bytes.
func readDirMetaAt(f io.ReaderAt, size int64) (*dirMeta, error) {
	var trailer [dirTrailerLen]byte
	if size < int64(dirTrailerLen) {
		return nil, fmt.Errorf("%w: file too short", errDamaged)
	}
	if _, err := f.ReadAt(trailer[:], size-int64(dirTrailerLen)); err != nil {
		return nil, shortRead(err)
	}
	if string(trailer[4:]) != dirMagic {
		return nil, fmt.Errorf("%w: not an object file", errDamaged)
	}
	n := int64(binary.BigEndian.Uint32(trailer[:4]))
	if n > maxDirMetaLen || n > size-int64(dirTrailerLen) {
		return nil, fmt.Errorf("%w: bad metadata length", errDamaged)
	}
	buf := make([]byte, n)
	at := size - int64(dirTrailerLen) - n
	if _, err := f.ReadAt(buf, at); err != nil {
		return nil, shortRead(err)
	}
	var meta dirMeta
	if err := json.Unmarshal(buf, &meta); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", errDamaged, err)
	}
	if meta.Size != at {
		return nil, fmt.Errorf("%w: size does not match the file", errDamaged)
	}
	return &meta, nil
}

func (m *dirMeta) info() pull.ObjectInfo {
	return pull.ObjectInfo{Size: m.Size, ETag: m.ETag, LastModified: m.LastModified, Header: m.Header, StorageClass: m.StorageClass,
		OriginETag: m.OriginETag, OriginModified: m.OriginModified, Fetched: m.Fetched,
		Origin: m.Origin, OriginLastModified: m.OriginLastModified, UserMeta: m.UserMeta}
}

// dirObject is an open object: its file, read at offsets, and its
// metadata. It is a pull.FileObject: the bytes start at the file's offset
// 0, and the file's own offset is never used here, so a server may seek it
// and send from it.
type dirObject struct {
	io.SectionReader
	f *os.File
	// info is shared with the metadata cache and every other hit of the
	// file: its Header is read, never changed.
	info pull.ObjectInfo
}

// memObject is a small object served from the bytes the cache holds.
type memObject struct {
	*bytes.Reader
	info pull.ObjectInfo
}

func (o *memObject) Info() pull.ObjectInfo { return o.info }
func (o *memObject) Close() error          { return nil }

func (o *dirObject) Info() pull.ObjectInfo          { return o.info }
func (o *dirObject) Close() error                   { return o.f.Close() }
func (o *dirObject) File() (f *os.File, base int64) { return o.f, 0 }

// dirHandle is an open fan-out directory.
type dirHandle struct {
	f  *os.File
	rc syscall.RawConn // f's, made once
}

// dirFile returns an open fan-out directory and what to call when done
// with it: nothing for a cached one.
func (r *readPath) dirFile(s *Store, name string) (*dirHandle, func(), error) {
	if d, ok := r.dirs.Load(name); ok {
		return d.(*dirHandle), func() {}, nil
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	d := &dirHandle{f: f, rc: rc}
	if r.ndirs.Load() >= maxCachedDirs {
		return d, func() { f.Close() }, nil
	}
	if prev, loaded := r.dirs.LoadOrStore(name, d); loaded {
		f.Close()
		return prev.(*dirHandle), func() {}, nil
	}
	r.ndirs.Add(1)
	return d, func() {}, nil
}

// forget drops a cached directory handle that no longer names the
// directory (it was removed, and maybe made anew): reads through it would
// find nothing forever. It is not closed, since other reads may be using
// it: the garbage collector closes it once they are done.
func (r *readPath) forget(name string, d *dirHandle) {
	if r.dirs.CompareAndDelete(name, d) {
		r.ndirs.Add(-1)
	}
}

// The metadata cache.
//
// An entry is keyed by the identity of an object file as fstat gives it:
// device, inode, size, mtime and ctime. A commit never writes a committed
// file: it renames a new file over the name, which is a new inode, so a
// replaced object misses the cache and is decoded (and checked) afresh;
// a file cut short or torn in place has another size or time, misses too,
// and fails the checks of its decode. So an entry found holds what a decode
// of the file would give, checked as a decode checks it, unless someone
// rewrote the file in place keeping its size and both of its times (the
// ctime can not be set back from user space).
//
// An inode number is reused once its file is gone. A new file on it with
// the same size and times would find the old file's entry; cacheable
// keeps entries of files whose ctime may still be shared by a later file
// out of the cache.

// metaCacheEntries and metaCacheBytes bound the cache. 65,536 objects
// are the hot set of a busy gateway, whose entries take about 300 to 500
// bytes each (about 30 MiB); the byte bound holds the cache to 64 MiB
// when entries carry the 1 KiB keys, 8 KiB of kept headers, 2 KiB of
// user metadata and long origin URLs a hostile origin may give every
// object (cost counts them all). A full shard drops an entry at random
// (Go's map iteration starts at a random place): no list to keep in
// order on every hit, and an entry dropped costs one decode.
const (
	metaCacheEntries = 64 << 10
	metaCacheBytes   = 64 << 20
	metaShards       = 64
	// metaEntryOverhead is what an entry costs beside its strings: the
	// entry, the map's slot, the Header map and its slices.
	metaEntryOverhead = 256
)

// fileID is a file's identity and version, as fstat gives them. known is
// false where the platform gives no inode (the cache is then not used).
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds since the epoch
	known        bool
}

// metaEntry is what a decoded trailer holds, and a small object's bytes.
type metaEntry struct {
	key  string
	info pull.ObjectInfo
	body []byte // the object's bytes, when at most bodyCacheMax of them
}

// bodyCacheMax is the largest object whose bytes the cache keeps: a hit
// of one is an fstatat and a copy from memory, where it would be an
// openat, an fstat, a pread and a close (issue 18). 16 KiB keeps a full
// cache of such objects within its byte bound, and far from a size whose
// copy would cost more than its system calls.
const bodyCacheMax = 16 << 10

func (e *metaEntry) cost() int {
	n := metaEntryOverhead + len(e.key) + len(e.body) + len(e.info.ETag) + len(e.info.StorageClass) + len(e.info.OriginETag) + len(e.info.Origin)
	for k, v := range e.info.Header {
		n += len(k)
		for _, s := range v {
			n += len(s)
		}
	}
	for k, v := range e.info.UserMeta {
		n += len(k) + len(v) + 16 // and the map's slot
	}
	return n
}

// metaCache maps file identities to their decoded metadata, in shards
// that each lock on their own.
type metaCache struct {
	shards [metaShards]metaShard
}

type metaShard struct {
	mu    sync.RWMutex
	m     map[fileID]*metaEntry
	bytes int
}

func (c *metaCache) shard(id fileID) *metaShard {
	h := (id.ino ^ id.dev<<32) * 0x9e3779b97f4a7c15
	return &c.shards[h>>(64-6)] // the top 6 bits: 64 shards
}

// get returns the entry of a file, or nil.
func (c *metaCache) get(id fileID) *metaEntry {
	if !id.known {
		return nil
	}
	sh := c.shard(id)
	sh.mu.RLock()
	e := sh.m[id]
	sh.mu.RUnlock()
	return e
}

// put caches the entry of a file, dropping others to make room.
func (c *metaCache) put(id fileID, e *metaEntry) {
	if !id.known {
		return
	}
	cost := e.cost()
	const maxEntries, maxBytes = metaCacheEntries / metaShards, metaCacheBytes / metaShards
	if cost > maxBytes {
		return
	}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = make(map[fileID]*metaEntry)
	}
	if old, ok := sh.m[id]; ok {
		sh.bytes -= old.cost()
		delete(sh.m, id)
	}
	for len(sh.m) >= maxEntries || sh.bytes+cost > maxBytes {
		for k, old := range sh.m {
			sh.bytes -= old.cost()
			delete(sh.m, k)
			break
		}
	}
	sh.m[id] = e
	sh.bytes += cost
}

// len is how many entries the cache holds (for tests).
func (c *metaCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// Timestamps with no sub-second part come from a filesystem that keeps
// whole seconds (or two); others are at most a clock tick (1 to 10 ms)
// coarse.
var (
	fineTimeMargin   = 20 * time.Millisecond
	coarseTimeMargin = 2 * time.Second
)

// cacheable reports whether the metadata of file id, read through a
// descriptor opened after now, may be cached. A file made later could
// take the inode back once this file is gone and all its descriptors
// closed, and, if its size is the same, it has the same identity only if
// its ctime is the same: so an entry is made only once the clock has
// moved past this file's ctime by more than the timestamps' grain (as Git
// treats an index entry as racy until its file is older than the index).
// Until then (the first milliseconds after a commit, or two seconds on a
// filesystem of whole-second times) every Open decodes.
func cacheable(id fileID, now time.Time) bool {
	margin := fineTimeMargin
	if id.ctime%1e9 == 0 && id.mtime%1e9 == 0 {
		margin = coarseTimeMargin
	}
	return id.known && now.UnixNano()-id.ctime > int64(margin)
}
