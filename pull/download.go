package pull

import (
	"context"
	"io"
	"os"
)

// Download is a client's share of a fetch: the object's headers as soon
// as the origin has answered, and its bytes as they arrive. Close it.
type Download struct {
	// Info describes the object: Header (the kept origin headers),
	// StorageClass and LastModified are set, Size is the origin's
	// Content-Length, or -1 when it sent none, and ETag is the hex MD5 of
	// the origin's Content-MD5 when it sent one ("" otherwise, until the
	// object is stored: read it from the Store then).
	Info ObjectInfo
	// Joined is true when the request joined a fetch another one started.
	Joined bool
	// Stored is true when the object was committed before this fetch
	// could start: read it from the Store instead.
	Stored bool

	fl     *flight
	closed bool
}

// Reader returns a reader of n bytes of the object from off (n < 0: to
// its end). It returns bytes as they arrive, and io.EOF only once the
// object is committed; when the fetch fails, it returns an error, and a
// response built from it must not end cleanly. ctx ends its waits.
func (d *Download) Reader(ctx context.Context, off, n int64) *SpoolReader {
	return d.fl.newReader(ctx, off, n)
}

// OpenSpool opens the file the fetch spools the object to, for reading,
// on a file description of the caller's own: the object's byte i is the
// file's byte i, and the caller may read it, or send it with sendfile(2),
// at its own offset while the fetch writes on. Read only what a
// SpoolReader says is Ready. ok is false when the spool is not a file, or
// can not be opened again here: read through Reader then. Close f.
func (d *Download) OpenSpool() (f *os.File, ok bool) {
	fl := d.fl
	fl.mu.Lock()
	file := fl.spoolFile
	fl.mu.Unlock()
	if file == nil {
		return nil, false
	}
	f, err := reopen(file)
	return f, err == nil
}

// Wait blocks until the fetch has ended, and returns nil when the object
// was committed.
func (d *Download) Wait(ctx context.Context) error { return d.fl.wait(ctx) }

// Close lets the fetch's spool go.
func (d *Download) Close() {
	if !d.closed {
		d.closed = true
		d.fl.unhold()
	}
}

// Object is the committed object read from the fetch's spool, as a hit
// would read it from the Store: call it once Wait has returned nil. A
// gateway answering a small miss as a hit reads the bytes it just wrote
// instead of opening the object again and decoding its metadata
// (issue 18). Its Close does nothing: Close the Download.
func (d *Download) Object() Object {
	fl := d.fl
	fl.mu.Lock()
	info, spool := fl.info, fl.spool
	fl.mu.Unlock()
	return &spoolObject{io.NewSectionReader(spool, 0, info.Size), info}
}

// spoolObject is a committed object in its fetch's spool.
type spoolObject struct {
	*io.SectionReader
	info ObjectInfo
}

func (o *spoolObject) Info() ObjectInfo { return o.info }
func (o *spoolObject) Close() error     { return nil }
