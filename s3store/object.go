package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/mirrorkit/mirror/pull"
)

// object is a committed object read from one S3 version: the body of the
// GET that opened it, and, after a seek, ranged GETs of the same version
// (If-Match its ETag: a version committed since fails the read rather
// than mixing in). A body that ends short of the object's size is an
// error, never an end: nothing half-read is served as whole.
type object struct {
	s    *Store
	ctx  context.Context
	name string
	etag string
	info pull.ObjectInfo
	body io.ReadCloser // reads from at; nil: open one at off
	at   int64
	off  int64
}

func (o *object) Info() pull.ObjectInfo { return o.info }

func (o *object) Read(p []byte) (int, error) {
	if o.off >= o.info.Size {
		return 0, io.EOF
	}
	if o.body != nil && o.at != o.off {
		o.body.Close()
		o.body = nil
	}
	if o.body == nil {
		opts := minio.GetObjectOptions{}
		if err := opts.SetMatchETag(o.etag); err != nil {
			return 0, err
		}
		if err := opts.SetRange(o.off, 0); err != nil {
			return 0, err
		}
		body, _, _, err := o.s.core().GetObject(o.ctx, o.s.bucket, o.name, opts)
		if err != nil {
			return 0, fmt.Errorf("s3store: reading %s at %d: %w", o.name, o.off, err)
		}
		o.body, o.at = body, o.off
	}
	p = p[:min(int64(len(p)), o.info.Size-o.off)]
	n, err := o.body.Read(p)
	o.off += int64(n)
	o.at += int64(n)
	if errors.Is(err, io.EOF) && o.off < o.info.Size {
		return n, fmt.Errorf("s3store: %s ended at %d of its %d bytes: %w", o.name, o.off, o.info.Size, io.ErrUnexpectedEOF)
	}
	if errors.Is(err, io.EOF) {
		err = nil // the size says where the end is
	}
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.info.Size
	default:
		return 0, errors.New("s3store: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("s3store: seek before the start")
	}
	o.off = offset
	return offset, nil
}

func (o *object) Close() error {
	if o.body != nil {
		return o.body.Close()
	}
	return nil
}
