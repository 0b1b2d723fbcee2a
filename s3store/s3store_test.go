package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/internal/tmpfile"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The store is tested against a real S3 server on loopback, never a mock
// (internal/s3test).

var bucketSeq struct {
	sync.Mutex
	n int
}

// newStore is a Store in a bucket of its own, under a prefix.
func newStore(t *testing.T) *Store {
	t.Helper()
	endpoint := s3test.Endpoint(t)
	bucketSeq.Lock()
	bucketSeq.n++
	name := fmt.Sprintf("mirror-test-%d-%d", os.Getpid(), bucketSeq.n)
	bucketSeq.Unlock()
	s, err := New(Config{Endpoint: endpoint, Bucket: name, Prefix: "gw/", AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey})
	require.NoError(t, err)
	s.SpoolDir = t.TempDir()
	require.NoError(t, s.EnsureBucket(context.Background()))
	return s
}

func put(t *testing.T, s pull.Store, bucket, key, data string, header ...string) {
	t.Helper()
	h := http.Header{}
	for _, kv := range header {
		name, v, _ := strings.Cut(kv, ": ")
		h.Set(name, v)
	}
	require.NoError(t, storetest.Put(context.Background(), s, bucket, key, data,
		pull.ObjectInfo{ETag: "etag-" + key[:min(len(key), 4)], Header: h, StorageClass: "COLD"}))
}

func get(t *testing.T, s pull.Store, bucket, key string) (string, pull.ObjectInfo, error) {
	return storetest.Get(context.Background(), s, bucket, key)
}

// The contract every store keeps (internal/storetest): round trip,
// metadata read back as committed, hostile keys, atomic and concurrent
// commits, bucket names, configurations. TestHostileKeys,
// TestConcurrentCommits, TestConfigsRoundTrip and the read-back halves of
// TestObjectsRoundTrip and TestMetadataReadsBackAsCommitted went there.
func TestStoreContract(t *testing.T) {
	s := newStore(t)
	require.NoError(t, storetest.TestStore(s))
	require.NoError(t, storetest.TestConfigStore(s))
}

// Other S3 tools read the mirrored bucket: an object is one S3 object of
// exactly its bytes under PREFIX/objects/BUCKET/KEY.
func TestObjectsRoundTrip(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	put(t, s, "bkt", "img/a b.png", "png bytes", "Content-Type: image/png")
	raw, err := s.client.GetObject(ctx, s.bucket, "gw/objects/bkt/img/a b.png", minio.GetObjectOptions{})
	require.NoError(t, err)
	b, err := io.ReadAll(raw)
	require.NoError(t, err)
	assert.Equal(t, "png bytes", string(b))
}

// The spool of an upload is its local file, gone after Abort.
func TestUploadSpool(t *testing.T) {
	s := newStore(t)
	up, err := s.Create(context.Background(), "bkt", "k")
	require.NoError(t, err)
	_, _ = io.WriteString(up, "hello")
	buf := make([]byte, 5)
	_, err = up.(io.ReaderAt).ReadAt(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf))
	up.Abort()
	entries, _ := os.ReadDir(s.SpoolDir)
	assert.Empty(t, entries)
	_, _, err = get(t, s, "bkt", "k")
	assert.ErrorIs(t, err, pull.ErrNotFound, "an aborted upload is not visible")
}

// What other S3 tools see of an object's metadata: the codings stored
// are the object's own, never the aws-chunked coding of minio-go's
// streaming signature (that it reads back as committed is in the store
// contract).
func TestMetadataReadsBackAsCommitted(t *testing.T) {
	s := newStore(t)
	for _, c := range []struct {
		name   string
		header []string
		want   http.Header
	}{
		{"nothing", nil, http.Header{}},
		{"gzip", []string{"Content-Encoding: gzip", "Content-Type: text/plain"},
			http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"text/plain"}}},
		{"two codings", []string{"Content-Encoding: gzip, br"}, http.Header{"Content-Encoding": {"gzip, br"}}},
		{"expires 0", []string{"Expires: 0"}, http.Header{"Expires": {"0"}}},
		{"expires date", []string{"Expires: Thu, 01 Jan 2099 00:00:00 GMT"}, http.Header{"Expires": {"Thu, 01 Jan 2099 00:00:00 GMT"}}},
		{"expires rfc850", []string{"Expires: Thursday, 01-Jan-99 00:00:00 GMT"}, http.Header{"Expires": {"Thursday, 01-Jan-99 00:00:00 GMT"}}},
		{"octet-stream stored", []string{"Content-Type: application/octet-stream"}, http.Header{"Content-Type": {"application/octet-stream"}}},
		{"all six", []string{"Content-Type: image/png", "Content-Encoding: identity", "Content-Disposition: attachment; filename=\"日本.txt\"",
			"Cache-Control: max-age=1,  public", "Expires: -1", "Content-Language: de"},
			http.Header{"Content-Type": {"image/png"}, "Content-Encoding": {"identity"}, "Content-Disposition": {"attachment; filename=\"日本.txt\""},
				"Cache-Control": {"max-age=1,  public"}, "Expires": {"-1"}, "Content-Language": {"de"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			put(t, s, "bkt", c.name, "abc", c.header...)
			raw, err := s.client.StatObject(context.Background(), s.bucket, "gw/objects/bkt/"+c.name, minio.StatObjectOptions{})
			require.NoError(t, err)
			assert.Equal(t, c.want.Get("Content-Encoding"), raw.Metadata.Get("Content-Encoding"))
		})
	}
}

// An object another tool stored with minio-go's streaming signature over
// http carries Content-Encoding: aws-chunked on versitygw; the store reads
// it back without that token.
func TestForeignAWSChunkedCodingIsDropped(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for key, enc := range map[string]string{"plain": "", "gz": "gzip"} {
		_, err := s.client.PutObject(ctx, s.bucket, "gw/objects/bkt/"+key, strings.NewReader("z"), 1,
			minio.PutObjectOptions{ContentType: "text/plain", ContentEncoding: enc})
		require.NoError(t, err)
		raw, err := s.client.StatObject(ctx, s.bucket, "gw/objects/bkt/"+key, minio.StatObjectOptions{})
		require.NoError(t, err)
		require.Contains(t, raw.Metadata.Get("Content-Encoding"), "aws-chunked", "the server keeps the transfer coding")
		_, info, err := get(t, s, "bkt", key)
		require.NoError(t, err)
		assert.Equal(t, enc, info.Header.Get("Content-Encoding"), key)
		assert.Equal(t, "text/plain", info.Header.Get("Content-Type"))
	}
}

// TestStripAWSChunked moved to pull/store_test.go with StripAWSChunked.

// A configuration over 1 MiB reads back whole, not cut; one over
// MaxConfigSize is refused on the way in, and one another tool stored
// that large is an error on the way out, never a truncated document.
func TestLargeConfigsReadBackWhole(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	doc := []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]` + strings.Repeat(" ", 3<<20) + `}`)
	require.NoError(t, s.PutConfig(ctx, "bkt", mirror.FormatNative, doc))
	api, got, err := s.GetConfig(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, mirror.FormatNative, api)
	assert.Equal(t, len(doc), len(got))
	assert.True(t, bytes.Equal(doc, got), "read back identical")

	// Through a registry: still in force once the TTL has passed.
	now := time.Now()
	reg := &bucketconfig.Registry{Store: s, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	require.NoError(t, reg.Put(ctx, "big-bucket", mirror.FormatNative, doc))
	now = now.Add(time.Minute)
	eng, err := reg.Engine(ctx, "big-bucket")
	require.NoError(t, err)
	assert.NotNil(t, eng, "read back from the store and compiled")

	tooBig := bytes.Repeat([]byte(" "), MaxConfigSize+1)
	assert.Error(t, s.PutConfig(ctx, "too-big", mirror.FormatNative, tooBig))
	_, _, err = s.GetConfig(ctx, "too-big")
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing was stored")

	_, err = s.client.PutObject(ctx, s.bucket, "gw/config/foreign", bytes.NewReader(tooBig), int64(len(tooBig)),
		minio.PutObjectOptions{UserMetadata: map[string]string{metaAPI: "native"}})
	require.NoError(t, err)
	_, got, err = s.GetConfig(ctx, "foreign")
	assert.ErrorContains(t, err, "over the")
	assert.Equal(t, 0, len(got), "no document, not a cut one")
}

// Issue 16, finding 6: spool files of a gateway killed mid-fetch stayed.
// SweepSpool removes those no process holds, never one being written.
func TestStaleSpoolFilesAreSwept(t *testing.T) {
	s := newStore(t)
	up, err := s.Create(context.Background(), "bkt", "k")
	require.NoError(t, err)
	defer up.Abort()
	require.NoError(t, os.WriteFile(filepath.Join(s.SpoolDir, spoolPrefix+"left"), []byte("x"), 0o600))
	old := time.Now().Add(-2 * tmpfile.MinAge)
	require.NoError(t, os.Chtimes(filepath.Join(s.SpoolDir, spoolPrefix+"left"), old, old))
	n, err := s.SweepSpool()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	entries, _ := os.ReadDir(s.SpoolDir)
	assert.Len(t, entries, 1, "the spool being written stays")
}

// The store contract's concurrent reader found a torn object here: a Stat
// and a GET are two requests, and a commit between them gave one version's
// size with another's bytes. An object is now read from one version: the
// GET that opens it, and after a seek ranged GETs If-Match its ETag, so a
// version committed since fails the read instead of mixing in.
func TestAnObjectIsReadFromOneVersion(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	put(t, s, "bkt", "k", strings.Repeat("a", 1000))
	obj, err := s.Open(ctx, "bkt", "k")
	require.NoError(t, err)
	defer obj.Close()
	put(t, s, "bkt", "k", strings.Repeat("b", 2000))
	_, err = obj.Seek(10, io.SeekStart)
	require.NoError(t, err)
	_, err = io.ReadAll(obj)
	assert.Error(t, err, "the version read is gone: an error, never b's bytes")

	obj, err = s.Open(ctx, "bkt", "k")
	require.NoError(t, err)
	defer obj.Close()
	end, err := obj.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	assert.Equal(t, int64(2000), end)
	_, err = obj.Seek(1990, io.SeekStart)
	require.NoError(t, err)
	tail, err := io.ReadAll(obj)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("b", 10), string(tail), "a ranged read of the same version")
}

// Issue 17: an object another tool put into the store (a natural way to
// pre-load a mirror) was served with an empty ETag; it carries the store's.
func TestForeignObjectsKeepTheStoresETag(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	up, err := s.client.PutObject(ctx, s.bucket, "gw/objects/bkt/preloaded", strings.NewReader("hello"), 5,
		minio.PutObjectOptions{DisableContentSha256: true, SendContentMd5: true})
	require.NoError(t, err)
	_, info, err := get(t, s, "bkt", "preloaded")
	require.NoError(t, err)
	assert.Equal(t, strings.Trim(up.ETag, `"`), info.ETag)
	assert.Equal(t, "5d41402abc4b2a76b9719d911017c592", info.ETag, "a single PUT's ETag is its MD5")
}

// An invalid Expires longer than any date is stored as "0" (what an HTTP
// cache reads any invalid Expires as): kept verbatim, a 2,100-byte one
// passed S3's 2 KiB of metadata and made the object unstorable (found in
// review).
func TestALongInvalidExpiresIsStoredAsExpired(t *testing.T) {
	s := newStore(t)
	put(t, s, "bkt", "k", "abc", "Expires: "+strings.Repeat("x", 2100))
	_, info, err := get(t, s, "bkt", "k")
	require.NoError(t, err)
	assert.Equal(t, "0", info.Header.Get("Expires"))
}
