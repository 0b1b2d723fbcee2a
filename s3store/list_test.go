package s3store

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The listing contract every store keeps (internal/storetest).
func TestListerContract(t *testing.T) {
	storetest.TestLister(t, newStore(t))
}

// requestCounter counts a store's requests: listings and HEADs.
type requestCounter struct {
	lists, heads atomic.Int64
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		c.lists.Add(1)
	case r.Method == http.MethodHead:
		c.heads.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// countingStore is newStore's store, its requests counted.
func countingStore(t *testing.T) (*Store, *requestCounter) {
	t.Helper()
	s := newStore(t)
	c := &requestCounter{}
	counted, err := New(Config{Endpoint: s3test.Endpoint(t), Bucket: s.bucket, Prefix: "gw/", AccessKeyID: s3test.AccessKey,
		SecretAccessKey: s3test.SecretKey, Transport: c})
	require.NoError(t, err)
	counted.SpoolDir = s.SpoolDir
	return counted, c
}

// A page of common prefixes is one ListObjectsV2 of the plain names (and
// one of the hashed ones), the delimiter passed to S3: never a request per
// prefix, and no HEAD, since no object is listed.
func TestListCommonPrefixesAreOneRequest(t *testing.T) {
	s, c := countingStore(t)
	for i := range 120 {
		put(t, s, "bkt", fmt.Sprintf("p%03d/k", i), "x")
	}
	put(t, s, "bkt", "odd//key", "x") // hashed
	c.lists.Store(0)
	c.heads.Store(0)
	page, err := s.List(context.Background(), "bkt", pull.ListQuery{Delimiter: "/", Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, page.Prefixes, 121)
	assert.Empty(t, page.Objects)
	assert.Equal(t, int64(2), c.lists.Load(), "one listing of objects/, one of hashed/")
	assert.Equal(t, int64(1), c.heads.Load(), "the hashed name's key, read once")

	c.lists.Store(0)
	c.heads.Store(0)
	_, err = s.List(context.Background(), "bkt", pull.ListQuery{Delimiter: "/", Limit: 1000})
	require.NoError(t, err)
	assert.Equal(t, int64(0), c.heads.Load(), "a hashed name's key is read once a process")
}

// Each object listed costs a HEAD: the gateway's ETag, Last-Modified and
// storage class are in its metadata.
func TestListReadsEachListedObject(t *testing.T) {
	s, c := countingStore(t)
	for i := range 5 {
		put(t, s, "bkt", fmt.Sprintf("k%d", i), "x")
	}
	c.heads.Store(0)
	page, err := s.List(context.Background(), "bkt", pull.ListQuery{Limit: 3})
	require.NoError(t, err)
	assert.Len(t, page.Objects, 3)
	assert.Equal(t, int64(3), c.heads.Load())
	assert.Equal(t, "COLD", page.Objects[0].Info.StorageClass)
	assert.Equal(t, "etag-k0", page.Objects[0].Info.ETag)
}

// Objects another tool wrote under PREFIX/objects/BUCKET/ are listed as
// Open serves them, with S3's own ETag, unquoted; what the gateway keeps
// beside them (configurations, read policies) never is, nor an S3
// directory marker Open would not read.
func TestListForeignObjectsAndTheGatewaysOwn(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	raw := func(name, data string) {
		_, err := s.client.PutObject(ctx, s.bucket, name, strings.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{DisableContentSha256: true, SendContentMd5: true})
		require.NoError(t, err)
	}
	raw("gw/objects/bkt/preloaded", "hello")
	raw("gw/objects/bkt/dir/", "")
	raw("gw/objects/stray", "not in a bucket")
	raw("gw/hashed/bkt/"+strings.Repeat("0", 64), "a hashed name that is no key's hash")
	require.NoError(t, s.PutConfig(ctx, "bkt", mirror.FormatNative, []byte(`{}`)))
	require.NoError(t, s.PutPolicy(ctx, "bkt", bucketconfig.PublicRead))
	require.NoError(t, s.PutPolicy(ctx, "policy-only", bucketconfig.PublicRead))

	page, err := s.List(ctx, "bkt", pull.ListQuery{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, page.Objects, 1, "%+v", page)
	assert.Equal(t, "preloaded", page.Objects[0].Key)
	assert.Equal(t, "5d41402abc4b2a76b9719d911017c592", page.Objects[0].Info.ETag)
	assert.Equal(t, int64(5), page.Objects[0].Info.Size)
	_, opened, err := get(t, s, "bkt", "preloaded")
	require.NoError(t, err)
	assert.Equal(t, opened.ETag, page.Objects[0].Info.ETag)
	assert.True(t, opened.LastModified.Equal(page.Objects[0].Info.LastModified))

	buckets, err := s.Buckets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"bkt"}, buckets, "no bucket of a policy alone, no stray object")
}

// S3 may send again, after StartAfter, the common prefix StartAfter is
// (versitygw v1.8.0 does not), or one before it when StartAfter is inside
// it: the page holds neither.
func TestMergeRangeDropsWhatServersResend(t *testing.T) {
	s := &Store{prefix: "gw/"}
	q := pull.ListQuery{Delimiter: "/", After: "a/"}
	plain := []entry{{key: "a/", prefix: true}, {key: "b", name: "gw/objects/bkt/b"}, {key: "c/", prefix: true}}
	hashed := []entry{{key: "a//x"}, {key: "b"}, {key: "b//"}, {key: "d//"}}
	got, bound := s.mergeRange("bkt", q, nil, plain, hashed, true)
	assert.Equal(t, "c/", bound)
	var keys []string
	for _, e := range got {
		keys = append(keys, e.key)
	}
	assert.Equal(t, []string{"b", "b/", "c/"}, keys, "d/ is past what the response covers")
	assert.Equal(t, "gw/objects/bkt/b", got[0].name, "a plain name before a hashed one")

	got, _ = s.mergeRange("bkt", pull.ListQuery{Delimiter: "/", After: "a/b"}, nil, plain[:1], nil, false)
	assert.Empty(t, got, "a/ sorts before After")
}

// An After past S3's longest name is cut, at a rune's start, to one that
// lists the same names.
func TestStartAfterIsCutToANameS3Takes(t *testing.T) {
	assert.Equal(t, "", startAfter("gw/objects/b/", ""))
	assert.Equal(t, "gw/objects/b/k", startAfter("gw/objects/b/", "k"))
	long := startAfter("gw/objects/b/", strings.Repeat("日", 400))
	assert.LessOrEqual(t, len(long), maxNameLen)
	assert.Greater(t, len(long), maxNameLen-3)
	assert.True(t, strings.HasSuffix(long, "日"))
}
