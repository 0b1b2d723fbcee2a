package storetest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
)

// checkCORS checks the CORS record beside a configuration: none is
// fs.ErrNotExist; rules read back exactly as put, a put replaces; putting
// or deleting a configuration or a policy never changes them; a delete
// removes, and deleting none is no error; an invalid bucket name is
// fs.ErrNotExist to read and refused to write.
func checkCORS(ctx context.Context, r *report, s bucketconfig.Store) {
	const b = "storetest-cors"
	if _, err := s.GetCORS(ctx, b); !errors.Is(err, fs.ErrNotExist) {
		r.fail("cors: GetCORS of none: %v, want fs.ErrNotExist", err)
	}
	docs := [][]byte{
		[]byte(`{"rules":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}`),
		[]byte(`{"rules":[{"id":"r & <1>","allowedOrigins":["https://*.example.com"],"allowedMethods":["GET","HEAD"],"maxAgeSeconds":0}]}` + "\n"),
	}
	for i, doc := range docs {
		if err := s.PutCORS(ctx, b, doc); err != nil {
			r.fail("cors %d: PutCORS: %v", i, err)
		}
		if got, err := s.GetCORS(ctx, b); err != nil || !bytes.Equal(got, doc) {
			r.fail("cors %d: read back %q, %v; put %q", i, got, err, doc)
		}
	}
	if err := s.PutConfig(ctx, b, mirror.FormatQingStor, []byte(`{"source_site":"https://o.example.com"}`)); err != nil {
		r.fail("cors: PutConfig: %v", err)
	}
	if err := s.PutPolicy(ctx, b, bucketconfig.PublicRead); err != nil {
		r.fail("cors: PutPolicy: %v", err)
	}
	if err := s.DeleteConfig(ctx, b); err != nil {
		r.fail("cors: DeleteConfig: %v", err)
	}
	if got, err := s.GetCORS(ctx, b); err != nil || !bytes.Equal(got, docs[1]) {
		r.fail("cors: a configuration's or a policy's put and delete changed the CORS rules: %q, %v", got, err)
	}
	if err := s.DeleteCORS(ctx, b); err != nil {
		r.fail("cors: DeleteCORS: %v", err)
	}
	if err := s.DeleteCORS(ctx, b); err != nil {
		r.fail("cors: DeleteCORS of none: %v", err)
	}
	if _, err := s.GetCORS(ctx, b); !errors.Is(err, fs.ErrNotExist) {
		r.fail("cors: GetCORS after a delete: %v, want fs.ErrNotExist", err)
	}
	if got, err := s.GetPolicy(ctx, b); err != nil || got != bucketconfig.PublicRead {
		r.fail("cors: a delete of the CORS rules changed the policy: %q, %v", got, err)
	}
	for _, bad := range badBuckets {
		if _, err := s.GetCORS(ctx, bad); !errors.Is(err, fs.ErrNotExist) {
			r.fail("cors: GetCORS of bucket %q: %v, want fs.ErrNotExist", bad, err)
		}
		if err := s.PutCORS(ctx, bad, docs[0]); err == nil {
			r.fail("cors: PutCORS took bucket %q", bad)
		}
	}
}
