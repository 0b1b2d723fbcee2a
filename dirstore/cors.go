package dirstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/mirrorkit/mirror"
)

// The CORS rules of the buckets, for bucketconfig.Registry: one file per
// bucket, cors/BUCKET, holding the rules in their canonical form, beside
// the configuration and the policy, so that changing either never changes
// them (docs/SERVING.md §4.5). Written like a configuration.

// GetCORS returns a bucket's CORS rules as stored, or an error wrapping
// fs.ErrNotExist.
func (s *Store) GetCORS(_ context.Context, bucket string) ([]byte, error) {
	if !mirror.ValidBucket(bucket) {
		return nil, fmt.Errorf("dirstore: invalid bucket name %q: %w", bucket, fs.ErrNotExist)
	}
	return s.root.ReadFile(path.Join("cors", bucket))
}

// PutCORS replaces a bucket's CORS rules, durably.
func (s *Store) PutCORS(_ context.Context, bucket string, doc []byte) error {
	if !mirror.ValidBucket(bucket) {
		return fmt.Errorf("dirstore: invalid bucket name %q", bucket)
	}
	return s.writeRecord("cors", bucket, doc)
}

// DeleteCORS removes a bucket's CORS rules, durably.
func (s *Store) DeleteCORS(_ context.Context, bucket string) error {
	if !mirror.ValidBucket(bucket) {
		return nil
	}
	err := s.root.Remove(path.Join("cors", bucket))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.syncDir("cors")
}
