package dirstore

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/tmpfile"
)

// Live files tell a listing that a process sharing the directory died,
// maybe between a commit's rename and its index write, so that the key
// indexes may miss an object (docs/SERVING.md §2, "The key index"). Each
// open store holds an exclusive flock on a file of its own in index/live,
// which the kernel drops when the process dies however it dies; Close
// removes it. A listing probes the others' files with a shared lock: one
// it gets is a dead process's.

const liveDir = "index/live"

// recoverLock serializes the processes that handle a death. Its name has
// a "_", which no bucket's has.
const recoverLock = "index/_recover.lock"

// openLive readies the store's key index, and makes and locks its live
// file. The live file is made under a temporary name and renamed into
// index/live once locked, so a probe never finds it unlocked while its
// process lives; the directory is synced, so a power cut never loses it
// (and with it the news that the logs this process appended to may have
// lost their last records).
func (s *Store) openLive() {
	s.idx.init()
	s.warnUpgrade()
	if err := s.root.MkdirAll(liveDir, 0o755); err != nil {
		slog.Warn("dirstore: no key index: index/live can not be made; listings scan", "error", err)
		return
	}
	tmp := tempName("index")
	f, err := s.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		slog.Warn("dirstore: no key index: no live file; listings scan", "error", err)
		return
	}
	name := strings.TrimPrefix(path.Base(tmp), ".tmp-")
	err = tmpfile.Lock(f)
	if err == nil {
		err = s.root.Rename(tmp, path.Join(liveDir, name))
	}
	if err == nil {
		err = s.syncDir(liveDir)
	}
	if err != nil {
		f.Close()
		_ = s.root.Remove(tmp)
		_ = s.root.Remove(path.Join(liveDir, name))
		slog.Warn("dirstore: no key index: no live file; listings scan", "error", err)
		return
	}
	s.idx.live, s.idx.liveName = f, name
}

// warnUpgrade says, when a directory that holds objects has no index/
// (the first open by a release with key indexes, or index/ was removed
// whole), what an operator must do when gateways of a release without
// them still share it: their commits append to no log, and nothing this
// process can see tells of them (docs/SERVING.md §2, "The key index").
func (s *Store) warnUpgrade() {
	if _, err := s.root.Stat("index"); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	if _, err := s.root.Stat("objects"); err != nil {
		return // a new directory, or one holding only configurations
	}
	slog.Warn("dirstore: the first key index of this directory: if gateways of a release without key indexes " +
		"still commit to it, their objects are not listed until every index/*.log is removed, once the last of them has stopped")
}

// recoverDead finds the live files of dead processes and handles each
// death: one readdir of index/live, and a probe (open, flock, close) of
// each other process's file.
func (s *Store) recoverDead(ctx context.Context) error {
	d, err := s.root.Open(liveDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // index/ was removed whole: no log is left to trust
	}
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, name := range names {
		if name == s.idx.liveName || strings.HasPrefix(name, ".") {
			continue
		}
		f, err := s.root.Open(path.Join(liveDir, name))
		if err != nil {
			continue // closed, or handled by another process
		}
		dead := abandoned(f)
		f.Close()
		if dead {
			if err := s.recoverFrom(ctx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// recoverFrom handles the death of the process whose live file is name:
// it may have died between any commit's rename and its index write, in
// any bucket, so every bucket's log is removed (each under the bucket's
// exclusive lock, so that no rebuild or append is midway), to be
// rebuilt at the bucket's next listing; then the live file is removed.
// The removals come first: a listing that no longer finds the file finds
// no log to trust either.
func (s *Store) recoverFrom(ctx context.Context, name string) error {
	lk, err := s.root.OpenFile(recoverLock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lk.Close()
	if err := lockExclusive(ctx, lk); err != nil {
		return err
	}
	if _, err := s.root.Stat(path.Join(liveDir, name)); errors.Is(err, fs.ErrNotExist) {
		return nil // another process handled it
	}
	entries, err := fs.ReadDir(s.root.FS(), "index")
	if err != nil {
		return err
	}
	for _, e := range entries {
		bucket, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || !mirror.ValidBucket(bucket) {
			continue
		}
		if err := s.removeLog(ctx, bucket); err != nil {
			return err
		}
	}
	if err := s.root.Remove(path.Join(liveDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	slog.Warn("dirstore: a process sharing the directory died; the key indexes are rebuilt at their next listing",
		"live", name)
	return nil
}

// removeLog removes a bucket's log under its exclusive lock.
func (s *Store) removeLog(ctx context.Context, bucket string) error {
	lk, err := s.root.OpenFile(lockPath(bucket), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lk.Close()
	if err := lockExclusive(ctx, lk); err != nil {
		return err
	}
	if err := s.root.Remove(logPath(bucket)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// closeIndex ends this store's part in the key indexes. Its rebuilds are
// cancelled, and waited for. The logs it appended to or rebuilt are
// synced before its live file goes: a power cut after Close must not
// lose records that no live file vouches for. When a sync fails the live
// file is left, unlocked, and the next listing of any process rebuilds.
func (s *Store) closeIndex() {
	x := &s.idx
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	x.cancel()
	x.rebuilds.Wait()
	x.mu.Lock()
	buckets, touched := x.buckets, x.touched
	x.buckets, x.touched = nil, nil
	x.lru.Init()
	x.mu.Unlock()
	for _, b := range buckets {
		_ = b.acquire(context.Background()) // a listing's refresh may hold it
		b.drop()
		b.release()
	}
	synced := true
	if !s.noSync {
		for bucket := range touched {
			if err := s.syncFile(logPath(bucket)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				synced = false
			}
		}
		if len(touched) > 0 && s.syncDir("index") != nil {
			synced = false
		}
	}
	if x.live == nil {
		return
	}
	if synced {
		_ = s.root.Remove(path.Join(liveDir, x.liveName))
	}
	x.live.Close()
	x.live = nil
}

func (s *Store) syncFile(name string) error {
	f, err := s.root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
