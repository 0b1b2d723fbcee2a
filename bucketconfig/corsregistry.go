package bucketconfig

import (
	"context"
	"errors"
	"io/fs"
)

// A bucket's CORS rules are kept with its entry, read from the Store with
// its configuration and policy, so that what another gateway sharing the
// Store set is in force here within the TTL, like a configuration
// (docs/SERVING.md §4.5).

// CORS returns a bucket's CORS rules, nil when it has none (or the ones
// stored do not decode here, which is logged): what the object path
// answers preflights and cross-origin reads by.
func (r *Registry) CORS(ctx context.Context, bucket string) (*CORS, error) {
	e, err := r.current(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return e.cors, nil
}

// PutCORS stores a bucket's CORS rules durably, in their canonical form,
// then puts them in force; nothing else of the bucket changes. c is
// validated again: a CORS built by hand is held to the parsers' rules.
func (r *Registry) PutCORS(ctx context.Context, bucket string, c *CORS) error {
	if err := c.validate(storedNames); err != nil {
		return err
	}
	s := r.lock(bucket)
	defer s.loading.Unlock()
	if err := r.Store.PutCORS(ctx, bucket, c.Encode()); err != nil {
		return err
	}
	r.swapCORS(s, c)
	r.changed(bucket, "", "cors put")
	return nil
}

// DeleteCORS removes a bucket's CORS rules, durably, then here. removed
// reports whether there were any (a DELETE that removed nothing is no
// change, and is not logged).
func (r *Registry) DeleteCORS(ctx context.Context, bucket string) (removed bool, err error) {
	s := r.lock(bucket)
	defer s.loading.Unlock()
	_, err = r.Store.GetCORS(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.swapCORS(s, nil)
		return false, nil
	case err != nil:
		return false, err
	}
	if err := r.Store.DeleteCORS(ctx, bucket); err != nil {
		return false, err
	}
	r.swapCORS(s, nil)
	r.changed(bucket, "", "cors delete")
	return true, nil
}

// swapCORS puts c in force in the bucket's entry, under its lock. A
// bucket never read here has no entry to change: its first request reads
// everything, the rules just stored included. (An entry made of the new
// rules alone would stand, until its TTL, for a policy it never read.)
func (r *Registry) swapCORS(s *slot, c *CORS) {
	if old := s.cur.Load(); old != nil {
		e := *old
		e.cors = c
		s.publish(&e)
	}
}

// readCORS reads a bucket's CORS rules from the Store: nil when none are
// stored or the stored ones do not decode (logged); old's when the Store
// can not be read, as a configuration is kept then.
func (r *Registry) readCORS(ctx context.Context, bucket string, old *entry) *CORS {
	doc, err := r.Store.GetCORS(ctx, bucket)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		r.logger().Warn("reading CORS rules; the ones read before stay in force", "bucket", bucket, "error", err)
		if old != nil {
			return old.cors
		}
		return nil
	}
	c, err := DecodeCORS(doc)
	if err != nil {
		r.logger().Error("stored CORS rules do not decode here; the bucket answers no cross-origin request", "bucket", bucket, "error", err)
		return nil
	}
	return c
}
