package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileKeys are keys an engine may accept that a naive store would map
// outside its directory, onto each other, or onto names a filesystem
// refuses.
var hostileKeys = []string{
	"a/../../x", "../../../etc/passwd", "..%2F..", "/abs", "a//b", "x", "x/", "x/y", "CON", "con.txt", "NUL", "aux",
	"COM1", "LPT1.log", "a\\..\\b", ".", "..", "...", " ", "a ", "trailing.", strings.Repeat("k", 1024),
	strings.Repeat("日", 341), "é", "e\u0301", ".tmp-0000", "objects", "a:b", "a*b?c", "<>|\"", "\u202egnp.exe",
	strings.Repeat("a/", 512),
}

// storeFiles lists the regular files under dir, relative to it.
func storeFiles(t *testing.T, dir string) []string {
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	}))
	return files
}

func put(t testing.TB, s Store, bucket, key, data string) {
	up, err := s.Create(context.Background(), bucket, key)
	require.NoError(t, err)
	_, err = io.WriteString(up, data)
	require.NoError(t, err)
	require.NoError(t, up.Commit(context.Background(), ObjectInfo{Size: int64(len(data)), ETag: "e"}))
	up.Abort()
}

func get(t testing.TB, s Store, bucket, key string) (string, error) {
	obj, err := s.Open(context.Background(), bucket, key)
	if err != nil {
		return "", err
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	return string(b), err
}

// No key escapes the store directory, and every key keeps its own object.
func TestDirStoreHostileKeys(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s, err := OpenDirStore(dir)
	require.NoError(t, err)
	defer s.Close()
	for i, k := range hostileKeys {
		put(t, s, "bkt", k, fmt.Sprint("object ", i))
	}
	for i, k := range hostileKeys {
		got, err := get(t, s, "bkt", k)
		require.NoError(t, err, "%q", k)
		assert.Equal(t, fmt.Sprint("object ", i), got, "%q", k)
	}
	name := regexp.MustCompile(`^objects/bkt/[0-9a-f]{2}/[0-9a-f]{64}$`)
	files := storeFiles(t, dir)
	assert.Len(t, files, len(hostileKeys))
	for _, f := range files {
		assert.Regexp(t, name, f)
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing was written beside the store")
}

// Bucket names are checked before they name a directory.
func TestDirStoreBucketNames(t *testing.T) {
	s, err := OpenDirStore(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	for _, b := range []string{"..", "../x", "a", "Ab-c", "a_b", "-ab", "ab-", "a/b", "", strings.Repeat("a", 64)} {
		_, err := s.Create(context.Background(), b, "k")
		assert.Error(t, err, "%q", b)
		_, err = s.Open(context.Background(), b, "k")
		assert.Error(t, err, "%q", b)
		has, _ := s.HasObjects(context.Background(), b)
		assert.False(t, has)
	}
}

// A link planted inside the store can not lead a write outside it.
func TestDirStoreRefusesLinksOut(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.Mkdir(outside, 0o755))
	dir := filepath.Join(parent, "store")
	s, err := OpenDirStore(dir)
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

// A commit is all or nothing: readers see the old object or the new one
// whole, two writers of one key leave one whole object, and an aborted
// upload leaves nothing.
func TestDirStoreCommitsAtomically(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenDirStore(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()

	up, err := s.Create(ctx, "bkt", "k")
	require.NoError(t, err)
	_, _ = io.WriteString(up, "half")
	_, err = s.Open(ctx, "bkt", "k")
	assert.ErrorIs(t, err, ErrNotFound, "nothing is visible before the commit")
	up.Abort()
	assert.Empty(t, storeFiles(t, dir), "an aborted upload leaves no file")

	versions := []string{strings.Repeat("a", 300000), strings.Repeat("b", 200000), strings.Repeat("c", 100000)}
	put(t, s, "bkt", "k", versions[0])
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var torn []string
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := get(t, s, "bkt", "k")
			if err == nil && got != versions[0] && got != versions[1] && got != versions[2] {
				mu.Lock()
				torn = append(torn, fmt.Sprintf("%d bytes", len(got)))
				mu.Unlock()
			}
		}
	}()
	var writers sync.WaitGroup
	for i := 0; i < 20; i++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			put(t, s, "bkt", "k", versions[1+i%2])
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	assert.Empty(t, torn, "no reader saw a mix")
	got, err := get(t, s, "bkt", "k")
	require.NoError(t, err)
	assert.Contains(t, versions[1:], got)
	assert.Len(t, storeFiles(t, dir), 1, "no temporary file is left")

	// A commit that does not match what was written is refused.
	up, err = s.Create(ctx, "bkt", "short")
	require.NoError(t, err)
	_, _ = io.WriteString(up, "abc")
	assert.Error(t, up.Commit(ctx, ObjectInfo{Size: 4}))
	_, err = s.Open(ctx, "bkt", "short")
	assert.True(t, errors.Is(err, ErrNotFound))
}

// FuzzDirStoreKey: any key is stored under a hashed name inside the
// store, and read back as itself.
func FuzzDirStoreKey(f *testing.F) {
	for _, k := range hostileKeys {
		f.Add(k)
	}
	dir := f.TempDir()
	s, err := OpenDirStore(dir)
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
