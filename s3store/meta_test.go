package s3store

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkClient is aws-sdk-go-v2's S3 client on the test server: another S3
// tool, not the gateway.
func sdkClient(t *testing.T) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s3test.Endpoint(t)), UsePathStyle: true,
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey}, nil
		})})
}

// Other S3 tools see an object's provenance as x-amz-meta-mirror-* and the
// origin's user metadata by its own names: a HeadObject by aws-sdk-go-v2
// straight on the bucket behind the store, the values the gateway sends
// on a hit (pull.ObjectInfo.Provenance, pull.MetaValue).
func TestProvenanceIsVisibleToS3Tools(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	info := pull.ObjectInfo{ETag: "e", Origin: "https://origin.example/base/a%20b.png", OriginETag: `"abc"`,
		OriginLastModified: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Fetched: time.Date(2026, 2, 3, 4, 5, 6, 789, time.UTC),
		UserMeta: map[string]string{"color": "red", "city": "Zürich"}}
	require.NoError(t, storetest.Put(ctx, s, "bkt", "img/a b.png", "png", info))
	head, err := sdkClient(t).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("gw/objects/bkt/img/a b.png")})
	require.NoError(t, err)
	want := map[string]string{
		"mirror-origin":               "https://origin.example/base/a%20b.png",
		"mirror-origin-etag":          `"abc"`,
		"mirror-origin-last-modified": "Thu, 02 Jan 2025 03:04:05 GMT",
		"mirror-pulled-at":            "2026-02-03T04:05:06.000000789Z",
		"color":                       "red",
		"city":                        "=?UTF-8?q?Z=C3=BCrich?=", // RFC 2047, as S3 sends a value that is not ASCII
	}
	for name, v := range want {
		assert.Equal(t, v, head.Metadata[name], name)
	}
	for _, kv := range info.Provenance() {
		assert.Equal(t, kv[1], head.Metadata[kv[0]], "what a hit sends as x-amz-meta-%s", kv[0])
	}
	assert.Equal(t, pull.MetaValue("Zürich"), head.Metadata["city"])
	_, got, err := get(t, s, "bkt", "img/a b.png")
	require.NoError(t, err)
	assert.Equal(t, info.UserMeta, got.UserMeta)
	assert.Equal(t, info.Origin, got.Origin)
}

// S3 holds an object's user metadata to 2 KiB (versitygw too): the
// store's own keys are kept, then the origin URL when it fits, then the
// user metadata in name order while it fits. An object past the bound is
// stored without what does not fit, never refused.
func TestMetadataPastS3sBoundIsLeftOutNotRefused(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	user := map[string]string{}
	for i := range 40 {
		user[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 50)
	}
	origin := "https://origin.example/" + strings.Repeat("p", 900)
	info := pull.ObjectInfo{ETag: "e", Origin: origin, OriginETag: `"abc"`, Fetched: time.Now(), UserMeta: user}

	// A plain name: the origin fits, and the first names after it.
	require.NoError(t, storetest.Put(ctx, s, "bkt", "plain", "p", info))
	_, got, err := get(t, s, "bkt", "plain")
	require.NoError(t, err)
	assert.Equal(t, origin, got.Origin)
	assert.Equal(t, `"abc"`, got.OriginETag)
	namesInOrder(t, got.UserMeta, 15, 25)

	// A hashed name, its key in x-amz-meta-mirror-key: the 1366 bytes of
	// a 1024-byte key leave no room for the origin, and less for the
	// user metadata; the object is stored all the same, and read back.
	long := strings.Repeat("k", 1024)
	require.NoError(t, storetest.Put(ctx, s, "bkt", long, "h", info))
	data, got, err := get(t, s, "bkt", long)
	require.NoError(t, err)
	assert.Equal(t, "h", data)
	assert.Empty(t, got.Origin)
	namesInOrder(t, got.UserMeta, 5, 14)
	assert.Equal(t, `"abc"`, got.OriginETag, "the store's own keys are all kept")

	// What was left out was not refused: a PUT of all of it is.
	all := map[string]string{}
	for k, v := range user {
		all[k] = v
	}
	_, err = s.client.PutObject(ctx, s.bucket, "gw/too-large", bytes.NewReader(nil), 0, minio.PutObjectOptions{UserMetadata: all})
	require.Error(t, err, "the server holds PUTs to 2 KiB")
	assert.Equal(t, "MetadataTooLarge", minio.ToErrorResponse(err).Code)
}

// An object stored before the pulled-at time was renamed (Mirror-Fetched)
// reads back with it.
func TestObjectsStoredBeforeTheRenameKeepTheirFetchTime(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	fetched := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	_, err := s.client.PutObject(ctx, s.bucket, "gw/objects/bkt/old", bytes.NewReader([]byte("old")), 3, minio.PutObjectOptions{
		UserMetadata: map[string]string{metaETag: "e", metaFetched: fetched.Format(time.RFC3339Nano), metaOriginModified: "1",
			metaLastModified: "Fri, 02 Jan 2026 03:04:05 GMT"}})
	require.NoError(t, err)
	_, info, err := get(t, s, "bkt", "old")
	require.NoError(t, err)
	assert.True(t, info.Fetched.Equal(fetched))
	assert.Empty(t, info.Origin)
	assert.Empty(t, info.UserMeta)
	assert.True(t, info.OriginLastModified.IsZero())
	assert.Equal(t, info.LastModified, info.OriginDate(), "the origin's date, for revalidation")
}

// namesInOrder checks that user metadata kept is k00, k01, … (the first
// names in order), between least and most of them.
func namesInOrder(t *testing.T, meta map[string]string, least, most int) {
	t.Helper()
	names := make([]string, 0, len(meta))
	for name := range meta {
		names = append(names, name)
	}
	sort.Strings(names)
	assert.GreaterOrEqual(t, len(names), least)
	assert.LessOrEqual(t, len(names), most)
	for i, name := range names {
		assert.Equal(t, fmt.Sprintf("k%02d", i), name, "a prefix of the names in order")
	}
}
