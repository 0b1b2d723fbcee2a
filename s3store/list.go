package s3store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
)

// maxListKeys is the most entries a page holds, as S3's own pages.
const maxListKeys = 1000

// statConcurrency is how many HEAD requests a listing has in flight.
const statConcurrency = 16

// entry is a key or common prefix of a page being built. name is the S3
// object that holds a key; info, when set, was read with it already.
type entry struct {
	key    string
	prefix bool
	name   string
	info   *pull.ObjectInfo
}

// List returns a page of a bucket's committed objects (pull.Lister), as
// docs/SERVING.md §2 tells: one ListObjectsV2 of its plain names, with the
// query's Delimiter, merged with its hashed names, and a HEAD per object
// listed, since the ETag, Last-Modified and storage class the gateway
// serves are in each object's metadata, which a listing does not carry.
func (s *Store) List(ctx context.Context, bucket string, q pull.ListQuery) (pull.ListPage, error) {
	if !mirror.ValidBucket(bucket) {
		return pull.ListPage{}, fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	limit := min(max(q.Limit, 1), maxListKeys)
	hashed, err := s.hashedKeys(ctx, bucket, q.Prefix)
	if err != nil {
		return pull.ListPage{}, err
	}
	base := s.prefix + "objects/" + bucket + "/"
	var entries []entry
	more := false
	for from := q.After; ; {
		var plain []entry
		if len(base+q.Prefix) <= maxNameLen { // else no plain name has the prefix
			res, err := s.listV2(ctx, base+q.Prefix, startAfter(base, from), q.Delimiter, limit)
			if err != nil {
				return pull.ListPage{}, err
			}
			for _, o := range res.Contents {
				if key, ok := strings.CutPrefix(o.Key, base); ok {
					plain = append(plain, entry{key: key, name: o.Key})
				}
			}
			for _, p := range res.CommonPrefixes {
				if key, ok := strings.CutPrefix(p.Prefix, base); ok {
					plain = append(plain, entry{key: key, prefix: true})
				}
			}
			more = res.IsTruncated
		}
		var bound string
		entries, bound = s.mergeRange(bucket, q, entries, plain, hashed, more)
		if !more || len(entries) >= limit {
			break
		}
		if bound <= from {
			return pull.ListPage{}, errors.New("s3store: the server's listing is truncated but holds nothing new")
		}
		// Every entry of that request was dropped (see mergeRange): the
		// page goes on past them.
		from = bound
	}
	page := pull.ListPage{Truncated: more}
	if len(entries) > limit {
		entries, page.Truncated = entries[:limit], true
	}
	if page.Truncated {
		page.Next = entries[len(entries)-1].key
	}
	if err := s.statEntries(ctx, entries); err != nil {
		return pull.ListPage{}, err
	}
	for _, e := range entries {
		switch {
		case e.prefix:
			page.Prefixes = append(page.Prefixes, e.key)
		case e.info != nil: // nil: gone since it was listed
			page.Objects = append(page.Objects, pull.ListEntry{Key: e.key, Info: *e.info})
		}
	}
	return page, nil
}

// mergeRange adds to entries one ListObjectsV2 response's plain entries
// after q.After, and the hashed keys (rolled into common prefixes) in the
// range that response covers: up to its last entry, or everything when it
// is not truncated. It returns them in key order, once each (a plain
// name before a hashed one of the same key, as Open reads them), and that
// last entry.
//
// It drops what the contract leaves out and servers may still send: a
// common prefix at or before After (versitygw v1.8.0 sends none when
// StartAfter is one, S3 may send it again), and a plain name Open would
// not read (one a filesystem-backed server keeps as a directory, "x/").
func (s *Store) mergeRange(bucket string, q pull.ListQuery, entries, plain, hashed []entry, truncated bool) ([]entry, string) {
	bound := ""
	for _, e := range plain {
		bound = max(bound, e.key)
	}
	for _, e := range plain {
		if e.key <= q.After {
			continue
		}
		if _, ok := s.plainName(bucket, e.key); ok || e.prefix {
			entries = append(entries, e)
		}
	}
	for _, h := range hashed {
		e := rollUp(h, q)
		if e.key > q.After && (!truncated || e.key <= bound) {
			entries = append(entries, e)
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	return slices.CompactFunc(entries, func(a, b entry) bool { return a.key == b.key }), bound
}

// rollUp is a hashed key's entry in a listing of q: itself, or the common
// prefix it rolls into.
func rollUp(h entry, q pull.ListQuery) entry {
	if q.Delimiter == "" {
		return h
	}
	if i := strings.Index(h.key[len(q.Prefix):], q.Delimiter); i >= 0 {
		return entry{key: h.key[:len(q.Prefix)+i+len(q.Delimiter)], prefix: true}
	}
	return h
}

// maxNameLen is the longest object name S3 takes.
const maxNameLen = 1024

// startAfter is the StartAfter of a listing of base after key. One past
// S3's longest name is cut to it: no name lies between the two, so the
// listing is the same.
func startAfter(base, key string) string {
	if key == "" {
		return ""
	}
	name := base + key
	if len(name) <= maxNameLen {
		return name
	}
	name = name[:maxNameLen]
	for !utf8.ValidString(name) { // cut at a rune's start
		name = name[:len(name)-1]
	}
	return name
}

// listV2 is one ListObjectsV2 request. minio-go's Core takes no context
// for it: a cancelled ctx returns at once and leaves the request to end on
// its own.
func (s *Store) listV2(ctx context.Context, prefix, startAfter, delimiter string, maxKeys int) (minio.ListBucketV2Result, error) {
	type result struct {
		res minio.ListBucketV2Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.core().ListObjectsV2(s.bucket, prefix, startAfter, "", delimiter, maxKeys)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return minio.ListBucketV2Result{}, ctx.Err()
	}
}

// hashedKeys are the bucket's hashed objects whose keys start with prefix,
// in key order. The keys are in the objects' metadata, and their names
// in hash order, so every listing reads them all: one ListObjectsV2 per
// thousand, and a HEAD of each the process has not read before
// (docs/SERVING.md §2).
func (s *Store) hashedKeys(ctx context.Context, bucket, prefix string) ([]entry, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var all, unread []entry
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + "hashed/" + bucket + "/", Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		if key, ok := cachedKey(o.Key[strings.LastIndexByte(o.Key, '/')+1:]); ok && s.hashedName(bucket, key) == o.Key {
			all = append(all, entry{key: key, name: o.Key})
		} else {
			unread = append(unread, entry{name: o.Key})
		}
	}
	err := forEach(ctx, len(unread), func(ctx context.Context, i int) error {
		st, err := s.client.StatObject(ctx, s.bucket, unread[i].name, minio.StatObjectOptions{})
		if notFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		k, _ := base64.RawURLEncoding.DecodeString(st.UserMetadata[metaKey])
		// A name that is not its key's hash is not read by Open either.
		if key := string(k); s.hashedName(bucket, key) == unread[i].name {
			sum := sha256.Sum256(k)
			cacheKey(hex.EncodeToString(sum[:]), key)
			info := objectInfo(st)
			unread[i].key, unread[i].info = key, &info
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, e := range unread {
		if e.info != nil {
			all = append(all, e)
		}
	}
	all = slices.DeleteFunc(all, func(e entry) bool { return !strings.HasPrefix(e.key, prefix) })
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	return all, nil
}

// keyCache holds the keys of hashed names read: a name is its key's
// SHA-256, so what it names never changes, in any store.
var keyCache struct {
	sync.Mutex
	keys map[string]string
}

// maxCachedKeys bounds keyCache; past it, names are read every time.
const maxCachedKeys = 1 << 16

func cachedKey(sum string) (string, bool) {
	keyCache.Lock()
	defer keyCache.Unlock()
	k, ok := keyCache.keys[sum]
	return k, ok
}

func cacheKey(sum, key string) {
	keyCache.Lock()
	defer keyCache.Unlock()
	if keyCache.keys == nil {
		keyCache.keys = map[string]string{}
	}
	if len(keyCache.keys) < maxCachedKeys {
		keyCache.keys[sum] = key
	}
}

// statEntries reads the info of the page's objects that have none yet;
// one that is gone since it was listed keeps none.
func (s *Store) statEntries(ctx context.Context, entries []entry) error {
	return forEach(ctx, len(entries), func(ctx context.Context, i int) error {
		e := &entries[i]
		if e.prefix || e.info != nil {
			return nil
		}
		st, err := s.client.StatObject(ctx, s.bucket, e.name, minio.StatObjectOptions{})
		if notFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		info := objectInfo(st)
		e.info = &info
		return nil
	})
}

// forEach runs f(0) to f(n-1), statConcurrency at a time, and returns the
// first error.
func forEach(ctx context.Context, n int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, statConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// Buckets names, sorted, the buckets that hold an object, plain or
// hashed, or a configuration (pull.Lister): one delimited listing of
// each of PREFIX/objects/ and PREFIX/hashed/, and one of PREFIX/config/.
func (s *Store) Buckets(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []string
	for _, dir := range []string{"objects/", "hashed/", "config/"} {
		for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + dir}) {
			if o.Err != nil {
				return nil, o.Err
			}
			name := strings.TrimPrefix(o.Key, s.prefix+dir)
			if dir != "config/" {
				var ok bool
				if name, ok = strings.CutSuffix(name, "/"); !ok {
					continue // an object beside the buckets, not one
				}
			}
			if mirror.ValidBucket(name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
