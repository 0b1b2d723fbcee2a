package dirstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/google/btree"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
)

// maxListKeys is the most entries a page holds, as S3's own pages.
const maxListKeys = 1000

// List returns a page of a bucket's committed objects (pull.Lister), from
// its key index (docs/SERVING.md §2, "The key index"): the records
// appended since this process last looked are read, then the page is a
// seek in the index's tree and a walk of the page's entries, whatever the
// number of objects. A bucket never written to is an empty page, and
// gets no index.
func (s *Store) List(ctx context.Context, bucket string, q pull.ListQuery) (pull.ListPage, error) {
	if !mirror.ValidBucket(bucket) {
		return pull.ListPage{}, fmt.Errorf("dirstore: invalid bucket name %q", bucket)
	}
	if err := ctx.Err(); err != nil {
		return pull.ListPage{}, err
	}
	if _, err := s.root.Stat(path.Join("objects", bucket)); errors.Is(err, fs.ErrNotExist) {
		return pull.ListPage{}, nil
	}
	tree, err := s.keys(ctx, bucket)
	if err != nil {
		return pull.ListPage{}, err
	}
	q.Limit = min(max(q.Limit, 1), maxListKeys)
	return listPage(tree, q), nil
}

// listPage cuts q's page from the tree, as pull.ListQuery defines it. The
// keys of a common prefix are adjacent, so each common prefix is one
// seek past them.
func listPage(tree *btree.BTreeG[indexEntry], q pull.ListQuery) pull.ListPage {
	var page pull.ListPage
	if q.Delimiter == "" {
		// Allocated once: a page of objects is most of a listing's cost.
		page.Objects = make([]pull.ListEntry, 0, min(q.Limit, tree.Len()))
	}
	n := 0
	emit := func(key string, e *indexEntry) bool {
		if n == q.Limit {
			page.Truncated = true
			return false
		}
		n++
		page.Next = key
		if e == nil {
			page.Prefixes = append(page.Prefixes, key)
		} else {
			page.Objects = append(page.Objects, pull.ListEntry{Key: key, Info: pull.ObjectInfo{
				Size: e.size, ETag: e.etag, LastModified: e.mod, StorageClass: e.class}})
		}
		return true
	}
	// from is where the walk (re)starts; with inclusive unset, a key
	// equal to it is not taken.
	from, inclusive := q.After, false
	if p, ok := commonPrefix(q.After, q); ok && p == q.After {
		// None of the keys rolled into After either.
		if from, ok = prefixEnd(q.After); !ok {
			return page
		}
		inclusive = true
	}
	if q.Prefix > from {
		from, inclusive = q.Prefix, true
	}
	for walking := true; walking; {
		walking = false
		tree.AscendGreaterOrEqual(indexEntry{key: from}, func(e indexEntry) bool {
			if !inclusive {
				// Only the first key can be from itself.
				inclusive = true
				if e.key == from {
					return true
				}
			}
			if !strings.HasPrefix(e.key, q.Prefix) {
				return false // past the keys with the prefix: they are adjacent
			}
			p, ok := commonPrefix(e.key, q)
			if !ok {
				return emit(e.key, &e)
			}
			if p > q.After && !emit(p, nil) {
				return false
			}
			from, walking = prefixEnd(p)
			inclusive = true
			return false
		})
	}
	if !page.Truncated {
		page.Next = ""
	}
	return page
}

// commonPrefix is the common prefix key rolls into under q: q.Prefix, the
// key's bytes up to the first Delimiter after it, and the Delimiter.
func commonPrefix(key string, q pull.ListQuery) (string, bool) {
	if q.Delimiter == "" || !strings.HasPrefix(key, q.Prefix) {
		return "", false
	}
	i := strings.Index(key[len(q.Prefix):], q.Delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(q.Prefix)+i+len(q.Delimiter)], true
}

// prefixEnd is the least string after every string that starts with p;
// none when p is all 0xff bytes.
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for len(b) > 0 {
		if b[len(b)-1] < 0xff {
			b[len(b)-1]++
			return string(b), true
		}
		b = b[:len(b)-1]
	}
	return "", false
}

// Buckets names, sorted, the buckets that hold a committed object or a
// configuration (pull.Lister). A bucket whose only objects are being
// written, or that holds only a read policy, is not one: HeadBucket does
// not find it either. It reads the directories, not the key indexes: one
// readdir of objects/ and of config/, and, for each bucket, fan-out
// directories until one holds an object (HasObjects).
func (s *Store) Buckets(ctx context.Context) ([]string, error) {
	out := []string{}
	dirs, err := fs.ReadDir(s.root.FS(), "objects")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !d.IsDir() || !mirror.ValidBucket(d.Name()) {
			continue
		}
		has, err := s.HasObjects(ctx, d.Name())
		if err != nil {
			return nil, err
		}
		if has {
			out = append(out, d.Name())
		}
	}
	configs, err := fs.ReadDir(s.root.FS(), "config")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, c := range configs {
		if c.Type().IsRegular() && mirror.ValidBucket(c.Name()) {
			out = append(out, c.Name())
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
