package s3store

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deletion contract (internal/storetest), against versitygw.
func TestDeleterContract(t *testing.T) {
	require.NoError(t, storetest.TestDeleter(newStore(t)))
}

// A key stored under its hashed name is deleted, by key and by prefix, and
// a name Open would not read (a directory marker another tool made) is
// left alone.
func TestDeletingHashedKeys(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	put(t, s, "bkt", "a//b", "hashed") // an empty segment: a hashed name
	put(t, s, "bkt", "a/../c", "hashed too")
	put(t, s, "bkt", "a/plain", "plain")
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+"objects/bkt/a/marker/", nil, 0, minio.PutObjectOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "bkt", "a//b"))
	_, _, err = get(t, s, "bkt", "a//b")
	assert.Error(t, err)
	n, err := s.DeletePrefix(ctx, "bkt", "a/")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "a/../c and a/plain")
	for _, k := range []string{"a/../c", "a/plain"} {
		_, _, err := get(t, s, "bkt", k)
		assert.Error(t, err, k)
	}
	_, err = s.client.StatObject(ctx, s.bucket, s.prefix+"objects/bkt/a/marker/", minio.StatObjectOptions{})
	assert.NoError(t, err, "the marker is not the gateway's")
}
