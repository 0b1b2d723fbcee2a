package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/mirrorkit/mirror/pull"
)

// TestDeleter checks a pull.Deleter (docs/SERVING.md §2.2): a deleted key
// is gone from Open, HasObjects and, when the store lists, List, and
// nothing else is; deleting a key that is not stored is no error; a key
// committed again after its deletion reads back; every hostile key is
// deleted alone; DeletePrefix removes exactly the keys with its prefix and
// counts them; a reader that opened an object before its deletion reads
// it whole or fails, never other bytes; deletions racing commits of one
// key leave the key absent or one whole object, and a listing that agrees;
// invalid bucket names are refused. It uses buckets whose names start with
// "storetest-del".
func TestDeleter(s pull.Store) error {
	r := &report{}
	d, ok := s.(pull.Deleter)
	if !ok {
		return errors.New("the store is not a pull.Deleter")
	}
	ctx := context.Background()
	checkDelete(ctx, r, s, d)
	checkDeleteHostile(ctx, r, s, d)
	checkDeletePrefix(ctx, r, s, d)
	checkDeleteWhileReading(ctx, r, s, d)
	checkDeleteRacingCommits(ctx, r, s, d)
	for _, b := range badBuckets {
		if err := d.Delete(ctx, b, "k"); err == nil {
			r.fail("delete: bucket %q: Delete took an invalid bucket name", b)
		}
		if _, err := d.DeletePrefix(ctx, b, ""); err == nil {
			r.fail("delete: bucket %q: DeletePrefix took an invalid bucket name", b)
		}
	}
	return r.err()
}

// listed is the keys a Lister lists in a bucket, nil when s does not list.
func listed(ctx context.Context, s pull.Store, bucket string) ([]string, error) {
	l, ok := s.(pull.Lister)
	if !ok {
		return nil, nil
	}
	var keys []string
	q := pull.ListQuery{Limit: 1000}
	for {
		page, err := l.List(ctx, bucket, q)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		if !page.Truncated {
			return keys, nil
		}
		q.After = page.Next
	}
}

// checkListed fails when a Lister does not list exactly want.
func checkListed(ctx context.Context, r *report, s pull.Store, what, bucket string, want []string) {
	if _, ok := s.(pull.Lister); !ok {
		return
	}
	got, err := listed(ctx, s, bucket)
	want = slices.Sorted(slices.Values(want))
	if err != nil || !slices.Equal(got, want) {
		r.fail("%s: List gives %q, %v, want %q", what, readable(got), err, readable(want))
	}
}

func checkDelete(ctx context.Context, r *report, s pull.Store, d pull.Deleter) {
	const b = "storetest-delete"
	for _, k := range []string{"k", "keep"} {
		if err := Put(ctx, s, b, k, "data of "+k, pull.ObjectInfo{ETag: "e"}); err != nil {
			r.fail("delete: commit: %v", err)
			return
		}
	}
	checkListed(ctx, r, s, "delete: before", b, []string{"k", "keep"})
	if err := d.Delete(ctx, b, "k"); err != nil {
		r.fail("delete: Delete: %v", err)
	}
	if _, _, err := Get(ctx, s, b, "k"); !errors.Is(err, pull.ErrNotFound) {
		r.fail("delete: Open of a deleted key: %v, want pull.ErrNotFound", err)
	}
	if got, _, err := Get(ctx, s, b, "keep"); err != nil || got != "data of keep" {
		r.fail("delete: another key reads %q, %v", got, err)
	}
	checkListed(ctx, r, s, "delete: after", b, []string{"keep"})
	for _, k := range []string{"k", "never-stored"} {
		if err := d.Delete(ctx, b, k); err != nil {
			r.fail("delete: Delete of %q, not stored: %v, want none (S3 answers 204)", k, err)
		}
	}
	if err := d.Delete(ctx, "storetest-delete-none", "k"); err != nil {
		r.fail("delete: Delete in a bucket that holds nothing: %v", err)
	}
	if err := d.Delete(ctx, b, "keep"); err != nil {
		r.fail("delete: Delete: %v", err)
	}
	if has, err := s.HasObjects(ctx, b); err != nil || has {
		r.fail("delete: HasObjects is %v, %v once every object is deleted", has, err)
	}
	checkListed(ctx, r, s, "delete: all", b, nil)
	if err := Put(ctx, s, b, "k", "again", pull.ObjectInfo{ETag: "e2"}); err != nil {
		r.fail("delete: commit after the delete: %v", err)
	}
	if got, info, err := Get(ctx, s, b, "k"); err != nil || got != "again" || info.ETag != "e2" {
		r.fail("delete: a key committed again reads %q, %+v, %v", got, info, err)
	}
	checkListed(ctx, r, s, "delete: committed again", b, []string{"k"})
}

func checkDeleteHostile(ctx context.Context, r *report, s pull.Store, d pull.Deleter) {
	const b = "storetest-del-hostile"
	for i, k := range HostileKeys {
		if err := Put(ctx, s, b, k, fmt.Sprint("object ", i), pull.ObjectInfo{ETag: "e"}); err != nil {
			r.fail("delete hostile key %q: commit: %v", k, err)
		}
	}
	var kept []string
	for i, k := range HostileKeys {
		if i%2 == 0 {
			if err := d.Delete(ctx, b, k); err != nil {
				r.fail("delete hostile key %q: %v", k, err)
			}
		} else {
			kept = append(kept, k)
		}
	}
	for i, k := range HostileKeys {
		got, _, err := Get(ctx, s, b, k)
		if i%2 == 0 && slices.Contains(kept, k) {
			continue // the same key twice in the list
		}
		switch {
		case i%2 == 0 && !errors.Is(err, pull.ErrNotFound):
			r.fail("delete hostile key %q: still there (%v)", k, err)
		case i%2 == 1 && (err != nil || got != fmt.Sprint("object ", i)):
			r.fail("delete hostile key %q: a neighbour's delete left %q, %v", k, got, err)
		}
	}
	checkListed(ctx, r, s, "delete hostile keys", b, dedupe(kept))
}

func checkDeletePrefix(ctx context.Context, r *report, s pull.Store, d pull.Deleter) {
	const b = "storetest-del-prefix"
	keys := []string{"p/a", "p/b", "p/c/d", "p/" + strings.Repeat("x", 1000), "pq", "q/p/a", "x", "p"}
	for _, k := range keys {
		if err := Put(ctx, s, b, k, "data of "+k, pull.ObjectInfo{ETag: "e"}); err != nil {
			r.fail("delete prefix: commit: %v", err)
			return
		}
	}
	checkListed(ctx, r, s, "delete prefix: before", b, keys)
	n, err := d.DeletePrefix(ctx, b, "p/")
	if err != nil || n != 4 {
		r.fail("delete prefix: DeletePrefix(p/) = %d, %v, want 4", n, err)
	}
	rest := []string{"pq", "q/p/a", "x", "p"}
	for _, k := range keys {
		_, _, err := Get(ctx, s, b, k)
		if slices.Contains(rest, k) != (err == nil) {
			r.fail("delete prefix: after DeletePrefix(p/), Open(%q): %v", k, err)
		}
	}
	checkListed(ctx, r, s, "delete prefix: after", b, rest)
	if n, err := d.DeletePrefix(ctx, b, "p/"); err != nil || n != 0 {
		r.fail("delete prefix: again: %d, %v, want 0", n, err)
	}
	if n, err := d.DeletePrefix(ctx, b, ""); err != nil || n != len(rest) {
		r.fail("delete prefix: DeletePrefix(\"\") = %d, %v, want %d", n, err, len(rest))
	}
	if has, err := s.HasObjects(ctx, b); err != nil || has {
		r.fail("delete prefix: HasObjects is %v, %v after deleting every key", has, err)
	}
	checkListed(ctx, r, s, "delete prefix: all", b, nil)
}

func checkDeleteWhileReading(ctx context.Context, r *report, s pull.Store, d pull.Deleter) {
	const b = "storetest-del-reading"
	data := strings.Repeat("0123456789", 100000)
	if err := Put(ctx, s, b, "k", data, pull.ObjectInfo{ETag: "e"}); err != nil {
		r.fail("delete while reading: commit: %v", err)
		return
	}
	obj, err := s.Open(ctx, b, "k")
	if err != nil {
		r.fail("delete while reading: Open: %v", err)
		return
	}
	defer obj.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(obj, head); err != nil {
		r.fail("delete while reading: read: %v", err)
		return
	}
	if err := d.Delete(ctx, b, "k"); err != nil {
		r.fail("delete while reading: Delete: %v", err)
	}
	rest, err := io.ReadAll(obj)
	if got := string(head) + string(rest); err == nil && got != data {
		r.fail("delete while reading: the reader got %d bytes, not the object it opened", len(got))
	}
	if _, _, err := Get(ctx, s, b, "k"); !errors.Is(err, pull.ErrNotFound) {
		r.fail("delete while reading: Open after the delete: %v", err)
	}
}

func checkDeleteRacingCommits(ctx context.Context, r *report, s pull.Store, d pull.Deleter) {
	const b = "storetest-del-race"
	versions := []string{strings.Repeat("a", 100000), strings.Repeat("b", 50000)}
	// A listing before, so that a store's index of the bucket is in use.
	if err := Put(ctx, s, b, "other", "x", pull.ObjectInfo{ETag: "o"}); err != nil {
		r.fail("delete racing commits: %v", err)
		return
	}
	checkListed(ctx, r, s, "delete racing commits: before", b, []string{"other"})
	for round := range 4 {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					if err := d.Delete(ctx, b, "k"); err != nil {
						r.fail("delete racing commits: Delete: %v", err)
					}
					return
				}
				if err := Put(ctx, s, b, "k", versions[i/2%2], pull.ObjectInfo{ETag: "v"}); err != nil {
					r.fail("delete racing commits: commit: %v", err)
				}
			}()
		}
		wg.Wait()
		got, info, err := Get(ctx, s, b, "k")
		switch {
		case errors.Is(err, pull.ErrNotFound):
			checkListed(ctx, r, s, fmt.Sprint("delete racing commits: round ", round, ", deleted"), b, []string{"other"})
		case err != nil || !slices.Contains(versions, got):
			r.fail("delete racing commits: round %d left %d bytes, %v: not one whole object", round, len(got), err)
		default:
			checkListed(ctx, r, s, fmt.Sprint("delete racing commits: round ", round, ", committed"), b, []string{"k", "other"})
			if l, ok := s.(pull.Lister); ok {
				page, err := l.List(ctx, b, pull.ListQuery{Prefix: "k", Limit: 1})
				if err != nil || len(page.Objects) != 1 || page.Objects[0].Info.Size != info.Size {
					r.fail("delete racing commits: round %d: the listing says %+v, %v; Open says %d bytes", round, page.Objects, err, info.Size)
				}
			}
		}
	}
}
