package dirstore

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deletion contract (internal/storetest), with each -fsync mode, and
// with a size cap too.
func TestDeleterContract(t *testing.T) {
	for _, o := range []Options{{}, {Fsync: FsyncNone}, {MaxSize: 1 << 40}} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			s, err := OpenWith(t.TempDir(), o)
			require.NoError(t, err)
			defer s.Close()
			require.NoError(t, storetest.TestDeleter(s))
		})
	}
}

// A deletion is a record of the key index: another store on the same
// directory lists without the key, and so does a log read whole again.
func TestADeletionIsInTheKeyIndex(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(dir)
	require.NoError(t, err)
	defer b.Close()
	ctx := context.Background()
	for _, k := range []string{"k1", "k2", "k3"} {
		require.NoError(t, storetest.Put(ctx, a, "bkt", k, "data", pull.ObjectInfo{ETag: "e"}))
	}
	assert.Equal(t, []string{"k1", "k2", "k3"}, listKeys(t, b, "bkt", pull.ListQuery{}))
	require.NoError(t, a.Delete(ctx, "bkt", "k2"))
	assert.Equal(t, []string{"k1", "k3"}, listKeys(t, b, "bkt", pull.ListQuery{}), "the other store reads the deletion")
	c, err := Open(dir)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, []string{"k1", "k3"}, listKeys(t, c, "bkt", pull.ListQuery{}), "a log read whole")
	log, err := os.ReadFile(logFile(a, "bkt"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(log), logMagic), "the log was appended to, not rebuilt")
}

// A key deleted between a commit's rename and its index write is not
// listed: the commit finds its name gone and appends the deletion after
// its own record.
func TestADeleteBetweenRenameAndIndexWrite(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	require.NoError(t, storetest.Put(ctx, s, "bkt", "other", "x", pull.ObjectInfo{ETag: "e"}))
	require.Equal(t, []string{"other"}, listKeys(t, s, "bkt", pull.ListQuery{}))
	once := false
	defer setAfterRenameHook(func() {
		if !once {
			once = true
			require.NoError(t, s.Delete(ctx, "bkt", "k"))
		}
	})()
	require.NoError(t, storetest.Put(ctx, s, "bkt", "k", "data", pull.ObjectInfo{ETag: "e"}))
	_, _, err = storetest.Get(ctx, s, "bkt", "k")
	require.ErrorIs(t, err, pull.ErrNotFound)
	assert.Equal(t, []string{"other"}, listKeys(t, s, "bkt", pull.ListQuery{}))
}

// objectBytes is the bytes of the object files under dir (no temporary
// file): what a cap bounds.
func objectBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	}))
	return n
}

// The store stays under its cap while three times its size is pulled
// through it: after each commit has settled (the evictor has run), the
// object files take at most the cap, and the objects used recently
// survive while older ones go.
func TestTheStoreStaysUnderItsCap(t *testing.T) {
	const objSize = 10 << 10
	const capBytes = 200 << 10 // about 19 objects with their trailers
	dir := t.TempDir()
	s, err := OpenWith(dir, Options{MaxSize: capBytes})
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	data := strings.Repeat("x", objSize)
	put := func(k string) {
		require.NoError(t, storetest.Put(ctx, s, "bkt", k, data, pull.ObjectInfo{ETag: "e"}))
	}
	hot := []string{"hot-0", "hot-1", "hot-2"}
	for _, k := range hot {
		put(k)
	}
	pulled := int64(0)
	for i := 0; pulled < 3*capBytes; i++ {
		put(fmt.Sprintf("k%03d", i))
		pulled += objSize
		for _, k := range hot { // used after every commit: the most recent
			obj, err := s.Open(ctx, "bkt", k)
			require.NoError(t, err, "a hot object was evicted")
			obj.Close()
		}
		s.settleEvictions()
		used, _ := s.Usage()
		require.LessOrEqual(t, objectBytes(t, dir), int64(capBytes), "after commit %d", i)
		require.Equal(t, objectBytes(t, dir), used, "the tracked bytes are the files'")
	}
	_, evictions := s.Usage()
	assert.Greater(t, evictions, int64(30))
	_, _, err = storetest.Get(ctx, s, "bkt", "k000")
	assert.ErrorIs(t, err, pull.ErrNotFound, "the oldest object is gone")
	got, _, err := storetest.Get(ctx, s, "bkt", "k059")
	assert.NoError(t, err, "the newest object is there")
	assert.Equal(t, data, got)
	keys := listKeys(t, s, "bkt", pull.ListQuery{})
	assert.Less(t, len(keys), 21, "the listing drops the evicted keys")
	assert.Subset(t, keys, hot)
	for _, k := range keys {
		_, _, err := storetest.Get(ctx, s, "bkt", k)
		assert.NoError(t, err, "a listed key is stored: %s", k)
	}
}

// A store opened over a directory already past its cap evicts down to it,
// the files used longest ago first.
func TestAStoreOpenedOverItsCapEvictsTheOldest(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	ctx := context.Background()
	data := strings.Repeat("x", 10<<10)
	old := time.Now().Add(-time.Hour)
	for i := range 10 {
		k := fmt.Sprintf("k%d", i)
		require.NoError(t, storetest.Put(ctx, s, "bkt", k, data, pull.ObjectInfo{ETag: "e"}))
		_, name, err := objectPath("bkt", k)
		require.NoError(t, err)
		at := old.Add(time.Duration(i) * time.Minute)
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), at, at))
	}
	require.NoError(t, s.Close())
	s, err = OpenWith(dir, Options{MaxSize: 55 << 10})
	require.NoError(t, err)
	defer s.Close()
	s.settleEvictions()
	assert.LessOrEqual(t, objectBytes(t, dir), int64(55<<10))
	for i := range 10 {
		_, _, err := storetest.Get(ctx, s, "bkt", fmt.Sprintf("k%d", i))
		if i < 5 {
			assert.ErrorIs(t, err, pull.ErrNotFound, "k%d, used longest ago", i)
		} else {
			assert.NoError(t, err, "k%d", i)
		}
	}
}
