package s3store

import (
	"context"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror"
)

// Delete removes a key's object (pull.Deleter), under its plain name and
// its hashed one, either of which Open may read; a key that is not stored
// is no error, as S3 answers 204 for it. A commit of the key racing it is
// one PUT against one DELETE: the server keeps the later.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if !mirror.ValidBucket(bucket) {
		return fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	names := []string{s.hashedName(bucket, key)}
	if plain, ok := s.plainName(bucket, key); ok {
		names = append(names, plain)
	}
	for _, name := range names {
		if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
			return err
		}
	}
	return nil
}

// DeletePrefix removes the bucket's objects whose keys start with prefix
// (pull.Deleter): the plain names under PREFIX/objects/BUCKET/ and the
// prefix, found by one recursive listing, and the hashed names whose keys
// have the prefix (each of the bucket's hashed names read, as a listing
// reads them), removed by DeleteObjects, a thousand a request. An object
// committed meanwhile may stay. It returns how many keys it removed.
func (s *Store) DeletePrefix(ctx context.Context, bucket, prefix string) (int, error) {
	if !mirror.ValidBucket(bucket) {
		return 0, fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	keys := map[string]bool{}
	var names []string
	base := s.prefix + "objects/" + bucket + "/"
	if len(base+prefix) <= maxNameLen {
		lctx, cancel := context.WithCancel(ctx)
		for o := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: base + prefix, Recursive: true}) {
			if o.Err != nil {
				cancel()
				return 0, o.Err
			}
			key := strings.TrimPrefix(o.Key, base)
			if name, ok := s.plainName(bucket, key); ok && name == o.Key {
				// A name Open would not read (a directory marker "x/")
				// is left alone: it is no object of the gateway's.
				names = append(names, o.Key)
				keys[key] = true
			}
		}
		cancel()
	}
	hashed, err := s.hashedKeys(ctx, bucket, prefix)
	if err != nil {
		return 0, err
	}
	for _, e := range hashed {
		names = append(names, e.name)
		keys[e.key] = true
	}
	if len(names) == 0 {
		return 0, nil
	}
	objs := make(chan minio.ObjectInfo)
	go func() {
		defer close(objs)
		for _, n := range names {
			select {
			case objs <- minio.ObjectInfo{Key: n}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var first error
	for res := range s.client.RemoveObjectsWithResult(ctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		if res.Err != nil && !notFound(res.Err) && first == nil {
			first = fmt.Errorf("s3store: removing %s: %w", res.ObjectName, res.Err)
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	if first != nil {
		return 0, first
	}
	return len(keys), nil
}
