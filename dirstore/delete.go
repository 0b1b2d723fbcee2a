package dirstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"

	"github.com/google/btree"
	"github.com/mirrorkit/mirror"
)

// Deleting objects (docs/SERVING.md §2.2): a purge (pull.Deleter) or an
// eviction (evict.go) unlinks the object's file and appends a deletion of
// its key to the bucket's key index. A reader that opened the file reads
// it to its end (an unlinked file lives while it is open); a commit of the
// key renames a new file in, before or after, and the index ends with
// what the name holds once both are done (appendSettled).

// Delete removes a key's object (pull.Deleter); a key that is not stored
// is no error. With FsyncCommit the removal is synced before Delete
// returns, so that a power cut does not bring a purged object back.
func (s *Store) Delete(_ context.Context, bucket, key string) error {
	dir, name, err := objectPath(bucket, key)
	if err != nil {
		return err
	}
	removed, err := s.removeObject(dir, name, key)
	if err != nil || !removed {
		return err
	}
	return s.syncObjectDir(dir)
}

// DeletePrefix removes the bucket's objects whose keys start with prefix
// (pull.Deleter), as the key index lists them when it begins: an object
// committed meanwhile may stay. It returns how many it removed.
func (s *Store) DeletePrefix(ctx context.Context, bucket, prefix string) (int, error) {
	if !mirror.ValidBucket(bucket) {
		return 0, fmt.Errorf("dirstore: invalid bucket name %q", bucket)
	}
	tree, err := s.keys(ctx, bucket)
	if err != nil {
		return 0, err
	}
	var keys []string
	tree.AscendGreaterOrEqual(indexEntry{key: prefix}, func(e indexEntry) bool {
		if !strings.HasPrefix(e.key, prefix) {
			return false
		}
		keys = append(keys, e.key)
		return true
	})
	n := 0
	dirs := map[string]bool{}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		dir, name, _ := objectPath(bucket, k)
		removed, err := s.removeObject(dir, name, k)
		if err != nil {
			return n, err
		}
		if removed {
			n++
			dirs[dir] = true
		}
	}
	// One sync per fan-out directory, not one per object.
	for dir := range dirs {
		if err := s.syncObjectDir(dir); err != nil {
			return n, err
		}
	}
	return n, nil
}

// removeObject unlinks the object file name, of key, in the fan-out
// directory dir, and writes the deletion to the bucket's key index.
// removed is false when there was no file.
func (s *Store) removeObject(dir, name, key string) (removed bool, err error) {
	d, done, err := s.dir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer done()
	base := path.Base(name)
	if err := d.Remove(base); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	s.space.removed(name) // evict.go
	bucket := path.Base(path.Dir(dir))
	if err := s.appendDelete(bucket, d, base, key); err != nil {
		slog.Warn("dirstore: a deletion is not in the key index, which will be rebuilt", "bucket", bucket, "error", err)
		s.invalidate(bucket)
	}
	return true, nil
}

// appendDelete appends the deletion of key, whose file name in d was just
// unlinked, to its bucket's log, as appendCommit appends a commit.
func (s *Store) appendDelete(bucket string, d *os.Root, name, key string) error {
	return s.withLog(bucket, func(lf *os.File) error {
		return appendSettled(lf, d, name, indexEntry{gone: true, key: key}, nil)
	})
}

// appendSettled appends e, the record of what the object file name in d
// holds (a put of the file mine, or a deletion), to the log lf; and then,
// as long as the name holds something else (a commit renamed another file
// over it, or a deletion unlinked it, after this one), a record of that.
// Two writers of a key may change the name in one order and append in the
// other: so the last record of a key is always written after its last
// rename or unlink, whoever writes it.
func appendSettled(lf *os.File, d *os.Root, name string, e indexEntry, mine os.FileInfo) error {
	var rec []byte
	var err error
	for i := 0; ; i++ {
		if rec, err = appendRecord(rec[:0], e); err != nil {
			return err
		}
		// One write: O_APPEND puts it whole after every other.
		if _, err := lf.Write(rec); err != nil {
			return err
		}
		now, err := d.Stat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if e.gone {
				return nil
			}
		case err != nil:
			return err
		case !e.gone && os.SameFile(now, mine):
			return nil
		}
		if i == maxReindex {
			return errors.New("dirstore: the key is committed or deleted again and again while it is indexed")
		}
		key := e.key
		if e, mine, err = readEntry(d, name); errors.Is(err, fs.ErrNotExist) {
			e, mine = indexEntry{gone: true, key: key}, nil
		} else if err != nil {
			return err
		}
	}
}

// applyEntry applies a log record to a tree: a put replaces its key's
// entry, a deletion removes it.
func applyEntry(tree *btree.BTreeG[indexEntry], e indexEntry) {
	if e.gone {
		tree.Delete(e)
		return
	}
	tree.ReplaceOrInsert(e)
}
