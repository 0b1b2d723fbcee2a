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
	tmp, err := os.CreateTemp(f.SpoolDir, "mirror-spool-*")
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

// copyBody copies the origin's body to w, growing the flight as bytes
// land, within the size limit and the idle timeout (on which it calls
// cancel, the origin request's).
func (f *Fetcher) copyBody(cancel context.CancelFunc, fl *flight, w io.Writer, body io.Reader, length int64) (int64, error) {
	idle := f.idleTimeout()
	stalled := make(chan struct{})
	timer := time.AfterFunc(idle, func() { close(stalled); cancel() })
	defer timer.Stop()
	buf := make([]byte, 256<<10)
	var n int64
	limit := f.maxObjectSize()
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if !timer.Reset(idle) {
				return n, &FetchError{Outcome: OutcomeCut, Message: fmt.Sprintf("no body byte from the origin for %v", idle)}
			}
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
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			select {
			case <-stalled:
				return n, &FetchError{Outcome: OutcomeCut, Message: fmt.Sprintf("no body byte from the origin for %v", idle)}
			default:
			}
			return n, &FetchError{Outcome: OutcomeCut, Message: "the origin's body broke off: " + rerr.Error()}
		}
		if length >= 0 && n > length {
			return n, &FetchError{Outcome: OutcomeCut, Message: "the origin sent more than its Content-Length"}
		}
	}
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
