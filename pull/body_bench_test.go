package pull

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkCopyBody is the copy loop of a fetch alone, as the Fetcher
// runs it: a body already in memory (read as fast as it can be), copied
// to a sink that discards it, hashed, the flight grown. With the network
// and the disk out of it, what is left is MD5 and what runs beside it: at
// 64 MiB the time must stay that of MD5 alone (BenchmarkMD5 in objectapi),
// the hash overlapped with the reads and writes.
func BenchmarkCopyBody(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"4KiB", 4 << 10}, {"256KiB", 256 << 10}, {"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
		b.Run("size="+size.name, func(b *testing.B) {
			body := make([]byte, size.bytes)
			f := &Fetcher{}
			r := bytes.NewReader(nil)
			b.SetBytes(int64(size.bytes))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(body)
				fl := newFlight(flightKey{"bkt", "k"})
				n, digest, err := f.copyBody(func() {}, fl, io.Discard, r, int64(len(body)))
				if err != nil || n != int64(len(body)) || len(digest) != 16 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
