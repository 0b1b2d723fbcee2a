package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror"
)

// The CORS rules of the buckets live at PREFIX/cors/BUCKET, in their
// canonical form, beside the configuration and the policy
// (docs/SERVING.md §4.5).

// GetCORS returns a bucket's CORS rules as stored, or an error wrapping
// fs.ErrNotExist. A record over MaxConfigSize is an error, never cut.
func (s *Store) GetCORS(ctx context.Context, bucket string) ([]byte, error) {
	if !mirror.ValidBucket(bucket) {
		return nil, fmt.Errorf("s3store: invalid bucket name %q: %w", bucket, fs.ErrNotExist)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+"cors/"+bucket, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	doc, err := io.ReadAll(io.LimitReader(obj, MaxConfigSize+1))
	if notFound(err) {
		return nil, fmt.Errorf("s3store: no CORS rules for %s: %w", bucket, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if len(doc) > MaxConfigSize {
		return nil, fmt.Errorf("s3store: the CORS rules of %s are over the %d bytes a store keeps", bucket, MaxConfigSize)
	}
	return doc, nil
}

// PutCORS replaces a bucket's CORS rules: one PUT, durable when it
// returns.
func (s *Store) PutCORS(ctx context.Context, bucket string, doc []byte) error {
	if !mirror.ValidBucket(bucket) {
		return fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	if len(doc) > MaxConfigSize {
		return fmt.Errorf("s3store: the CORS rules of %s are %d bytes, over the %d a store keeps", bucket, len(doc), MaxConfigSize)
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+"cors/"+bucket, bytes.NewReader(doc), int64(len(doc)),
		minio.PutObjectOptions{ContentType: "application/json", DisableContentSha256: true, SendContentMd5: true})
	return err
}

// DeleteCORS removes a bucket's CORS rules.
func (s *Store) DeleteCORS(ctx context.Context, bucket string) error {
	if !mirror.ValidBucket(bucket) {
		return nil
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+"cors/"+bucket, minio.RemoveObjectOptions{})
	if notFound(err) {
		return nil
	}
	return err
}
