package dirstore

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listAll walks q page by page (pages of 1000 unless q says) and returns
// every object and common prefix.
func listAll(t testing.TB, s *Store, bucket string, q pull.ListQuery) (objects []pull.ListEntry, prefixes []string) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100000, "the listing never ends")
		p, err := s.List(context.Background(), bucket, q)
		require.NoError(t, err)
		objects, prefixes = append(objects, p.Objects...), append(prefixes, p.Prefixes...)
		if !p.Truncated {
			return objects, prefixes
		}
		q.After = p.Next
	}
}

func listKeys(t testing.TB, s *Store, bucket string, q pull.ListQuery) []string {
	t.Helper()
	objects, _ := listAll(t, s, bucket, q)
	keys := []string{}
	for _, o := range objects {
		keys = append(keys, o.Key)
	}
	return keys
}

// The listing contract both stores keep (internal/storetest).
func TestListerContract(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	storetest.TestLister(t, s)
}

// oddKeys are the keys the engine accepts that are odd for a listing:
// the hostile keys of the store contract, a key of each printable ASCII
// byte alone and between two letters (every one of them a delimiter
// below), and the extremes of UTF-8.
func oddKeys() []string {
	keys := slices.Clone(storetest.ListKeys)
	for c := byte(0x20); c < 0x7f; c++ {
		keys = append(keys, string(c), "a"+string(c)+"b", "a"+string(c)+string(c)+"b")
	}
	keys = append(keys, "\u0080", "\uffff", "\U0010FFFF", "\U0010FFFF/x", "a\U0010FFFF", strings.Repeat("\U0010FFFF", 256))
	return slices.Compact(slices.Sorted(slices.Values(keys)))
}

// Pages of every query over the odd keys are what pull.ListQuery defines
// (storetest.WantList): random prefixes, delimiters and Afters cut from
// the keys themselves, so that After is often a key or a common prefix,
// and limits from 1 up.
func TestListPagesAreAsDefined(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	keys := oddKeys()
	for i, k := range keys {
		put(t, s, "bkt", k, fmt.Sprint(i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cut := func() string {
		k := keys[rng.IntN(len(keys))]
		return k[:rng.IntN(len(k)+1)]
	}
	delimiters := []string{"", "/", "//", "a", " ", "::", "日", "\U0010FFFF", "%", "."}
	for i := 0; i < 400; i++ {
		q := pull.ListQuery{Delimiter: delimiters[rng.IntN(len(delimiters))], Limit: 1 + rng.IntN(7)}
		if rng.IntN(2) == 0 {
			q.Prefix = cut()
		}
		if rng.IntN(2) == 0 {
			q.After = cut()
		}
		if q.Delimiter != "" && rng.IntN(3) == 0 {
			// After a common prefix, as a client continuing a listing sends.
			if p, ok := commonPrefix(keys[rng.IntN(len(keys))], q); ok {
				q.After = p
			}
		}
		wantObjects, wantPrefixes := storetest.WantList(keys, q)
		objects, prefixes := listAll(t, s, "bkt", q)
		got := []string{}
		for _, o := range objects {
			got = append(got, o.Key)
		}
		require.Equal(t, append([]string{}, wantObjects...), got, "objects of %+q", q)
		require.Equal(t, wantPrefixes, prefixes, "common prefixes of %+q", q)
	}
}

// The page cut by hand, for the cases pull/list.go spells out.
func TestListPageByHand(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	for _, k := range []string{"a", "a/1", "a/2", "a/b/1", "b", "c/1", "c/2", "d"} {
		put(t, s, "bkt", k, "v")
	}
	ctx := context.Background()
	for _, c := range []struct {
		q        pull.ListQuery
		objects  []string
		prefixes []string
		next     string // "" when not truncated
	}{
		{pull.ListQuery{Limit: 3}, []string{"a", "a/1", "a/2"}, nil, "a/2"},
		{pull.ListQuery{Limit: 3, After: "a/2"}, []string{"a/b/1", "b", "c/1"}, nil, "c/1"},
		{pull.ListQuery{Limit: 8}, []string{"a", "a/1", "a/2", "a/b/1", "b", "c/1", "c/2", "d"}, nil, ""},
		{pull.ListQuery{Delimiter: "/", Limit: 2}, []string{"a"}, []string{"a/"}, "a/"},
		// After a common prefix: none of its keys again.
		{pull.ListQuery{Delimiter: "/", After: "a/", Limit: 2}, []string{"b"}, []string{"c/"}, "c/"},
		{pull.ListQuery{Delimiter: "/", After: "c/", Limit: 2}, []string{"d"}, nil, ""},
		// After inside a common prefix: the prefix sorts before it.
		{pull.ListQuery{Delimiter: "/", After: "a/1", Limit: 10}, []string{"b", "d"}, []string{"c/"}, ""},
		{pull.ListQuery{Prefix: "a/", Delimiter: "/", Limit: 10}, []string{"a/1", "a/2"}, []string{"a/b/"}, ""},
		{pull.ListQuery{Prefix: "a/", Delimiter: "/", After: "a/b/", Limit: 10}, nil, nil, ""},
		// Exactly Limit entries, and nothing after: not truncated.
		{pull.ListQuery{Prefix: "c/", Limit: 2}, []string{"c/1", "c/2"}, nil, ""},
		// A limit under 1 is 1; over 1000 is 1000.
		{pull.ListQuery{Limit: 0}, []string{"a"}, nil, "a"},
		{pull.ListQuery{Limit: -5, After: "c/2"}, []string{"d"}, nil, ""},
	} {
		p, err := s.List(ctx, "bkt", c.q)
		require.NoError(t, err)
		var keys []string
		for _, o := range p.Objects {
			keys = append(keys, o.Key)
		}
		assert.Equal(t, c.objects, keys, "%+q", c.q)
		assert.Equal(t, c.prefixes, p.Prefixes, "%+q", c.q)
		assert.Equal(t, c.next != "", p.Truncated, "%+q", c.q)
		assert.Equal(t, c.next, p.Next, "%+q", c.q)
	}
}

// A key of 0xff bytes is past the end of a common prefix's range: a
// listing after one ends instead of wrapping (the store takes any key,
// though the engine gives it none that is not UTF-8).
func TestListAfterTheLastPossiblePrefix(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	for _, k := range []string{"\xff\xff/a", "\xff\xff/b", "\xff\xff\xff", "a"} {
		put(t, s, "bkt", k, "v")
	}
	p, err := s.List(context.Background(), "bkt", pull.ListQuery{Delimiter: "/", After: "\xff\xff/", Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []pull.ListEntry{{Key: "\xff\xff\xff", Info: p.Objects[0].Info}}, p.Objects)
	p, err = s.List(context.Background(), "bkt", pull.ListQuery{Delimiter: "\xff", After: "\xff", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, p.Objects)
	assert.Empty(t, p.Prefixes)
	assert.False(t, p.Truncated)
}

// Only committed objects are listed: not one being written, aborted, or
// whose commit was refused, in a bucket with objects or without; a
// bucket that only ever had such uploads is not a bucket.
func TestListShowsOnlyCommittedObjects(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	put(t, s, "bkt", "committed", "v")
	for _, b := range []string{"bkt", "pending"} {
		writing, err := s.Create(ctx, b, "writing")
		require.NoError(t, err)
		defer writing.Abort()
		_, _ = io.WriteString(writing, "half")
		aborted, err := s.Create(ctx, b, "aborted")
		require.NoError(t, err)
		_, _ = io.WriteString(aborted, "half")
		aborted.Abort()
		refused, err := s.Create(ctx, b, "refused")
		require.NoError(t, err)
		_, _ = io.WriteString(refused, "abc")
		require.Error(t, refused.Commit(ctx, pull.ObjectInfo{Size: 4}))
		refused.Abort()
	}
	assert.Equal(t, []string{"committed"}, listKeys(t, s, "bkt", pull.ListQuery{}))
	assert.Empty(t, listKeys(t, s, "pending", pull.ListQuery{}))
	assert.Empty(t, listKeys(t, s, "never-written", pull.ListQuery{}))
	_, err = os.Stat(filepath.Join(s.root.Name(), logPath("never-written")))
	assert.ErrorIs(t, err, os.ErrNotExist, "a bucket never written to gets no index")
	buckets, err := s.Buckets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"bkt"}, buckets)
	_, err = s.List(ctx, "Bad_Bucket", pull.ListQuery{Limit: 1})
	assert.Error(t, err)
}

// Buckets are those with a committed object or a configuration, sorted,
// once each; a read policy alone makes none, as it does not for
// HeadBucket.
func TestBuckets(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	buckets, err := s.Buckets(ctx)
	require.NoError(t, err)
	assert.Empty(t, buckets)
	put(t, s, "zeta", "k", "v")
	put(t, s, "alpha", "k", "v")
	require.NoError(t, s.PutConfig(ctx, "alpha", mirror.FormatNative, []byte(`{}`)))
	require.NoError(t, s.PutConfig(ctx, "config-only", mirror.FormatNative, []byte(`{}`)))
	require.NoError(t, s.PutPolicy(ctx, "policy-only", bucketconfig.PublicRead))
	writing, err := s.Create(ctx, "writing-only", "k")
	require.NoError(t, err)
	defer writing.Abort()
	buckets, err = s.Buckets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"alpha", "config-only", "zeta"}, buckets)
	require.NoError(t, s.DeleteConfig(ctx, "config-only"))
	buckets, err = s.Buckets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"alpha", "zeta"}, buckets)
}

// A directory of a release without key indexes lists whole: Open writes
// no index, and the first listing of each bucket builds one.
func TestListsADataDirectoryOfTheLastRelease(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/datadir-v0")))
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	_, err = os.Stat(filepath.Join(dir, logPath("old-bucket")))
	require.ErrorIs(t, err, os.ErrNotExist, "Open scans nothing")
	objects, _ := listAll(t, s, "old-bucket", pull.ListQuery{})
	var keys []string
	for _, o := range objects {
		keys = append(keys, o.Key)
	}
	assert.Equal(t, []string{"a/../../x", "docs/a.txt", "empty", "img/日本 a+b.png"}, keys)
	assert.Equal(t, "3093c07c682b01f313af7311154f2853", objects[1].Info.ETag)
	assert.Equal(t, int64(len("hello from the old site\n")), objects[1].Info.Size)
	assert.Equal(t, "COLD", objects[3].Info.StorageClass)
	_, err = os.Stat(filepath.Join(dir, logPath("old-bucket")))
	assert.NoError(t, err, "the listing built the index")
	assert.Equal(t, []string{"k"}, listKeys(t, s, "other-bucket", pull.ListQuery{}))
	buckets, err := s.Buckets(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"auto-bucket", "native-bucket", "old-bucket", "other-bucket"}, buckets)
}
