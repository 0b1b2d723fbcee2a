package dirstore

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	"github.com/google/btree"
)

// The key index of a bucket (docs/SERVING.md §2, "The key index") is a
// cache of its committed objects in key order, for listings: a log file,
// index/BUCKET.log, that every process sharing the directory appends to
// after each commit's rename, and, in each process, a B-tree of the log's
// records that a listing brings up to date by reading what was appended
// since it last looked. Losing it loses nothing: the objects' own files
// are the truth, and a scan of them rebuilds it (rebuild.go).

// indexEntry is what a listing says of a key.
type indexEntry struct {
	// gone makes the entry a deletion of its key (delete.go): a log
	// record, never a listed entry.
	gone  bool
	key   string
	size  int64
	etag  string
	mod   time.Time
	class string
}

func entryLess(a, b indexEntry) bool { return a.key < b.key }

// treeDegree is the B-tree's degree: nodes of up to 63 keys, so that a
// page of a listing is a few nodes.
const treeDegree = 32

func newTree() *btree.BTreeG[indexEntry] { return btree.NewG(treeDegree, entryLess) }

func entryOf(m *dirMeta) indexEntry {
	return indexEntry{key: string(m.Key), size: m.Size, etag: m.ETag, mod: m.LastModified.UTC(), class: m.StorageClass}
}

// keyIndex is a Store's part in the key indexes: its live file
// (live.go), what it has read of the buckets' logs it listed last, and
// the rebuilds under way.
type keyIndex struct {
	// live is held, locked, while the store is open; nil when it could
	// not be made, and then listings scan (a death of this process would
	// go unseen by the others).
	live     *os.File
	liveName string

	// ctx is what rebuilds run on: the store's, not a listing's, so that
	// a client that gives up never throws a scan away. closeIndex cancels
	// it and waits for the rebuilds to stop.
	ctx      context.Context
	cancel   context.CancelFunc
	rebuilds sync.WaitGroup

	mu     sync.Mutex
	closed bool
	// buckets are the buckets read, at most maxIndexedBuckets of them
	// unless more are in use at once; lru orders them, the one used last
	// first.
	buckets map[string]*bucketIndex
	lru     list.List
	// touched names the buckets whose logs this process appended to or
	// rebuilt: Close syncs them, evicted or not.
	touched map[string]bool
	// stale names the buckets where an index write of this process failed
	// and the log could not be removed: the next listing rebuilds it.
	stale map[string]bool
}

// maxIndexedBuckets bounds the buckets whose trees and open logs a store
// keeps: a store serves any number of buckets, and each one kept holds a
// file descriptor and every key of the bucket. The bucket listed least
// recently goes first, and is read again from its log (not rebuilt) at
// its next listing: 100,000 records are read in about 0.2 s, and a
// gateway listing more than 256 buckets in turn reads each one seldom.
const maxIndexedBuckets = 256

var errClosed = errors.New("dirstore: the store is closed")

// bucketIndex is what a store has read of one bucket's log.
type bucketIndex struct {
	name string
	// lock (a channel, so that a listing stops waiting when its request
	// ends) is held by the listing that refreshes the bucket's tree or
	// starts its rebuild.
	lock chan struct{}
	// refs counts the listings and the rebuild that use b (keyIndex.mu):
	// only a bucket nobody uses is evicted.
	refs int
	elem *list.Element // b in keyIndex.lru
	// run is the rebuild under way, nil when none is; b's lock is held to
	// read or set it. While it runs, the rebuild alone reads and writes
	// the fields below: a process rebuilds a bucket once, whatever the
	// number of listings waiting. "b is held" below means either: b's
	// lock is held and run is nil, or the code is run's.
	run *rebuildRun

	tree *btree.BTreeG[indexEntry]
	// snap is a clone of tree that listings share until tree changes:
	// they page through it without the lock.
	snap *btree.BTreeG[indexEntry]
	f    *os.File    // the log read, nil when none is
	fi   os.FileInfo // f's identity, to notice a log replaced by a rebuild
	off  int64       // where f's next record starts
	// cutSince is when a record cut short at off was first seen: one
	// that stays cut for stuckRecord was never finished.
	cutSince time.Time
	// corrupt is the last log found corrupt: a rebuild never takes it
	// for one another process made meanwhile.
	corrupt os.FileInfo
}

// rebuildRun is a rebuild of a bucket's log, which the listings of the
// bucket wait for, each as long as its request lasts: tree and err are
// set when done is closed.
type rebuildRun struct {
	done chan struct{}
	tree *btree.BTreeG[indexEntry]
	err  error
}

// stuckRecord is how long a record may stay cut short before it counts
// as corrupt: an append is one write, done in far less. A log cut by a
// crash is rebuilt for the crash (live.go), and an append that failed
// removes the log, so this guards against what is left: a removal that
// failed too, or a log cut by hand. The kernel stamps a file's mtime when
// a write to it begins, so a log whose mtime is older than this ends in
// a record that will never be finished, whoever reads it first; so does
// one seen cut at the same place for this long (in case the clock
// jumped).
var stuckRecord = 10 * time.Second

func logPath(bucket string) string     { return path.Join("index", bucket+".log") }
func lockPath(bucket string) string    { return path.Join("index", bucket+".lock") }
func rebuildPath(bucket string) string { return path.Join("index", bucket+".rebuild") }

func (x *keyIndex) init() {
	x.ctx, x.cancel = context.WithCancel(context.Background())
	x.buckets, x.touched, x.stale = map[string]*bucketIndex{}, map[string]bool{}, map[string]bool{}
}

// use returns the bucket's state, made on first use, and counts one more
// user of it; unuse says one is done.
func (x *keyIndex) use(name string) (*bucketIndex, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, errClosed
	}
	b := x.buckets[name]
	if b == nil {
		b = &bucketIndex{name: name, lock: make(chan struct{}, 1)}
		b.elem = x.lru.PushFront(b)
		x.buckets[name] = b
	} else {
		x.lru.MoveToFront(b.elem)
	}
	b.refs++
	x.evict()
	return b, nil
}

func (x *keyIndex) unuse(b *bucketIndex) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b.refs--
	x.evict()
}

// evict forgets the buckets used least recently that nobody uses, past
// maxIndexedBuckets: their logs are closed and their trees dropped.
// x.mu is held.
func (x *keyIndex) evict() {
	for e := x.lru.Back(); e != nil && len(x.buckets) > maxIndexedBuckets; {
		b, prev := e.Value.(*bucketIndex), e.Prev()
		if b.refs == 0 {
			// Nobody holds b's lock or runs its rebuild: each would
			// count in refs.
			x.lru.Remove(e)
			delete(x.buckets, b.name)
			b.drop()
		}
		e = prev
	}
}

// touch notes that this process wrote to the bucket's log.
func (x *keyIndex) touch(bucket string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.touched != nil { // nil once Close took the set
		x.touched[bucket] = true
	}
}

func (x *keyIndex) isClosed() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.closed
}

func (x *keyIndex) isStale(bucket string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stale[bucket]
}

func (x *keyIndex) setStale(bucket string, stale bool) (was bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	was = x.stale[bucket]
	if stale {
		x.stale[bucket] = true
	} else {
		delete(x.stale, bucket)
	}
	return was
}

// keys returns the bucket's committed objects as a tree to page through,
// read from its key index: brought up to date, or rebuilt when it is
// missing, corrupt, being rebuilt, or may miss a commit of a process
// that died. A rebuild runs on the store's context: the listing that
// starts it and those that come while it runs wait for it, each until
// its own request ends, and one that gives up leaves it running.
func (s *Store) keys(ctx context.Context, bucket string) (*btree.BTreeG[indexEntry], error) {
	if s.idx.live == nil {
		return s.scanTree(ctx, bucket)
	}
	if err := s.recoverDead(ctx); err != nil {
		return nil, err
	}
	b, err := s.idx.use(bucket)
	if err != nil {
		return nil, err
	}
	defer s.idx.unuse(b)
	if err := b.acquire(ctx); err != nil {
		return nil, err
	}
	if s.idx.isClosed() { // Close dropped b: reading the log again would leave it open
		b.release()
		return nil, errClosed
	}
	run := b.run
	if run == nil {
		err := s.refresh(b)
		if err == nil {
			tree := b.snapshot()
			b.release()
			return tree, nil
		}
		if errors.Is(err, errCorruptLog) {
			slog.Warn("dirstore: rebuilding a corrupt key index", "bucket", bucket, "reason", err)
		}
		run = s.startRebuild(b)
	}
	b.release()
	select {
	case <-run.done:
		return run.tree, run.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startRebuild starts rebuilding b on the store's context. b's lock is
// held.
func (s *Store) startRebuild(b *bucketIndex) *rebuildRun {
	x := &s.idx
	run := &rebuildRun{done: make(chan struct{})}
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		run.err = errClosed
		close(run.done)
		return run
	}
	b.refs++
	x.rebuilds.Add(1)
	x.mu.Unlock()
	b.run = run
	go func() {
		defer x.rebuilds.Done()
		defer x.unuse(b)
		tree, err := s.rebuild(x.ctx, b)
		if err != nil && x.ctx.Err() != nil {
			err = errClosed // stopped by Close
		}
		_ = b.acquire(context.Background()) // held for a refresh at most
		b.run = nil
		b.release()
		run.tree, run.err = tree, err
		close(run.done)
	}()
	return run
}

// acquire takes b's lock, or gives up when ctx is done.
func (b *bucketIndex) acquire(ctx context.Context) error {
	select {
	case b.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *bucketIndex) release() { <-b.lock }

// snapshot is the tree as listings share it. b is held.
func (b *bucketIndex) snapshot() *btree.BTreeG[indexEntry] {
	if b.snap == nil {
		b.snap = b.tree.Clone()
	}
	return b.snap
}

// drop forgets the log read. b is held, or nobody uses it.
func (b *bucketIndex) drop() {
	if b.f != nil {
		b.f.Close()
	}
	b.f, b.fi, b.tree, b.snap, b.cutSince = nil, nil, nil, nil, time.Time{}
}

// refresh brings b up to date with the bucket's log: the records
// appended since it last looked, or the whole log when it was replaced.
// An error says the log can not answer (fs.ErrNotExist: there is none).
// b is held.
func (s *Store) refresh(b *bucketIndex) error {
	if s.idx.isStale(b.name) {
		b.drop()
		return errors.New("dirstore: an index write failed")
	}
	st, err := s.root.Stat(logPath(b.name))
	if err != nil {
		b.drop()
		return err
	}
	if b.f == nil || !os.SameFile(st, b.fi) {
		err = s.reload(b)
	} else {
		err = b.tail(st.Size(), st.ModTime())
	}
	switch {
	case err == nil:
		b.corrupt = nil
	case errors.Is(err, errCorruptLog):
		b.corrupt = st
		fallthrough
	default:
		b.drop()
	}
	return err
}

// replaced reports whether the bucket's log is another than the one last
// found corrupt (when its inode was freed and reused, it is taken for the
// same one, and rebuilt again: no harm).
func (s *Store) replaced(b *bucketIndex) bool {
	if b.corrupt == nil {
		return true
	}
	st, err := s.root.Stat(logPath(b.name))
	return err == nil && !os.SameFile(st, b.corrupt)
}

// reload reads the bucket's log whole. b is held.
func (s *Store) reload(b *bucketIndex) error {
	b.drop()
	f, err := s.root.Open(logPath(b.name))
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	var head [logHeaderLen]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:]) != logMagic {
		f.Close()
		if string(head[:]) == journalMagic {
			return errJournal
		}
		return fmt.Errorf("%w: no header", errCorruptLog)
	}
	b.f, b.fi, b.off, b.tree = f, fi, int64(logHeaderLen), newTree()
	return b.tail(fi.Size(), fi.ModTime())
}

// tail applies the records appended after b.off, up to size, of the log
// last modified at mtime. b is held.
func (b *bucketIndex) tail(size int64, mtime time.Time) error {
	if size < b.off {
		return fmt.Errorf("%w: it shrank", errCorruptLog)
	}
	if size == b.off {
		b.cutSince = time.Time{}
		return nil
	}
	n, cut, err := readRecords(io.NewSectionReader(b.f, b.off, size-b.off), func(e indexEntry) {
		applyEntry(b.tree, e)
	})
	if n > 0 {
		b.off += n
		b.snap = nil
		b.cutSince = time.Time{}
	}
	switch {
	case err != nil:
		return err
	case !cut:
		b.cutSince = time.Time{}
		return nil
	case b.cutSince.IsZero():
		b.cutSince = time.Now()
	}
	if time.Since(mtime) > stuckRecord || time.Since(b.cutSince) > stuckRecord {
		return fmt.Errorf("%w: a record never finished", errCorruptLog)
	}
	return nil
}

// afterRenameHook, when set (by tests), runs in every commit between its
// rename and its index write.
var afterRenameHook func()

// indexCommit adds a commit to its bucket's key index, after the rename
// that committed it. It never fails the commit: the index is a cache, and
// one that may have missed a commit is removed, so that the next listing
// rebuilds it.
func (s *Store) indexCommit(dir, name string, f *os.File, m *dirMeta) {
	if afterRenameHook != nil {
		afterRenameHook()
	}
	bucket := path.Base(path.Dir(dir))
	if err := s.appendCommit(bucket, dir, path.Base(name), f, m); err != nil {
		slog.Warn("dirstore: a commit is not in the key index, which will be rebuilt", "bucket", bucket, "error", err)
		s.invalidate(bucket)
	}
}

// maxReindex bounds how often an append follows a key committed again
// while it is written (appendCommit).
const maxReindex = 4

// appendCommit appends the record of a committed object, f, named name in
// the directory dir, to its bucket's log, under the shared lock that
// keeps a rebuild from replacing the log meanwhile.
//
// Two commits of a key may rename in one order and append in the other,
// which would leave the first one's metadata last in the log. So after
// its append a commit looks at what the key's name holds now, and when it
// is no longer its own file, appends what is there: the last record of a
// key is always written after its last rename.
func (s *Store) appendCommit(bucket, dir, name string, f *os.File, m *dirMeta) error {
	return s.withLog(bucket, func(lf *os.File) error {
		d, done, err := s.dir(dir)
		if err != nil {
			return err
		}
		defer done()
		mine, err := f.Stat()
		if err != nil {
			return err
		}
		return appendSettled(lf, d, name, entryOf(m), mine) // delete.go
	})
}

// withLog calls fn with the bucket's key log open for appending, under
// the shared lock that keeps a rebuild from replacing the log meanwhile.
// Without a log it does nothing: the listing that builds one scans the
// objects after this change, and finds it.
func (s *Store) withLog(bucket string, fn func(lf *os.File) error) error {
	lf, err := s.root.OpenFile(logPath(bucket), os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { lf.Close() }()
	lk, err := s.root.OpenFile(lockPath(bucket), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lk.Close() // drops the lock
	if err := lockShared(lk); err != nil {
		return err
	}
	// A rebuild may have replaced the log between the open and the lock.
	if st, err := s.root.Stat(logPath(bucket)); err != nil || !sameFile(lf, st) {
		lf.Close()
		if lf, err = s.root.OpenFile(logPath(bucket), os.O_WRONLY|os.O_APPEND, 0); errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
	}
	s.idx.touch(bucket)
	return fn(lf)
}

// readEntry reads the index entry of the object file name in d.
func readEntry(d *os.Root, name string) (indexEntry, os.FileInfo, error) {
	g, err := d.Open(name)
	if err != nil {
		return indexEntry{}, nil, err
	}
	defer g.Close()
	fi, err := g.Stat()
	if err != nil {
		return indexEntry{}, nil, err
	}
	meta, err := readDirMeta(g)
	if err != nil {
		return indexEntry{}, nil, err
	}
	return entryOf(meta), fi, nil
}

func sameFile(f *os.File, st os.FileInfo) bool {
	fi, err := f.Stat()
	return err == nil && os.SameFile(fi, st)
}

// invalidate removes a bucket's log that may miss a commit, so that every
// process rebuilds it at its next listing; when it can not, this process
// at least does.
func (s *Store) invalidate(bucket string) {
	lk, err := s.root.OpenFile(lockPath(bucket), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		s.idx.setStale(bucket, true)
		return
	}
	defer lk.Close()
	if err := lockShared(lk); err != nil {
		s.idx.setStale(bucket, true)
		return
	}
	if err := s.root.Remove(logPath(bucket)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.idx.setStale(bucket, true)
	}
}

// commitSync syncs a commit's file or directory, unless a benchmark
// turned syncs off to write its objects faster.
func (s *Store) commitSync(f *os.File) error {
	if s.noSync {
		return nil
	}
	return f.Sync()
}
