package dirstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cacheAtOnce lets Open cache the metadata of files however young (see
// cacheable), until the test ends.
func cacheAtOnce(t *testing.T) {
	fine, coarse := fineTimeMargin, coarseTimeMargin
	fineTimeMargin, coarseTimeMargin = -time.Hour, -time.Hour
	t.Cleanup(func() { fineTimeMargin, coarseTimeMargin = fine, coarse })
}

func needsMetaCache(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the metadata cache is used on Linux only")
	}
}

// putInfo commits data under key with its MD5 as ETag and a header.
func putInfo(t testing.TB, s *Store, key, data, cacheControl string) pull.ObjectInfo {
	sum := md5.Sum([]byte(data))
	info := pull.ObjectInfo{ETag: hex.EncodeToString(sum[:]), Header: http.Header{"Cache-Control": {cacheControl}},
		LastModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	require.NoError(t, storetest.Put(context.Background(), s, "bkt", key, data, info))
	info.Size = int64(len(data))
	return info
}

func objFile(t *testing.T, s *Store, key string) string {
	_, name, err := objectPath("bkt", key)
	require.NoError(t, err)
	return filepath.Join(s.root.Name(), name)
}

// A hit decodes no metadata: the trailer is read and decoded by the first
// Open of a file, and every later Open of it takes the cached entry.
func TestAHitDecodesNoMetadata(t *testing.T) {
	needsMetaCache(t)
	cacheAtOnce(t)
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	want := putInfo(t, s, "k", "hello", "max-age=60")
	for range 100 {
		data, info, err := storetest.Get(context.Background(), s, "bkt", "k")
		require.NoError(t, err)
		require.Equal(t, "hello", data)
		require.Equal(t, want.ETag, info.ETag)
		require.Equal(t, want.Header, info.Header)
		require.True(t, want.LastModified.Equal(info.LastModified))
	}
	assert.Equal(t, int64(1), s.rd.decodes.Load(), "one decode for 100 opens")
	assert.Equal(t, 1, s.rd.meta.len())

	// What a hit allocates: its path, the name fstatat is given, the
	// bytes' reader and the object; no metadata, no file.
	allocs := testing.AllocsPerRun(200, func() {
		obj, err := s.Open(context.Background(), "bkt", "k")
		if err != nil {
			panic(err)
		}
		obj.Close()
	})
	t.Logf("%.0f allocations per Open", allocs)
	assert.LessOrEqual(t, allocs, 5.0)
	assert.Equal(t, int64(1), s.rd.decodes.Load())
}

// A young file is decoded on every Open until its ctime is past the
// timestamps' grain: a later file that takes its inode back must not find
// its entry.
func TestCacheable(t *testing.T) {
	now := time.Unix(1700000000, 500_000_000)
	fine := fileID{known: true, ctime: now.Add(-5 * time.Millisecond).UnixNano(), mtime: now.Add(-6 * time.Millisecond).UnixNano()}
	assert.False(t, cacheable(fine, now), "younger than a clock tick")
	fine.ctime = now.Add(-time.Second).UnixNano()
	assert.True(t, cacheable(fine, now))
	coarse := fileID{known: true, ctime: time.Unix(1700000000, 0).UnixNano(), mtime: time.Unix(1699999999, 0).UnixNano()}
	assert.False(t, cacheable(coarse, now), "whole seconds: two of them")
	assert.True(t, cacheable(coarse, now.Add(2*time.Second)))
	assert.False(t, cacheable(fileID{ctime: 1}, now), "no identity, no cache")
	future := fileID{known: true, ctime: now.Add(time.Minute).UnixNano() + 1}
	assert.False(t, cacheable(future, now), "a ctime ahead of the clock")
}

// A commit renames a new file over the name: the next Open, however many
// hits cached the old one, serves the new bytes with the new metadata.
func TestAHitAfterACommitServesTheNewObject(t *testing.T) {
	cacheAtOnce(t)
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	putInfo(t, s, "k", "version 1", "max-age=1")
	for range 3 {
		data, _, err := storetest.Get(context.Background(), s, "bkt", "k")
		require.NoError(t, err)
		require.Equal(t, "version 1", data)
	}
	// The same size, so only the file's identity tells them apart.
	v2 := putInfo(t, s, "k", "version 2", "max-age=2")
	data, info, err := storetest.Get(context.Background(), s, "bkt", "k")
	require.NoError(t, err)
	assert.Equal(t, "version 2", data)
	assert.Equal(t, v2.ETag, info.ETag)
	assert.Equal(t, "max-age=2", info.Header.Get("Cache-Control"))

	// A second store on the same directory (another gateway) commits:
	// this one's cache does not hide it.
	other, err := Open(s.root.Name())
	require.NoError(t, err)
	defer other.Close()
	v3 := putInfo(t, other, "k", "version 3", "max-age=3")
	data, info, err = storetest.Get(context.Background(), s, "bkt", "k")
	require.NoError(t, err)
	assert.Equal(t, "version 3", data)
	assert.Equal(t, v3.ETag, info.ETag)
}

// A file cut short or torn in place, after hits cached its metadata, is
// absent (pull.ErrNotFound: fetched again), never served from the cache.
func TestAFileDamagedInPlaceIsNotServed(t *testing.T) {
	cacheAtOnce(t)
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, damage := range []struct {
		name string
		do   func(t *testing.T, file string)
	}{
		{"cut short", func(t *testing.T, file string) {
			st, err := os.Stat(file)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(file, st.Size()-3))
		}},
		{"cut to its bytes", func(t *testing.T, file string) { require.NoError(t, os.Truncate(file, 10)) }},
		{"torn trailer", func(t *testing.T, file string) {
			f, err := os.OpenFile(file, os.O_WRONLY, 0)
			require.NoError(t, err)
			st, _ := f.Stat()
			_, err = f.WriteAt([]byte("\x00\x00\x00"), st.Size()-3) // the magic's end
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		{"torn metadata length", func(t *testing.T, file string) {
			f, err := os.OpenFile(file, os.O_WRONLY, 0)
			require.NoError(t, err)
			st, _ := f.Stat()
			_, err = f.WriteAt([]byte{0xff}, st.Size()-int64(dirTrailerLen))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
	} {
		t.Run(damage.name, func(t *testing.T) {
			key := "k-" + damage.name
			putInfo(t, s, key, "0123456789abcdef", "max-age=1")
			for range 2 {
				data, _, err := storetest.Get(ctx, s, "bkt", key)
				require.NoError(t, err)
				require.Equal(t, "0123456789abcdef", data)
			}
			damage.do(t, objFile(t, s, key))
			_, err := s.Open(ctx, "bkt", key)
			require.ErrorIs(t, err, pull.ErrNotFound)
			// Fetched again: the commit replaces the damaged file.
			putInfo(t, s, key, "fetched again", "max-age=2")
			data, _, err := storetest.Get(ctx, s, "bkt", key)
			require.NoError(t, err)
			assert.Equal(t, "fetched again", data)
		})
	}
}

// A file holding another key (a SHA-256 collision, or a file copied
// over) is not served, from the cache either.
func TestAHitChecksTheKey(t *testing.T) {
	cacheAtOnce(t)
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	putInfo(t, s, "a", "object a", "")
	putInfo(t, s, "b", "object b", "")
	_, _, err = storetest.Get(context.Background(), s, "bkt", "a") // cached
	require.NoError(t, err)
	// b's name made a hard link to a's file: the same inode.
	require.NoError(t, os.Remove(objFile(t, s, "b")))
	require.NoError(t, os.Link(objFile(t, s, "a"), objFile(t, s, "b")))
	_, err = s.Open(context.Background(), "bkt", "b")
	require.ErrorIs(t, err, pull.ErrNotFound)
	assert.Contains(t, err.Error(), `holds key "a", not "b"`)
}

// A fan-out directory removed and made anew under an open store (its
// objects removed by hand) is looked up anew: its handle is not kept
// pointing at the removed one.
func TestARemovedDirectoryIsOpenedAnew(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	putInfo(t, s, "k", "first", "")
	got, err := get(t, s, "bkt", "k")
	require.NoError(t, err)
	require.Equal(t, "first", got)
	require.NoError(t, os.RemoveAll(filepath.Join(s.root.Name(), "objects")))
	_, err = s.Open(context.Background(), "bkt", "k")
	require.ErrorIs(t, err, pull.ErrNotFound)
	putInfo(t, s, "k", "second", "")
	got, err = get(t, s, "bkt", "k")
	require.NoError(t, err)
	assert.Equal(t, "second", got)
}

// The cache holds at most metaCacheEntries entries and about
// metaCacheBytes of them, however many files it is given.
func TestTheMetadataCacheIsBounded(t *testing.T) {
	var c metaCache
	small := &metaEntry{key: "k", info: pull.ObjectInfo{ETag: "e"}}
	for i := range metaCacheEntries + metaCacheEntries/4 {
		c.put(fileID{ino: uint64(i), known: true}, small)
	}
	assert.LessOrEqual(t, c.len(), metaCacheEntries)
	assert.Greater(t, c.len(), metaCacheEntries*3/4, "a shard drops one entry at a time")
	last := fileID{ino: uint64(metaCacheEntries + metaCacheEntries/4 - 1), known: true}
	assert.Same(t, small, c.get(last), "the entry put last is there")

	var b metaCache
	big := &metaEntry{key: string(make([]byte, 1024)), info: pull.ObjectInfo{Header: http.Header{"Cache-Control": {string(make([]byte, 8<<10))}}}}
	for i := range 20000 {
		b.put(fileID{ino: uint64(i), known: true}, big)
	}
	total := 0
	for i := range b.shards {
		total += b.shards[i].bytes
	}
	assert.LessOrEqual(t, total, metaCacheBytes)
	assert.LessOrEqual(t, b.len()*big.cost(), metaCacheBytes)
	assert.Nil(t, b.get(fileID{ino: 1}), "an unknown identity is never looked up")
}

// Readers of a key being committed again and again each get a whole
// object whose bytes match the metadata they were given, cached or not.
func TestHitsRacingCommits(t *testing.T) {
	cacheAtOnce(t)
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	putInfo(t, s, "k", "version 0", "")
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				obj, err := s.Open(context.Background(), "bkt", "k")
				if !assert.NoError(t, err) {
					return
				}
				b, err := io.ReadAll(obj)
				info := obj.Info()
				obj.Close()
				sum := md5.Sum(b)
				if !assert.NoError(t, err) || !assert.Equal(t, info.ETag, hex.EncodeToString(sum[:]), "reader %d, read %d", r, i) {
					return
				}
			}
		}()
	}
	for i := range 100 {
		putInfo(t, s, "k", fmt.Sprintf("version %d%s", i, make([]byte, i%3)), "")
	}
	close(done)
	wg.Wait()
}

// A dirObject gives its file for sendfile: the object's bytes from offset
// 0, and a position that Seek keeps whatever the file's offset.
func TestADirObjectIsAFileObject(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	putInfo(t, s, "k", "0123456789", "")
	obj, err := s.Open(context.Background(), "bkt", "k")
	require.NoError(t, err)
	defer obj.Close()
	fo, ok := obj.(pull.FileObject)
	require.True(t, ok)
	f, base := fo.File()
	assert.Equal(t, int64(0), base)
	_, err = f.Seek(7, io.SeekStart)
	require.NoError(t, err)
	_, err = obj.Seek(3, io.SeekStart)
	require.NoError(t, err)
	b := make([]byte, 4)
	_, err = io.ReadFull(obj, b)
	require.NoError(t, err)
	assert.Equal(t, "3456", string(b), "the object reads at its own position")
	rest, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "789", string(rest[:3]), "the file's offset is the caller's")
}

// A small object's hits are served from the bytes the cache holds (no
// file is opened), a larger one's from its file; bytes rewritten in place
// change the file's identity, so a hit never serves the bytes the cache
// read before.
func TestSmallHitsAreServedFromTheCachedBytes(t *testing.T) {
	needsMetaCache(t)
	cacheAtOnce(t)
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	small := strings.Repeat("s", bodyCacheMax)
	putInfo(t, s, "small", small, "")
	putInfo(t, s, "large", small+"l", "")

	for range 3 {
		data, _, err := storetest.Get(ctx, s, "bkt", "small")
		require.NoError(t, err)
		require.Equal(t, small, data)
	}
	obj, err := s.Open(ctx, "bkt", "small")
	require.NoError(t, err)
	assert.IsType(t, &memObject{}, obj)
	obj.Close()
	obj, err = s.Open(ctx, "bkt", "large")
	require.NoError(t, err)
	assert.Implements(t, (*pull.FileObject)(nil), obj, "past bodyCacheMax, hits are sent from the file")
	obj.Close()
	assert.Equal(t, int64(2), s.rd.decodes.Load(), "one decode each")

	// Rewritten in place, same size, trailer intact: the new bytes.
	f, err := os.OpenFile(objFile(t, s, "small"), os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("rewritten"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	data, _, err := storetest.Get(ctx, s, "bkt", "small")
	require.NoError(t, err)
	assert.Equal(t, "rewritten"+small[len("rewritten"):], data)
}
