package pull

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBufClass(t *testing.T) {
	require.Equal(t, maxCopyBuf, minCopyBuf<<(copyBufClasses-1))
	for n, want := range map[int64]int{0: 4 << 10, 1: 4 << 10, 4 << 10: 4 << 10, 4<<10 + 1: 8 << 10,
		100 << 10: 128 << 10, 128 << 10: 128 << 10, 256<<10 - 1: 256 << 10, 256 << 10: 256 << 10,
		256<<10 + 1: 256 << 10, 5 << 30: 256 << 10} {
		c := bufClass(n)
		assert.Equal(t, want, minCopyBuf<<c, "%d bytes", n)
		b := getBuf(c)
		assert.Len(t, *b, want)
		putBuf(b)
	}
}

// randomBody is n reproducible random bytes.
func randomBody(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// Every size, on both sides of the synchronous hash's bound, of known and
// unknown length, read whole or in pieces: the sink gets the body and the
// digest is its MD5.
func TestCopyBodyHashes(t *testing.T) {
	f := &Fetcher{}
	readers := map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"half":  iotest.HalfReader,
		"eof":   iotest.DataErrReader,
	}
	for _, size := range []int{0, 1, 4095, 4096, 4097, syncHashMax - 1, syncHashMax, syncHashMax + 1,
		1<<20 + 13, 3 << 20} {
		body := randomBody(size, uint64(size))
		want := md5.Sum(body)
		for name, wrap := range readers {
			for _, length := range []int64{int64(size), -1} {
				var sink bytes.Buffer
				fl := newFlight(flightKey{"bkt", "k"})
				n, digest, err := f.copyBody(func() {}, fl, &sink, wrap(bytes.NewReader(body)), length)
				require.NoError(t, err, "%d bytes, %s, length %d", size, name, length)
				assert.Equal(t, int64(size), n)
				assert.Equal(t, want[:], digest, "%d bytes, %s, length %d", size, name, length)
				assert.True(t, bytes.Equal(body, sink.Bytes()), "%d bytes, %s, length %d", size, name, length)
				assert.Equal(t, int64(size), fl.written)
			}
		}
	}
}

// A body of unknown length is hashed in the copy loop until it passes
// syncHashMax, then on the hash goroutine; one of a known large length on
// the goroutine from its first byte.
func TestBodyHashGoesAsync(t *testing.T) {
	bh := newBodyHash(-1)
	bh.add(len(bh.space()))
	assert.Nil(t, bh.work, "exactly syncHashMax bytes are hashed in the loop")
	bh.add(1)
	assert.NotNil(t, bh.work)
	assert.NotNil(t, bh.end(true))
	bh = newBodyHash(syncHashMax + 1)
	assert.NotNil(t, bh.work)
	assert.Nil(t, bh.end(false))
}

// failingSink takes n bytes, then fails.
type failingSink struct{ n int }

func (s *failingSink) Write(p []byte) (int, error) {
	if len(p) > s.n {
		return 0, errors.New("disk full")
	}
	s.n -= len(p)
	return len(p), nil
}

// The pooled buffers are given back only once nothing reads them: many
// copies at once, some failing with chunks still queued for the hash, each
// check their digest and, under -race, that no buffer is written while
// the hash goroutine of another copy reads it.
func TestCopyBodyBuffersAreNotSharedWhileInUse(t *testing.T) {
	f := &Fetcher{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				size := []int{3 << 10, 40 << 10, 300 << 10, 2 << 20}[(g+i)%4]
				body := randomBody(size, uint64(g*100+i))
				fl := newFlight(flightKey{"bkt", "k"})
				length := int64(size)
				if i%3 == 0 {
					length = -1
				}
				if i%5 == 4 {
					_, digest, err := f.copyBody(func() {}, fl, &failingSink{n: size / 2}, iotest.HalfReader(bytes.NewReader(body)), length)
					var fe *FetchError
					if assert.ErrorAs(t, err, &fe) {
						assert.Equal(t, OutcomeStoreErr, fe.Outcome)
					}
					assert.Nil(t, digest)
					continue
				}
				want := md5.Sum(body)
				n, digest, err := f.copyBody(func() {}, fl, io.Discard, bytes.NewReader(body), length)
				assert.NoError(t, err)
				assert.Equal(t, int64(size), n)
				assert.Equal(t, want[:], digest)
			}
		}()
	}
	wg.Wait()
}
