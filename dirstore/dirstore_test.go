package dirstore

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/internal/tmpfile"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeFiles lists the regular files under dir, relative to it, but for
// the key index (index/: the live file of an open store, the logs), a
// cache beside the objects that index_test.go checks.
func storeFiles(t *testing.T, dir string) []string {
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == filepath.Join(dir, "index") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	}))
	return files
}

func put(t testing.TB, s *Store, bucket, key, data string) {
	require.NoError(t, storetest.Put(context.Background(), s, bucket, key, data, pull.ObjectInfo{ETag: "e"}))
}

func get(t testing.TB, s *Store, bucket, key string) (string, error) {
	data, _, err := storetest.Get(context.Background(), s, bucket, key)
	return data, err
}

// The contract every store keeps (internal/storetest): round trip,
// metadata, hostile keys, atomic commits, bucket names, configurations.
// TestDirStoreBucketNames and the round-trip and concurrency halves of
// TestDirStoreHostileKeys and TestDirStoreCommitsAtomically went there.
func TestStoreContract(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, storetest.TestStore(s))
	require.NoError(t, storetest.TestConfigStore(s))
}

// No key escapes the store directory, and every key keeps its own object.
func TestDirStoreHostileKeys(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	for i, k := range storetest.HostileKeys {
		put(t, s, "bkt", k, fmt.Sprint("object ", i))
	}
	for i, k := range storetest.HostileKeys {
		got, err := get(t, s, "bkt", k)
		require.NoError(t, err, "%q", k)
		assert.Equal(t, fmt.Sprint("object ", i), got, "%q", k)
	}
	name := regexp.MustCompile(`^objects/bkt/[0-9a-f]{2}/[0-9a-f]{64}$`)
	files := storeFiles(t, dir)
	assert.Len(t, files, len(storetest.HostileKeys))
	for _, f := range files {
		assert.Regexp(t, name, f)
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing was written beside the store")
}

// A link planted inside the store can not lead a write outside it.
func TestDirStoreRefusesLinksOut(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.Mkdir(outside, 0o755))
	dir := filepath.Join(parent, "store")
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	d, _, err := objectPath("bkt", "k")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(d)), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, d)))
	_, err = s.Create(context.Background(), "bkt", "k")
	assert.Error(t, err)
	entries, _ := os.ReadDir(outside)
	assert.Empty(t, entries)
}

// A commit is all or nothing on disk too: an aborted upload leaves no
// file, and twenty writers of one key leave one file and no temporary one
// (the readers' side of it is in the store contract).
func TestDirStoreCommitsAtomically(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()

	up, err := s.Create(ctx, "bkt", "k")
	require.NoError(t, err)
	_, _ = io.WriteString(up, "half")
	up.Abort()
	assert.Empty(t, storeFiles(t, dir), "an aborted upload leaves no file")

	versions := []string{strings.Repeat("b", 200000), strings.Repeat("c", 100000)}
	var writers sync.WaitGroup
	for i := 0; i < 20; i++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			put(t, s, "bkt", "k", versions[i%2])
		}()
	}
	writers.Wait()
	got, err := get(t, s, "bkt", "k")
	require.NoError(t, err)
	assert.Contains(t, versions, got)
	assert.Len(t, storeFiles(t, dir), 1, "no temporary file is left")
}

// FuzzDirStoreKey: any key is stored under a hashed name inside the
// store, and read back as itself.
func FuzzDirStoreKey(f *testing.F) {
	for _, k := range storetest.HostileKeys {
		f.Add(k)
	}
	dir := f.TempDir()
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	name := regexp.MustCompile(`^objects/bkt/[0-9a-f]{2}/[0-9a-f]{64}$`)
	f.Fuzz(func(t *testing.T, key string) {
		put(t, s, "bkt", key, "v:"+key)
		got, err := get(t, s, "bkt", key)
		if err != nil || got != "v:"+key {
			t.Fatalf("key %q read back %q, %v", key, got, err)
		}
		d, p, err := objectPath("bkt", key)
		if err != nil || !name.MatchString(p) || !strings.HasPrefix(p, d+"/") {
			t.Fatalf("key %q maps to %q", key, p)
		}
	})
}

// Issue 16, finding 6: a gateway killed mid-write left its .tmp- files
// for ever. Opening the store removes those no process holds, and keeps
// the one a running writer (another gateway on the directory) holds.
func TestStaleTempFilesAreSwept(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	<-s.swept // its own sweep is over: the files planted below are the second's to find
	held, err := s.Create(context.Background(), "bkt", "being-written")
	require.NoError(t, err)
	defer held.Abort()
	_, _ = io.WriteString(held, "half")
	// What kill -9 leaves: temporary files nobody holds.
	d, _, err := objectPath("bkt", "k")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, d, ".tmp-0123456789abcdef"), []byte("left"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "config"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config", ".tmp-0123456789abcdef"), []byte("left"), 0o644))
	old := time.Now().Add(-2 * tmpfile.MinAge)
	for _, f := range []string{filepath.Join(dir, d, ".tmp-0123456789abcdef"), filepath.Join(dir, "config", ".tmp-0123456789abcdef")} {
		require.NoError(t, os.Chtimes(f, old, old))
	}
	require.Len(t, storeFiles(t, dir), 3)

	second, err := Open(dir) // another gateway, or this one restarted
	require.NoError(t, err)
	<-second.swept
	require.NoError(t, second.Close())
	files := storeFiles(t, dir)
	assert.Len(t, files, 1, "only the held file is left: %v", files)
	require.NoError(t, held.Commit(context.Background(), pull.ObjectInfo{Size: 4, ETag: "e"}), "the held write still commits")
	got, err := get(t, s, "bkt", "being-written")
	require.NoError(t, err)
	assert.Equal(t, "half", got)
	require.NoError(t, s.Close())
}
