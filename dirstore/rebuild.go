package dirstore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/google/btree"
	"github.com/mirrorkit/mirror/internal/tmpfile"
)

// A rebuild makes a bucket's key index again from the objects' own files
// (docs/SERVING.md §2, "The key index"), without stopping the commits of
// any process for the length of its scan:
//
//  1. Under the bucket's lock, exclusive for a moment, it puts an empty
//     journal (journalMagic) in the log's place: from then on every
//     commit appends to it.
//  2. It scans objects/BUCKET, holding no lock: every object renamed
//     before step 1 is found, and every one renamed after appends.
//  3. Under the exclusive lock again, it reads the journal, whose
//     records, later than the scan's, replace what the scan found of
//     their keys; writes the complete log to a temporary file; and
//     renames it over the journal.
//
// When the journal is not in place at step 3 (a commit that failed to
// index removed it, or a process found a dead one), or ends in a record
// cut short, the rebuild starts over. One process rebuilds a bucket at a
// time (the bucket's rebuild lock); the others wait for it and read its
// result. In a process, a rebuild runs on the store's context, not on a
// listing's (index.go, keys): the listings of the bucket wait for it as
// long as their requests last, and Close stops it.

// rebuildAttempts bounds the times a rebuild starts over before a
// listing is answered by a scan alone.
const rebuildAttempts = 3

// scanWorkers is how many fan-out directories a scan reads at once.
const scanWorkers = 8

// rebuild makes b's log anew, or reads the one another process made while
// this one waited for the rebuild lock, and returns its tree. b is held:
// this is its run.
func (s *Store) rebuild(ctx context.Context, b *bucketIndex) (*btree.BTreeG[indexEntry], error) {
	r, err := s.root.OpenFile(rebuildPath(b.name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		slog.Warn("dirstore: the key index can not be kept; a scan answers", "bucket", b.name, "error", err)
		return s.scanTree(ctx, b.name)
	}
	defer r.Close() // drops the lock
	if err := lockExclusive(ctx, r); err != nil {
		return nil, err
	}
	// A log this process knows to be stale, or found corrupt, is rebuilt
	// even when it reads whole now.
	adopt := !s.idx.setStale(b.name, false)
	for range rebuildAttempts {
		if adopt && s.replaced(b) && s.refresh(b) == nil {
			return b.snapshot(), nil // rebuilt by the process this one waited for
		}
		adopt = true
		err := s.build(ctx, b)
		if err == nil {
			b.corrupt = nil
			return b.snapshot(), nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		slog.Warn("dirstore: a key index rebuild failed", "bucket", b.name, "error", err)
	}
	return s.scanTree(ctx, b.name)
}

var errLogReplaced = errors.New("dirstore: the key index journal was removed during the rebuild")

// rebuildScanHook, when set (by tests), runs in every rebuild before its
// scan, with the context the rebuild runs on.
var rebuildScanHook func(ctx context.Context)

// build is one rebuild, steps 1 to 3. b and the rebuild lock are held.
func (s *Store) build(ctx context.Context, b *bucketIndex) error {
	b.drop()
	lk, err := s.root.OpenFile(lockPath(b.name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lk.Close()

	if err := lockExclusive(ctx, lk); err != nil {
		return err
	}
	s.sweepIndex()
	j, jfi, err := s.writeLog(b.name, journalMagic, nil)
	if uerr := unlock(lk); err == nil {
		err = uerr
	}
	if err != nil {
		return err
	}
	defer j.Close()
	s.idx.touch(b.name)

	if rebuildScanHook != nil {
		rebuildScanHook(ctx)
	}
	tree, err := s.scanTree(ctx, b.name)
	if err != nil {
		return err
	}

	if err := lockExclusive(ctx, lk); err != nil {
		return err
	}
	defer unlock(lk)
	st, err := s.root.Stat(logPath(b.name))
	if err != nil || !os.SameFile(st, jfi) {
		return errLogReplaced
	}
	_, cut, err := readRecords(io.NewSectionReader(j, int64(logHeaderLen), st.Size()-int64(logHeaderLen)), func(e indexEntry) {
		applyEntry(tree, e)
	})
	if err != nil {
		return err
	}
	if cut {
		// No append is under way while the lock is held: this one failed.
		return fmt.Errorf("%w: a journal record cut short", errCorruptLog)
	}
	f, fi, err := s.writeLog(b.name, logMagic, tree)
	if err != nil {
		return err
	}
	b.f, b.fi, b.off, b.tree, b.snap = f, fi, fi.Size(), tree, nil
	return nil
}

// writeLog writes a log headed by magic holding tree's entries to a
// temporary file and renames it into the bucket's log's place, with no
// sync (the index is a cache: Close syncs it). It returns the file, open
// for reading, and its identity. The caller holds the bucket's lock,
// exclusive.
func (s *Store) writeLog(bucket, magic string, tree *btree.BTreeG[indexEntry]) (*os.File, os.FileInfo, error) {
	tmp := tempName("index")
	f, err := s.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*os.File, os.FileInfo, error) {
		f.Close()
		_ = s.root.Remove(tmp)
		return nil, nil, err
	}
	if err := tmpfile.Lock(f); err != nil {
		return fail(err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	_, err = w.WriteString(magic)
	var rec []byte
	if tree != nil {
		tree.Ascend(func(e indexEntry) bool {
			if rec, err = appendRecord(rec[:0], e); err == nil {
				_, err = w.Write(rec)
			}
			return err == nil
		})
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fail(err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := s.root.Rename(tmp, logPath(bucket)); err != nil {
		return fail(err)
	}
	return f, fi, nil
}

// sweepIndex removes the temporary files of index/ that no process holds:
// what a process killed while writing a log or making its live file left.
func (s *Store) sweepIndex() {
	entries, err := fs.ReadDir(s.root.FS(), "index")
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		name := path.Join("index", e.Name())
		f, err := s.root.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if tmpfile.Stale(e, f) {
			_ = s.root.Remove(name)
		}
		f.Close()
	}
}

// scanTree reads the bucket's committed objects from their files: every
// object Open would read, and nothing else (no temporary file, no file
// whose key does not hash to its name).
func (s *Store) scanTree(ctx context.Context, bucket string) (*btree.BTreeG[indexEntry], error) {
	dir := path.Join("objects", bucket)
	fans, err := fs.ReadDir(s.root.FS(), dir)
	if errors.Is(err, fs.ErrNotExist) {
		return newTree(), nil
	}
	if err != nil {
		return nil, err
	}
	work := make(chan string)
	found := make(chan []indexEntry)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range scanWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fan := range work {
				entries, err := s.scanFan(ctx, path.Join(dir, fan), fan)
				if err != nil {
					cancel(err)
					continue
				}
				select {
				case found <- entries:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		defer close(found)
		defer wg.Wait()
		defer close(work)
		for _, fan := range fans {
			if !fan.IsDir() || !isHex(fan.Name(), 2) {
				continue
			}
			select {
			case work <- fan.Name():
			case <-ctx.Done():
				return
			}
		}
	}()
	tree := newTree()
	for entries := range found {
		for _, e := range entries {
			tree.ReplaceOrInsert(e)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return tree, nil
}

// scanFan reads the objects of one fan-out directory, objects/B/HH, or
// stops when ctx is done (a fan of a large bucket holds thousands).
func (s *Store) scanFan(ctx context.Context, dir, fan string) ([]indexEntry, error) {
	d, err := s.root.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := readNames(d)
	if err != nil {
		return nil, err
	}
	var out []indexEntry
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(name) != 2*sha256.Size || !isHex(name, len(name)) || name[:2] != fan {
			continue // a temporary file, or nothing of this store's
		}
		e, _, err := readEntry(d, name)
		var pathErr *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case errors.As(err, &pathErr):
			// The file could not be read, and may be an object: a
			// listing without it would not be exact.
			return nil, err
		case err != nil:
			continue // not an object file: Open can not read it either
		}
		if sum := sha256.Sum256([]byte(e.key)); hex.EncodeToString(sum[:]) != name {
			continue // Open never finds it under its key
		}
		out = append(out, e)
	}
	return out, nil
}

func readNames(d *os.Root) ([]string, error) {
	f, err := d.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// isHex says s is n lowercase hex digits, as objectPath names them.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
