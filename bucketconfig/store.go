package bucketconfig

import (
	"context"

	"github.com/mirrorkit/mirror"
)

// Store keeps the buckets' configurations durably: a PutConfig that
// returned nil survives a restart and is seen by every gateway sharing the
// store. dirstore.Store and s3store.Store implement it, and
// internal/storetest holds both to one contract.
type Store interface {
	// GetConfig returns a bucket's document and the format it was put in
	// (mirror.FormatAuto when it was stored without one), or an error
	// wrapping fs.ErrNotExist when none is set.
	GetConfig(ctx context.Context, bucket string) (format mirror.Format, doc []byte, err error)
	// PutConfig replaces a bucket's configuration, all or nothing.
	PutConfig(ctx context.Context, bucket string, format mirror.Format, doc []byte) error
	// DeleteConfig removes it; removing none is not an error.
	DeleteConfig(ctx context.Context, bucket string) error
	// GetPolicy returns a bucket's stored read policy, or an error
	// wrapping fs.ErrNotExist when none is stored. It is a record of its
	// own: PutConfig and DeleteConfig never change it.
	GetPolicy(ctx context.Context, bucket string) (Policy, error)
	// PutPolicy stores a bucket's read policy, durably.
	PutPolicy(ctx context.Context, bucket string, p Policy) error
	// GetCORS returns a bucket's CORS rules as stored (CORS.Encode's
	// form), or an error wrapping fs.ErrNotExist when none are. They are a
	// record of their own, like the policy: no other Put or Delete
	// changes them.
	GetCORS(ctx context.Context, bucket string) ([]byte, error)
	// PutCORS replaces a bucket's CORS rules, durably.
	PutCORS(ctx context.Context, bucket string, doc []byte) error
	// DeleteCORS removes them; removing none is not an error.
	DeleteCORS(ctx context.Context, bucket string) error
}
