package storetest

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The buckets TestLister writes. listBucket is a prefix of listOther's
// name, so that a store that lists by name prefix leaks one into the
// other.
const (
	listBucket  = "storetest-list"
	listOther   = "storetest-list-other"
	listEmpty   = "storetest-list-empty"
	listPending = "storetest-list-pending"
	listHashed  = "storetest-list-odd"
	listConfig  = "storetest-list-config"
)

// ListKeys are the keys TestLister lists: HostileKeys, and keys whose byte
// order differs from a walk of a directory tree ("a-c" and "a.b" sort
// before "a/b", "x/" before "x0"), segments that are empty or only
// slashes, and the delimiters of its queries ("::", "本").
var ListKeys = dedupe(append([]string{
	"a", "a b", "a-c", "a.b", "a/b", "a/b/c", "a/../b", "a/./b", "x", "x/", "x/y", "x/y/z", "x0", "x/y/", "/", "//",
	"日本/語", "日本語", "本", "k::v::w", "k::w", "k:v", "k:::", "z", "~", "\U0001F600/emoji",
}, HostileKeys...))

func dedupe(keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// listInfo is what TestLister commits as ListKeys[i]: sizes, ETags and
// storage classes differ from key to key; every other object has a
// LastModified of its own (whole seconds: HTTP dates carry no more), the
// rest the commit's time.
func listInfo(i int) (data string, info pull.ObjectInfo) {
	info = pull.ObjectInfo{ETag: fmt.Sprintf("etag-%d", i)}
	if i%2 == 0 {
		info.LastModified = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	if i%3 == 0 {
		info.StorageClass = "COLD"
	}
	return strings.Repeat("d", i*7), info
}

// listQueries are the queries TestLister walks, whole and in pages.
var listQueries = []struct {
	name string
	q    pull.ListQuery
}{
	{"all", pull.ListQuery{}},
	{"prefix a", pull.ListQuery{Prefix: "a"}},
	{"prefix a/", pull.ListQuery{Prefix: "a/"}},
	{"prefix x/", pull.ListQuery{Prefix: "x/"}},
	{"prefix unicode", pull.ListQuery{Prefix: "日本"}},
	{"prefix of nothing", pull.ListQuery{Prefix: "nothing/"}},
	{"prefix is a whole key", pull.ListQuery{Prefix: "x/y"}},
	{"delimiter /", pull.ListQuery{Delimiter: "/"}},
	{"delimiter / prefix a/", pull.ListQuery{Prefix: "a/", Delimiter: "/"}},
	{"delimiter / prefix x", pull.ListQuery{Prefix: "x", Delimiter: "/"}},
	{"delimiter / prefix /", pull.ListQuery{Prefix: "/", Delimiter: "/"}},
	{"delimiter / prefix d/d/", pull.ListQuery{Prefix: "d/d/", Delimiter: "/"}},
	{"delimiter ::", pull.ListQuery{Delimiter: "::"}},
	{"delimiter :: overlapping prefix k:", pull.ListQuery{Prefix: "k:", Delimiter: "::"}},
	{"delimiter 本", pull.ListQuery{Delimiter: "本"}},
	{"delimiter never found", pull.ListQuery{Delimiter: "#"}},
	{"after a key", pull.ListQuery{After: "a/b"}},
	{"after a key not stored", pull.ListQuery{After: "b"}},
	{"after everything", pull.ListQuery{After: "\U0010FFFF"}},
	{"after before the prefix", pull.ListQuery{Prefix: "x", After: "a"}},
	{"after past the prefix", pull.ListQuery{Prefix: "a", After: "b"}},
	{"after a key, delimiter /", pull.ListQuery{Delimiter: "/", After: "a"}},
	{"after a common prefix", pull.ListQuery{Delimiter: "/", After: "x/"}},
	{"after a common prefix with a prefix", pull.ListQuery{Prefix: "a", Delimiter: "/", After: "a/"}},
	{"after a common prefix of ::", pull.ListQuery{Delimiter: "::", After: "k::"}},
	{"after inside a common prefix", pull.ListQuery{Delimiter: "/", After: "x/y"}},
	{"after / is a common prefix", pull.ListQuery{Delimiter: "/", After: "/"}},
}

// WantList is the whole listing pull.ListQuery defines (its Limit aside)
// of a bucket holding keys: object keys and common prefixes, each in byte
// order.
func WantList(keys []string, q pull.ListQuery) (objects, prefixes []string) {
	for _, k := range slices.Sorted(slices.Values(dedupe(keys))) {
		rest, ok := strings.CutPrefix(k, q.Prefix)
		if !ok {
			continue
		}
		if i := strings.Index(rest, q.Delimiter); q.Delimiter != "" && i >= 0 {
			// Keys sharing a common prefix are adjacent in byte order.
			p := k[:len(q.Prefix)+i+len(q.Delimiter)]
			if p > q.After && (len(prefixes) == 0 || prefixes[len(prefixes)-1] != p) {
				prefixes = append(prefixes, p)
			}
			continue
		}
		if k > q.After {
			objects = append(objects, k)
		}
	}
	return objects, prefixes
}

// walkList lists q page by page, checking each page against the
// contract: at most Limit entries, each in order and after the page's
// After, and when Truncated, Next the page's last key or common prefix. A
// store may end a page short of Limit, but a truncated page is never
// empty (Next names its last entry).
func walkList(t *testing.T, l pull.Lister, bucket string, q pull.ListQuery) (objects []pull.ListEntry, prefixes []string) {
	t.Helper()
	ctx := context.Background()
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "the listing never ends")
		p, err := l.List(ctx, bucket, q)
		require.NoError(t, err, "List(%q, %+v)", bucket, q)
		require.LessOrEqual(t, len(p.Objects)+len(p.Prefixes), q.Limit, "a page holds at most Limit entries (%+v)", q)
		keys := make([]string, len(p.Objects))
		for i, o := range p.Objects {
			keys[i] = o.Key
		}
		for _, entries := range [][]string{keys, p.Prefixes} {
			require.True(t, slices.IsSorted(entries) && len(slices.Compact(slices.Clone(entries))) == len(entries),
				"a page's entries are in byte order, once each: %q (%+v)", readable(entries), q)
			if len(entries) > 0 {
				require.Greater(t, entries[0], q.After, "a page holds only entries after After (%+v)", q)
			}
		}
		objects, prefixes = append(objects, p.Objects...), append(prefixes, p.Prefixes...)
		if !p.Truncated {
			return objects, prefixes
		}
		require.NotZero(t, len(keys)+len(p.Prefixes), "a truncated page holds an entry (%+v)", q)
		last := ""
		if len(keys) > 0 {
			last = keys[len(keys)-1]
		}
		if len(p.Prefixes) > 0 {
			last = max(last, p.Prefixes[len(p.Prefixes)-1])
		}
		require.Equal(t, last, p.Next, "Next is the page's last key or common prefix (%+v)", q)
		q.After = p.Next
	}
}

func entryKeys(entries []pull.ListEntry) []string {
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	return keys
}

// readable shortens the long keys of a list, so that a failure shows
// which keys differ in a screenful: a long key keeps its start, its
// length and a checksum of the rest.
func readable(keys []string) []string {
	var out []string
	for _, k := range keys {
		if len(k) > 40 {
			n := 32
			for !utf8.RuneStart(k[n]) {
				n--
			}
			k = fmt.Sprintf("%s…(%d bytes, %08x)", k[:n], len(k), crc32.ChecksumIEEE([]byte(k)))
		}
		out = append(out, k)
	}
	return out
}

// TestLister holds s, which must also be a pull.Lister, to the listing
// contract of pull/list.go: only committed objects, each with its Size,
// ETag, LastModified and StorageClass as committed (and as Open reads
// them); keys in byte order, the odd ones of ListKeys among them; Prefix,
// Delimiter (one byte and several), After (a key, and a common prefix
// whose keys it skips); pages of any Limit that, walked by Next, add up to
// the whole listing; an empty bucket an empty page; no other bucket's
// objects; Buckets sorted, with the buckets that hold objects or (when s
// is a bucketconfig.Store) only a configuration. It uses buckets whose
// names start with "storetest-list".
func TestLister(t *testing.T, s pull.Store) {
	t.Helper()
	l, ok := s.(pull.Lister)
	require.Truef(t, ok, "storetest: %T is not a pull.Lister", s)
	ctx := context.Background()

	infos := map[string]pull.ObjectInfo{}
	for i, k := range ListKeys {
		data, info := listInfo(i)
		require.NoError(t, Put(ctx, s, listBucket, k, data, info), "commit %q", k)
		info.Size = int64(len(data))
		infos[k] = info
	}
	for _, k := range ListKeys[:10] {
		require.NoError(t, Put(ctx, s, listOther, k+"-other", "other", pull.ObjectInfo{ETag: "other"}))
	}
	require.NoError(t, Put(ctx, s, listOther, "0-other", "other", pull.ObjectInfo{ETag: "other"}))
	require.NoError(t, Put(ctx, s, listHashed, "//", "odd", pull.ObjectInfo{ETag: "odd"}))
	// An upload being written, one aborted, one refused: never listed.
	for _, b := range []string{listBucket, listPending} {
		writing, err := s.Create(ctx, b, "pending")
		require.NoError(t, err)
		defer writing.Abort()
		_, err = io.WriteString(writing, "half")
		require.NoError(t, err)
		aborted, err := s.Create(ctx, b, "aborted")
		require.NoError(t, err)
		_, err = io.WriteString(aborted, "half")
		require.NoError(t, err)
		aborted.Abort()
		refused, err := s.Create(ctx, b, "refused")
		require.NoError(t, err)
		_, err = io.WriteString(refused, "abc")
		require.NoError(t, err)
		require.Error(t, refused.Commit(ctx, pull.ObjectInfo{Size: 4}))
		refused.Abort()
	}

	t.Run("entries", func(t *testing.T) {
		objects, _ := walkList(t, l, listBucket, pull.ListQuery{Limit: 1000})
		require.Equal(t, readable(slices.Sorted(slices.Values(ListKeys))), readable(entryKeys(objects)))
		for _, o := range objects {
			want := infos[o.Key]
			assert.Equal(t, want.Size, o.Info.Size, "Size of %q", o.Key)
			assert.Equal(t, want.ETag, o.Info.ETag, "ETag of %q", o.Key)
			assert.Equal(t, want.StorageClass, o.Info.StorageClass, "StorageClass of %q", o.Key)
			_, opened, err := Get(ctx, s, listBucket, o.Key)
			require.NoError(t, err, o.Key)
			if !want.LastModified.IsZero() {
				assert.True(t, want.LastModified.Equal(o.Info.LastModified), "LastModified of %q: listed %v, committed %v",
					o.Key, o.Info.LastModified, want.LastModified)
			} else {
				assert.WithinDuration(t, time.Now(), o.Info.LastModified, time.Hour, "LastModified of %q is its commit's", o.Key)
			}
			// HTTP dates have whole seconds, a listing's may have more.
			assert.True(t, opened.LastModified.Truncate(time.Second).Equal(o.Info.LastModified.Truncate(time.Second)),
				"LastModified of %q: listed %v, opened %v", o.Key, o.Info.LastModified, opened.LastModified)
		}
	})

	t.Run("queries", func(t *testing.T) {
		for _, c := range listQueries {
			t.Run(c.name, func(t *testing.T) {
				wantObjects, wantPrefixes := WantList(ListKeys, c.q)
				for _, limit := range []int{1000, 1, 3} {
					q := c.q
					q.Limit = limit
					objects, prefixes := walkList(t, l, listBucket, q)
					assert.Equal(t, readable(wantObjects), readable(entryKeys(objects)), "objects, in pages of %d", limit)
					assert.Equal(t, readable(wantPrefixes), readable(prefixes), "common prefixes, in pages of %d", limit)
				}
			})
		}
	})

	t.Run("a limit over 1000", func(t *testing.T) {
		objects, _ := walkList(t, l, listBucket, pull.ListQuery{Limit: 5000})
		assert.Equal(t, readable(slices.Sorted(slices.Values(ListKeys))), readable(entryKeys(objects)))
	})

	t.Run("empty buckets", func(t *testing.T) {
		for _, b := range []string{listEmpty, listPending} {
			for _, q := range []pull.ListQuery{{Limit: 1000}, {Delimiter: "/", Limit: 1}, {Prefix: "p", After: "a", Limit: 2}} {
				p, err := l.List(ctx, b, q)
				require.NoError(t, err, "an empty bucket is no error")
				assert.Empty(t, p.Objects, b)
				assert.Empty(t, p.Prefixes, b)
				assert.False(t, p.Truncated, b)
			}
		}
	})

	t.Run("other buckets never leak in", func(t *testing.T) {
		objects, _ := walkList(t, l, listOther, pull.ListQuery{Limit: 1000})
		for _, o := range objects {
			assert.True(t, strings.HasSuffix(o.Key, "-other"), "listed %q of another bucket", o.Key)
		}
		assert.Len(t, objects, 11)
		odd, _ := walkList(t, l, listHashed, pull.ListQuery{Limit: 1000})
		assert.Equal(t, []string{"//"}, entryKeys(odd))
	})

	t.Run("committed before List began", func(t *testing.T) {
		_, before := walkList(t, l, listBucket, pull.ListQuery{Prefix: "late/", Delimiter: "/", Limit: 1000})
		assert.Empty(t, before)
		require.NoError(t, Put(ctx, s, listBucket, "late/k", "late", pull.ObjectInfo{ETag: "late"}))
		objects, _ := walkList(t, l, listBucket, pull.ListQuery{Prefix: "late/", Limit: 1000})
		require.Equal(t, []string{"late/k"}, entryKeys(objects))
		assert.Equal(t, "late", objects[0].Info.ETag)
		_, prefixes := walkList(t, l, listBucket, pull.ListQuery{Prefix: "late", Delimiter: "/", Limit: 1000})
		assert.Equal(t, []string{"late/"}, prefixes)
	})

	t.Run("buckets", func(t *testing.T) {
		want := []string{listBucket, listOther, listHashed}
		if cs, ok := s.(bucketconfig.Store); ok {
			require.NoError(t, cs.PutConfig(ctx, listConfig, mirror.FormatNative, []byte(`{}`)))
			want = append(want, listConfig)
		}
		buckets, err := l.Buckets(ctx)
		require.NoError(t, err)
		assert.True(t, slices.IsSorted(buckets), "sorted: %q", buckets)
		assert.Equal(t, len(buckets), len(slices.Compact(slices.Clone(buckets))), "once each: %q", buckets)
		for _, b := range want {
			assert.Contains(t, buckets, b)
		}
		for _, b := range []string{listEmpty, listPending} {
			assert.NotContains(t, buckets, b, "a bucket with no committed object and no configuration")
		}
	})
}
