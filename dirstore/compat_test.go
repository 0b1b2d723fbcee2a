package dirstore

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A data directory written before the serving packages were reshaped
// (testdata/datadir-v0, made by testdata/mkfixture with pull.DirStore of
// commit 3615758) reads back whole: its objects, their metadata, and its
// configurations with the formats they were put in. The on-disk format
// did not change.
func TestOpensADataDirectoryOfTheLastRelease(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/datadir-v0")))
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()

	for _, c := range []struct {
		bucket, key, data, etag, class string
		header                         http.Header
	}{
		{"old-bucket", "docs/a.txt", "hello from the old site\n", "3093c07c682b01f313af7311154f2853", "",
			http.Header{"Content-Type": {"text/plain"}}},
		{"old-bucket", "img/日本 a+b.png", "\x89PNG fake", "", "COLD", http.Header{"Content-Type": {"image/png"},
			"Cache-Control": {"max-age=60"}, "Expires": {"0"}, "Content-Disposition": {`attachment; filename="日本.png"`}}},
		{"old-bucket", "a/../../x", "hostile", "", "", http.Header{}},
		{"old-bucket", "empty", "", "d41d8cd98f00b204e9800998ecf8427e", "", http.Header{"Content-Type": {"application/octet-stream"}}},
		{"other-bucket", "k", "gz bytes", "", "STANDARD_IA", http.Header{"Content-Encoding": {"gzip"}, "Content-Language": {"de"}}},
	} {
		data, info, err := storetest.Get(ctx, s, c.bucket, c.key)
		require.NoError(t, err, c.key)
		assert.Equal(t, c.data, data, c.key)
		assert.Equal(t, int64(len(c.data)), info.Size, c.key)
		assert.Len(t, info.ETag, 32, c.key)
		if c.etag != "" {
			assert.Equal(t, c.etag, info.ETag, c.key)
		}
		assert.Equal(t, c.class, info.StorageClass, c.key)
		assert.Equal(t, len(c.header), len(info.Header), c.key)
		for name := range c.header {
			assert.Equal(t, c.header.Get(name), info.Header.Get(name), "%s %s", c.key, name)
		}
		assert.Less(t, time.Since(info.LastModified), 10*365*24*time.Hour, c.key)
	}
	has, err := s.HasObjects(ctx, "old-bucket")
	require.NoError(t, err)
	assert.True(t, has)

	reg := &bucketconfig.Registry{Store: s}
	for bucket, want := range map[string]struct {
		format mirror.Format
		key    string
		url    string
	}{
		"old-bucket":    {mirror.FormatBOS, "k", "https://origin.example.com/k"},
		"other-bucket":  {mirror.FormatQingStor, "k", "https://qs-origin.example.com/base/k"},
		"native-bucket": {mirror.FormatNative, "v/k", "https://cdn.example.com/v/k"},
		"auto-bucket":   {mirror.FormatAuto, "k", "https://auto.example.com/k"},
	} {
		format, _, err := s.GetConfig(ctx, bucket)
		require.NoError(t, err, bucket)
		assert.Equal(t, want.format, format, bucket)
		eng, err := reg.Engine(ctx, bucket)
		require.NoError(t, err, bucket)
		require.NotNil(t, eng, bucket)
		d, err := eng.Resolve(&mirror.Request{Key: want.key})
		require.NoError(t, err, bucket)
		assert.Equal(t, []string{want.url}, d.URLs, bucket)
	}
}

// oldReleaseCommit commits key to bucket in dir as a release without key
// indexes does: the object's file renamed into place, no record
// appended.
func oldReleaseCommit(t *testing.T, dir, bucket, key string) {
	elsewhere := t.TempDir()
	o, err := Open(elsewhere)
	require.NoError(t, err)
	put(t, o, bucket, key, "old")
	require.NoError(t, o.Close())
	d, name, err := objectPath(bucket, key)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	require.NoError(t, os.Rename(filepath.Join(elsewhere, name), filepath.Join(dir, name)))
}

// A gateway of a release without key indexes sharing the directory (a
// rolling upgrade) commits by a rename alone, which nothing a listing
// reads tells of: its objects are served but not listed (a Choice of
// docs/SERVING.md §2.1). Removing every index/*.log once it has stopped,
// while gateways of this release run, is the upgrade's step: each
// bucket's next listing rebuilds, and lists them.
func TestAnOlderReleasesCommitsAreListedOnceTheLogsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(dir)
	require.NoError(t, err)
	defer b.Close()
	for _, bucket := range []string{"one", "two"} {
		put(t, a, bucket, "new", "v")
		require.Equal(t, []string{"new"}, listKeys(t, b, bucket, pull.ListQuery{}))
		oldReleaseCommit(t, dir, bucket, "old")
		_, err := get(t, a, bucket, "old")
		require.NoError(t, err, "served")
		require.Equal(t, []string{"new"}, listKeys(t, a, bucket, pull.ListQuery{}), "not listed: the documented limit")
	}

	logs, err := filepath.Glob(filepath.Join(dir, "index", "*.log"))
	require.NoError(t, err)
	require.Len(t, logs, 2)
	for _, log := range logs {
		require.NoError(t, os.Remove(log))
	}
	for _, s := range []*Store{a, b} {
		for _, bucket := range []string{"one", "two"} {
			assert.Equal(t, []string{"new", "old"}, listKeys(t, s, bucket, pull.ListQuery{}), bucket)
		}
	}
}

// The first open of a directory holding objects by a release with key
// indexes (no index/ yet) logs the upgrade's step; a new directory and a
// later open log nothing of it.
func TestTheFirstKeyIndexOfADirectorySaysWhatAnUpgradeMustDo(t *testing.T) {
	var buf bytes.Buffer
	logW, logFlags, old := log.Writer(), log.Flags(), slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer func() {
		slog.SetDefault(old)
		log.SetOutput(logW)
		log.SetFlags(logFlags)
	}()
	const step = "index/*.log is removed"

	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/datadir-v0")))
	s, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.Contains(t, buf.String(), step, "a directory of the last release")
	assert.Equal(t, 1, strings.Count(buf.String(), step))

	buf.Reset()
	s, err = Open(dir)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	fresh, err := Open(t.TempDir())
	require.NoError(t, err)
	put(t, fresh, "bkt", "k", "v")
	require.NoError(t, fresh.Close())
	assert.NotContains(t, buf.String(), step, "a later open, a new directory")
}
