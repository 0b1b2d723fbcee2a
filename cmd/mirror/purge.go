package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
)

// purgeConfig is what the purge flags say.
type purgeConfig struct {
	data, s3Endpoint string
	gateway          string
	bucket, prefix   string
	all              bool
}

// purgeFlags sets up `mirror purge` (docs/SERVING.md §2.2): remove stored
// objects, by key or by prefix, so that the next GET pulls them again,
// from the store directly (-data, opened as serve opens it) or through a
// running gateway (-url), whose purge also forgets its remembered 404s and
// stops its fetches of those keys from storing.
func purgeFlags(fs *flag.FlagSet) func(*env) int {
	c := &purgeConfig{}
	fs.StringVar(&c.data, "data", "", "the store to purge directly: a `directory`, or s3://BUCKET[/PREFIX] (as serve's -data)")
	fs.StringVar(&c.s3Endpoint, "s3-endpoint", "", "the S3-compatible store's `URL` for -data s3://...")
	fs.StringVar(&c.gateway, "url", "", "purge through the running gateway at this `URL`, signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a key of its -credentials that may configure the bucket)")
	fs.StringVar(&c.bucket, "bucket", "", "the gateway `bucket` to purge in")
	fs.StringVar(&c.prefix, "prefix", "", "purge every object whose key starts with this `prefix`")
	fs.BoolVar(&c.all, "all", false, "purge every object of the bucket")
	return func(e *env) int { return purge(e, c) }
}

func purge(e *env, c *purgeConfig) int {
	switch {
	case (c.data == "") == (c.gateway == ""):
		e.errorf("give one of -data (the store) and -url (a running gateway)")
		return 2
	case !mirror.ValidBucket(c.bucket):
		e.errorf("-bucket %q is not a valid bucket name", c.bucket)
		return 2
	case len(e.args) > 0 && (c.prefix != "" || c.all):
		e.errorf("give keys, or -prefix, or -all: not both")
		return 2
	case len(e.args) == 0 && c.prefix == "" && !c.all:
		e.errorf("nothing to purge: give keys, -prefix P, or -all")
		return 2
	}
	ctx := context.Background()
	var n int
	var err error
	if c.data != "" {
		n, err = purgeStore(ctx, c, e.args)
	} else {
		n, err = purgeGateway(ctx, c, e.args)
	}
	if err != nil {
		e.errorf("purge: %v (purged %d objects before)", err, n)
		return 1
	}
	if n == 1 {
		fmt.Fprintln(e.stdout, "purged 1 object")
	} else {
		fmt.Fprintf(e.stdout, "purged %d objects\n", n)
	}
	return 0
}

// purgeStore purges in the store itself. A key named is counted whether
// it was stored or not, as S3's DeleteObject does not tell.
func purgeStore(ctx context.Context, c *purgeConfig, keys []string) (int, error) {
	store, closeStore, err := openStore(ctx, &serveConfig{data: c.data, s3Endpoint: c.s3Endpoint})
	if err != nil {
		return 0, err
	}
	defer closeStore()
	d, ok := store.(pull.Deleter)
	if !ok {
		return 0, pull.ErrNoDelete
	}
	if len(keys) == 0 {
		return d.DeletePrefix(ctx, c.bucket, c.prefix)
	}
	for i, k := range keys {
		if err := d.Delete(ctx, c.bucket, k); err != nil {
			return i, fmt.Errorf("%s: %w", k, err)
		}
	}
	return len(keys), nil
}

// purgeGateway purges through a running gateway, as an S3 client would:
// DeleteObject for each key named, or ListObjectsV2 of the prefix and
// DeleteObjects of what it lists, a thousand keys a request.
func purgeGateway(ctx context.Context, c *purgeConfig, keys []string) (int, error) {
	u, err := url.Parse(c.gateway)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, fmt.Errorf("-url %q is not http(s)://HOST[:PORT]", c.gateway)
	}
	ak, sk := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if ak == "" || sk == "" {
		return 0, errors.New("-url needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: a key of the gateway's -credentials")
	}
	client, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(ak, sk, ""), Secure: u.Scheme == "https",
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return 0, err
	}
	if len(keys) > 0 {
		for i, k := range keys {
			if err := client.RemoveObject(ctx, c.bucket, k, minio.RemoveObjectOptions{}); err != nil {
				return i, fmt.Errorf("%s: %w", k, err)
			}
		}
		return len(keys), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(objs)
		for o := range client.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: c.prefix, Recursive: true}) {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			select {
			case objs <- minio.ObjectInfo{Key: o.Key}:
			case <-ctx.Done():
				return
			}
		}
	}()
	n, failed := 0, 0
	var first error
	for res := range client.RemoveObjectsWithResult(ctx, c.bucket, objs, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			failed++
			if first == nil {
				first = fmt.Errorf("%s: %w", res.ObjectName, res.Err)
			}
			continue
		}
		n++
	}
	switch {
	case listErr != nil:
		return n, listErr
	case first != nil:
		return n, fmt.Errorf("%d keys not purged, the first %w", failed, first)
	}
	return n, nil
}
