package pull

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
)

// A flight is one origin fetch, shared by every client that asks for its
// object while it runs, and by none: it belongs to the Fetcher, runs to
// its end whether clients stay or go, and is forgotten when it ends. Its
// body goes to a spool on disk (the store's own temporary file when the
// store can read it back), and each client reads the spool from wherever
// it wants, waiting for bytes that have not arrived yet. The last byte of
// every reader's window is held back until the object is committed, so
// that a response only ends cleanly for an object that was stored.
//
// Unlike x/sync/singleflight, which forgets a key when its function
// returns, a flight is found by clients that arrive in the middle of the
// body, and they get the whole object.
type flight struct {
	key     flightKey
	started chan struct{} // closed when the origin's headers are in, or the flight ended before them

	mu    sync.Mutex
	info  ObjectInfo  // Size -1 while unknown; set before started is closed
	spool io.ReaderAt // what arrived so far
	// spoolFile is the file spool reads, when it is one (Download.OpenSpool).
	spoolFile *os.File
	written   int64         // bytes in the spool
	progress  chan struct{} // closed and replaced whenever written grows or the flight ends
	done      chan struct{} // closed when the flight ends: a waiter for the end is not woken by every byte
	ended     bool
	err       error // nil after a commit
	stored    bool  // the object was in the store already: read it there
	proxied   bool  // the rule does not store it: its spool is all there is (proxyonly.go)
	holders   int   // Downloads not yet closed: the spool stays while there are any
	release   func()

	// commitMu is held by the commit and by a purge of the key, which
	// sets purged: the flight then commits nothing (delete.go).
	commitMu sync.Mutex
	purged   bool

	// stale is the stored object's info when the flight revalidates it
	// (revalidate.go), nil for a fetch of a miss.
	stale *ObjectInfo
}

// flightKey names a flight: one per (bucket, key), as the store holds one
// object per key, so concurrent misses join whatever their query and
// headers (docs/SERVING.md §3.1).
type flightKey struct{ bucket, key string }

func newFlight(k flightKey) *flight {
	return &flight{key: k, started: make(chan struct{}), progress: make(chan struct{}), done: make(chan struct{}),
		info: ObjectInfo{Size: -1}}
}

// start publishes the origin's answer: from now on clients may read.
func (fl *flight) start(info ObjectInfo, spool io.ReaderAt, file *os.File) {
	fl.mu.Lock()
	fl.info, fl.spool, fl.spoolFile = info, spool, file
	fl.mu.Unlock()
	close(fl.started)
}

// grow records n more bytes in the spool.
func (fl *flight) grow(n int) {
	fl.mu.Lock()
	fl.written += int64(n)
	close(fl.progress)
	fl.progress = make(chan struct{})
	fl.mu.Unlock()
}

// end records the outcome (nil: committed) and wakes every waiter. release
// frees the spool once no Download holds it.
func (fl *flight) end(err error, release func()) {
	fl.mu.Lock()
	fl.ended, fl.err = true, err
	close(fl.progress)
	fl.progress = make(chan struct{})
	close(fl.done)
	if fl.holders > 0 {
		fl.release, release = release, nil
	}
	fl.mu.Unlock()
	select {
	case <-fl.started:
	default:
		close(fl.started)
	}
	if release != nil {
		release()
	}
}

// hold keeps the spool while a Download may read it.
func (fl *flight) hold() {
	fl.mu.Lock()
	fl.holders++
	fl.mu.Unlock()
}

// unhold lets the spool go once the flight has ended and nobody holds it.
func (fl *flight) unhold() {
	fl.mu.Lock()
	fl.holders--
	var release func()
	if fl.ended && fl.holders == 0 {
		release, fl.release = fl.release, nil
	}
	fl.mu.Unlock()
	if release != nil {
		release()
	}
}

// wait blocks until the flight has ended, and gives its outcome.
func (fl *flight) wait(ctx context.Context) error {
	select {
	case <-fl.done:
	default:
		select {
		case <-fl.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.err
}

// newReader opens a reader of the window [off, off+n) of the object; n < 0
// reads to its end. The caller holds the flight.
func (fl *flight) newReader(ctx context.Context, off, n int64) *SpoolReader {
	end := int64(-1)
	if n >= 0 {
		end = off + n
	}
	return &SpoolReader{fl: fl, ctx: ctx, off: off, end: end}
}

// SpoolReader reads a window of a fetch's object as it arrives (see
// Download.Reader). Besides Read, it tells how much could be read without
// reading it (Ready), for a caller that sends those bytes from the spool
// file itself (Download.OpenSpool) and then Skips them.
type SpoolReader struct {
	fl  *flight
	ctx context.Context
	off int64
	end int64 // -1: the object's end
}

// Ready waits until bytes at the reader's position can be read, and says
// how many: at least one, or 0 and io.EOF once the window was read whole
// and the object is committed, or 0 and the error that ended the fetch
// or the reader's context.
func (r *SpoolReader) Ready() (int64, error) {
	fl := r.fl
	for {
		fl.mu.Lock()
		written, ended, err, progress := fl.written, fl.ended, fl.err, fl.progress
		fl.mu.Unlock()
		committed := ended && err == nil
		if ended && err != nil {
			return 0, err
		}
		end := r.end
		if end < 0 && committed {
			end = written
		}
		// The end of the window is only the end once the object is
		// committed: an empty object, or a window's end, waits like a
		// held-back last byte.
		if end >= 0 && r.off >= end && committed {
			return 0, io.EOF
		}
		// What may be read now: what arrived, within the window, less the
		// window's last byte until the commit.
		limit := written
		if end >= 0 {
			limit = min(limit, end)
		}
		if !committed && (end < 0 || limit == end) {
			limit--
		}
		if r.off < limit {
			return limit - r.off, nil
		}
		select {
		case <-progress:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

// Skip moves the reader past n bytes that Ready said were there and the
// caller read itself.
func (r *SpoolReader) Skip(n int64) { r.off += n }

func (r *SpoolReader) Read(p []byte) (int, error) {
	k, err := r.Ready()
	if err != nil {
		return 0, err
	}
	fl := r.fl
	fl.mu.Lock()
	spool := fl.spool
	fl.mu.Unlock()
	got, rerr := spool.ReadAt(p[:min(int64(len(p)), k)], r.off)
	r.off += int64(got)
	if got > 0 {
		return got, nil
	}
	if rerr == nil || errors.Is(rerr, io.EOF) {
		rerr = io.ErrUnexpectedEOF // Ready said the bytes were there
	}
	return 0, rerr
}
