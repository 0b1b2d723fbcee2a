package pull

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/bits"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mirrorkit/mirror/internal/tmpfile"
)

// The body of a fetch: where it is spooled, how it is copied there within
// the limits, how it is checked, and the hash that runs beside the copy.

// spoolFor returns where clients read the body from, where it is written,
// and what frees both once nobody reads: the upload itself when it can be
// read back, else a temporary file beside it.
func (f *Fetcher) spoolFor(upload Upload) (io.ReaderAt, *os.File, io.Writer, func(), error) {
	if fu, ok := upload.(FileUpload); ok {
		return fu, fu.File(), upload, upload.Abort, nil
	}
	if ra, ok := upload.(io.ReaderAt); ok {
		return ra, nil, upload, upload.Abort, nil
	}
	tmp, err := tmpfile.Create(f.SpoolDir, spoolPrefix+"*")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	release := func() {
		upload.Abort()
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return tmp, tmp, io.MultiWriter(tmp, upload), release, nil
}

// spoolPrefix starts the names of a Fetcher's own spool files.
const spoolPrefix = "mirror-spool-"

// copyBody copies the origin's body to sink, growing the flight as bytes
// land, within the size limit, the idle timeout and the minimum rate, and
// returns how many bytes it copied and, when the copy ended cleanly, their
// MD5. The clock of both runs only while the copy is blocked reading the
// origin: the gateway's own spool writes and hashing are never taken for
// the origin's silence (docs/SERVING.md §3.5). On the idle timeout it
// calls cancel, the origin request's, which is what unblocks the read.
func (f *Fetcher) copyBody(cancel context.CancelFunc, fl *flight, sink io.Writer, body io.Reader, length int64) (int64, []byte, error) {
	bh := newBodyHash(length)
	n, err := f.copyLoop(cancel, fl, sink, body, length, bh)
	digest := bh.end(err == nil)
	return n, digest, err
}

// errStalled is what copyLoop takes a read cut by the idle timer for.
var errStalled = errors.New("stalled")

func (f *Fetcher) copyLoop(cancel context.CancelFunc, fl *flight, sink io.Writer, body io.Reader, length int64, bh *bodyHash) (int64, error) {
	idle := f.idleTimeout()
	timer := time.AfterFunc(idle, cancel)
	timer.Stop()
	rate := rateMeter{min: f.minRate(), window: f.rateWindow()}
	var n int64
	limit := f.maxObjectSize()
	for {
		timer.Reset(idle)
		began := time.Now()
		p := bh.space()
		k, rerr := body.Read(p)
		waited := time.Since(began)
		if !timer.Stop() {
			rerr = errStalled // the timer fired: the read was cut by it
		}
		if k > 0 {
			if n+int64(k) > limit {
				return n, &FetchError{Outcome: OutcomeTooLarge,
					Message: fmt.Sprintf("the origin's body passed the %d bytes this gateway stores", limit)}
			}
			if _, err := sink.Write(p[:k]); err != nil {
				return n, &FetchError{Outcome: OutcomeStoreErr, Message: "writing the object: " + err.Error()}
			}
			n += int64(k)
			fl.grow(k)
			bh.add(k)
		}
		switch {
		case rerr == errStalled:
			return n, &FetchError{Outcome: OutcomeCut, Message: fmt.Sprintf("no body byte from the origin for %v", idle)}
		case errors.Is(rerr, io.EOF):
			return n, nil
		case rerr != nil:
			return n, &FetchError{Outcome: OutcomeCut, Message: "the origin's body broke off: " + rerr.Error()}
		case length >= 0 && n > length:
			return n, &FetchError{Outcome: OutcomeCut, Message: "the origin sent more than its Content-Length"}
		}
		if slow := rate.add(k, waited); slow != "" {
			return n, &FetchError{Outcome: OutcomeTooSlow, Message: slow}
		}
	}
}

// rateMeter holds an origin to a minimum rate: over each window of time
// spent waiting for it, it must have sent min bytes a second. An origin
// that trickles a byte just inside the idle timeout would otherwise hold a
// fetch slot for the whole fetch timeout.
type rateMeter struct {
	min    int64
	window time.Duration
	bytes  int64
	waited time.Duration
}

// add counts k bytes that took d to arrive, and says why the origin is
// too slow once a window is full below the rate ("" while it is not).
func (m *rateMeter) add(k int, d time.Duration) string {
	m.bytes += int64(k)
	m.waited += d
	if m.waited < m.window {
		return ""
	}
	bytes, waited := m.bytes, m.waited
	m.bytes, m.waited = 0, 0
	if float64(bytes) >= float64(m.min)*waited.Seconds() {
		return ""
	}
	return fmt.Sprintf("the origin sent %d bytes in %v, less than the %d bytes a second this gateway waits for", bytes,
		waited.Round(time.Millisecond), m.min)
}

// verify checks the length and, when the origin sent one, Content-MD5.
func verify(resp *http.Response, n int64, digest []byte) error {
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return &FetchError{Outcome: OutcomeCut,
			Message: fmt.Sprintf("the origin sent %d of the %d bytes of its Content-Length", n, resp.ContentLength)}
	}
	if want := resp.Header.Get("Content-Md5"); want != "" {
		got := base64.StdEncoding.EncodeToString(digest)
		if got != want {
			return &FetchError{Outcome: OutcomeBadDigest,
				Message: fmt.Sprintf("the body's MD5 is %s, the origin's Content-MD5 says %s", got, want)}
		}
	}
	return nil
}

// The copy buffers come from pools by size class, powers of two from
// minCopyBuf to maxCopyBuf (issue 18): a fetch whose Content-Length is
// known and small takes one just big enough for its object, any other one
// maxCopyBuf, and each goes back to its pool when the copy ends. Nothing
// keeps a slice of one past that: the sink's writers must not retain what
// they are given (io.Writer's contract; the stores write it to a file),
// clients read the spool, never a copy buffer, and the hash goroutine has
// ended before its buffers go back.
const (
	minCopyBuf     = 4 << 10
	maxCopyBuf     = 256 << 10
	copyBufClasses = 7 // minCopyBuf << (copyBufClasses-1) == maxCopyBuf
)

var copyBufs [copyBufClasses]sync.Pool // of *[]byte, one pool per class

// bufClass is the class of the smallest buffer that holds n bytes.
func bufClass(n int64) int {
	switch {
	case n <= minCopyBuf:
		return 0
	case n >= maxCopyBuf:
		return copyBufClasses - 1
	}
	return bits.Len64(uint64(n-1)) - bits.Len64(minCopyBuf-1)
}

// getBuf takes a buffer of a class from its pool.
func getBuf(class int) *[]byte {
	if b, ok := copyBufs[class].Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, minCopyBuf<<class)
	return &b
}

// putBuf gives a buffer back to its pool. Nothing may hold a slice of it.
func putBuf(b *[]byte) { copyBufs[bufClass(int64(len(*b)))].Put(b) }

// syncHashMax is the most bytes hashed in the copy loop itself, with no
// goroutine and no copy: an object whose Content-Length is at most this
// is hashed there whole. MD5 over 256 KiB takes about 0.3 ms of one core,
// and a hash goroutine, its channels and its hand-offs would win back
// less than that on an object that fits one read. A larger object is
// hashed on a goroutine of its own from its first byte, so that MD5, the
// slowest step of a fetch (650-850 MB/s on one core), runs beside the
// reads and writes instead of adding to them; one of unknown length
// (chunked) moves there once it has passed syncHashMax.
const syncHashMax = maxCopyBuf

// hashDepth is how many buffers of maxCopyBuf an asynchronous hash cycles
// through: the one being read into, and those handed to the hash.
const hashDepth = 4

// bodyHash owns the buffers a body is read into, and hashes what was read:
// in the copy loop, or on a goroutine of its own to which each read's
// buffer itself is handed, never a copy of its bytes, while the next read
// goes into another one.
type bodyHash struct {
	h      hash.Hash
	buf    *[]byte // what the next read goes into
	hashed int64   // bytes hashed in the copy loop
	grows  bool    // of unknown length: goes asynchronous past syncHashMax

	// Asynchronous only (work is nil before):
	work  chan hashChunk // read, to be hashed
	free  chan *[]byte   // hashed
	done  chan struct{}  // closed when the goroutine has hashed everything
	taken int            // buffers taken from the pool, buf's included
}

type hashChunk struct {
	buf *[]byte
	n   int
}

func newBodyHash(length int64) *bodyHash {
	bh := &bodyHash{h: md5.New()}
	switch {
	case length >= 0 && length <= syncHashMax:
		bh.buf = getBuf(bufClass(length))
	case length < 0:
		bh.buf, bh.grows = getBuf(copyBufClasses-1), true
	default:
		bh.buf = getBuf(copyBufClasses - 1)
		bh.goAsync()
	}
	return bh
}

// goAsync starts the hash goroutine; buf is of the largest class.
func (bh *bodyHash) goAsync() {
	bh.work = make(chan hashChunk, hashDepth-1)
	bh.free = make(chan *[]byte, hashDepth)
	bh.done = make(chan struct{})
	bh.taken = 1
	go func() {
		defer close(bh.done)
		for c := range bh.work {
			bh.h.Write((*c.buf)[:c.n])
			bh.free <- c.buf
		}
	}()
}

// space is where the next read goes.
func (bh *bodyHash) space() []byte { return *bh.buf }

// add hashes the k bytes just read into space(), or hands them to the
// hash goroutine and takes another buffer: a hashed one, a new one while
// fewer than hashDepth were taken, else the next one hashed.
func (bh *bodyHash) add(k int) {
	if bh.work == nil {
		bh.h.Write((*bh.buf)[:k])
		bh.hashed += int64(k)
		if bh.grows && bh.hashed > syncHashMax {
			bh.goAsync()
		}
		return
	}
	bh.work <- hashChunk{bh.buf, k}
	select {
	case bh.buf = <-bh.free:
		return
	default:
	}
	if bh.taken < hashDepth {
		bh.buf = getBuf(copyBufClasses - 1)
		bh.taken++
		return
	}
	bh.buf = <-bh.free
}

// end waits for the hash and returns its digest (nil unless ok: the body
// was copied whole), and gives every buffer back to its pool. Call it
// once.
func (bh *bodyHash) end(ok bool) []byte {
	if bh.work != nil {
		close(bh.work)
		<-bh.done
		for range len(bh.free) {
			putBuf(<-bh.free)
		}
	}
	putBuf(bh.buf)
	bh.buf = nil
	if !ok {
		return nil
	}
	return bh.h.Sum(nil)
}
