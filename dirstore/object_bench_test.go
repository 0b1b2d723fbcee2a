package dirstore

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
)

// BenchmarkOpen: a hit of the store alone, an Open, a read of the whole
// object and a Close, with the metadata an origin gives (a type, a cache
// policy).
func BenchmarkOpen(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"4KiB", 4 << 10}, {"1MiB", 1 << 20}} {
		b.Run("size="+size.name, func(b *testing.B) {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			info := pull.ObjectInfo{ETag: "0123456789abcdef0123456789abcdef", LastModified: time.Now(),
				Header: http.Header{"Content-Type": {"image/webp"}, "Cache-Control": {"public, max-age=86400"}}}
			if err := storetest.Put(context.Background(), s, "bkt", "images/2024/photo.webp", string(make([]byte, size.bytes)), info); err != nil {
				b.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // past the grain of the file's times
			b.SetBytes(int64(size.bytes))
			b.ReportAllocs()
			for b.Loop() {
				obj, err := s.Open(context.Background(), "bkt", "images/2024/photo.webp")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, obj); err != nil {
					b.Fatal(err)
				}
				obj.Close()
			}
		})
	}
}
