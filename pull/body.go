package pull

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/mirrorkit/mirror/internal/tmpfile"
)

// The body of a fetch: where it is spooled, how it is copied there within
// the limits, how it is checked, and the hash that runs beside the copy.

// spoolFor returns where clients read the body from, where it is written,
// and what frees both once nobody reads: the upload itself when it can be
// read back, else a temporary file beside it.
func (f *Fetcher) spoolFor(upload Upload) (io.ReaderAt, io.Writer, func(), error) {
	if ra, ok := upload.(io.ReaderAt); ok {
		return ra, upload, upload.Abort, nil
	}
	tmp, err := tmpfile.Create(f.SpoolDir, spoolPrefix+"*")
	if err != nil {
		return nil, nil, nil, err
	}
	release := func() {
		upload.Abort()
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return tmp, io.MultiWriter(tmp, upload), release, nil
}

// spoolPrefix starts the names of a Fetcher's own spool files.
const spoolPrefix = "mirror-spool-"

// copyBody copies the origin's body to w, growing the flight as bytes
// land, within the size limit, the idle timeout and the minimum rate. The
// clock of both runs only while the copy is blocked reading the origin:
// the gateway's own spool writes and hashing are never taken for the
// origin's silence (docs/SERVING.md §3.5). On the idle timeout it calls
// cancel, the origin request's, which is what unblocks the read.
func (f *Fetcher) copyBody(cancel context.CancelFunc, fl *flight, w io.Writer, body io.Reader, length int64) (int64, error) {
	idle := f.idleTimeout()
	stalled := errors.New("stalled")
	timer := time.AfterFunc(idle, cancel)
	timer.Stop()
	rate := rateMeter{min: f.minRate(), window: f.rateWindow()}
	buf := make([]byte, 256<<10)
	var n int64
	limit := f.maxObjectSize()
	for {
		timer.Reset(idle)
		began := time.Now()
		k, rerr := body.Read(buf)
		waited := time.Since(began)
		if !timer.Stop() {
			rerr = stalled // the timer fired: the read was cut by it
		}
		if k > 0 {
			if n+int64(k) > limit {
				return n, &FetchError{Outcome: OutcomeTooLarge,
					Message: fmt.Sprintf("the origin's body passed the %d bytes this gateway stores", limit)}
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, &FetchError{Outcome: OutcomeStoreErr, Message: "writing the object: " + err.Error()}
			}
			n += int64(k)
			fl.grow(k)
		}
		switch {
		case rerr == stalled:
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

// asyncHash hashes on a goroutine of its own. MD5 is the slowest step of
// a fetch (about 650 MB/s on one core); run beside the reads and writes,
// it costs a fetch its own time instead of adding to theirs.
type asyncHash struct {
	h    hash.Hash
	work chan []byte
	free chan []byte
	done chan struct{}
}

const asyncHashChunk = 256 << 10

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{h: h, work: make(chan []byte, 2), free: make(chan []byte, 3), done: make(chan struct{})}
	for range 3 {
		a.free <- make([]byte, asyncHashChunk)
	}
	go func() {
		defer close(a.done)
		for b := range a.work {
			a.h.Write(b)
			a.free <- b[:cap(b)]
		}
	}()
	return a
}

// Write hands a copy of p to the hashing goroutine.
func (a *asyncHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		b := <-a.free
		k := copy(b, p)
		a.work <- b[:k]
		p = p[k:]
	}
	return n, nil
}

// Sum waits for what was written and returns its digest. Call it once.
func (a *asyncHash) Sum() []byte {
	close(a.work)
	<-a.done
	return a.h.Sum(nil)
}
