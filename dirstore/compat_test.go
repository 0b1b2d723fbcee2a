package dirstore

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/storetest"
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
