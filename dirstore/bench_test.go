package dirstore

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
)

// benchStores are the directories the benchmarks wrote, by object count,
// kept across their runs (-count) and removed by TestMain.
var benchStores struct {
	sync.Mutex
	dirs map[int]string
}

func removeBenchStores() {
	benchStores.Lock()
	defer benchStores.Unlock()
	for _, dir := range benchStores.dirs {
		os.RemoveAll(dir)
	}
}

func benchKey(i int) string { return fmt.Sprintf("objects/%08d.txt", i) }

// benchStore returns a directory whose bucket "bench" holds n objects,
// written (without syncs) the first time it is asked for.
func benchStore(b *testing.B, n int) string {
	benchStores.Lock()
	defer benchStores.Unlock()
	if dir, ok := benchStores.dirs[n]; ok {
		return dir
	}
	dir, err := os.MkdirTemp("", "dirstore-bench-")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	s.skipSyncs()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if err := storetest.Put(context.Background(), s, "bench", benchKey(i), "x", pull.ObjectInfo{ETag: "e"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if benchStores.dirs == nil {
		benchStores.dirs = map[int]string{}
	}
	benchStores.dirs[n] = dir
	return dir
}

// BenchmarkListPage lists a page of 1,000 keys, each time after another
// key, from the key index of a bucket of 10,000 and of 100,000 objects:
// a page costs its size and a seek, not a scan, so the 100,000 page must
// cost at most 1.5 times the 10,000 one (docs/SERVING.md §2, "The key
// index"). Writing 100,000 objects takes a while, so that size runs only
// when MIRROR_BENCH_LARGE is set; CI runs the 10,000 one alone.
func BenchmarkListPage(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			if n > 10000 && os.Getenv("MIRROR_BENCH_LARGE") == "" {
				b.Skip("set MIRROR_BENCH_LARGE to run the 100,000-object size")
			}
			s, err := Open(benchStore(b, n))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// Not timed: the sweep of temporary files that Open starts
			// (it reads every fan-out directory, beside the requests),
			// and the first listing, which loads the index.
			<-s.swept
			ctx := context.Background()
			if _, err := s.List(ctx, "bench", pull.ListQuery{Limit: 1}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				after := benchKey(i * 7919 % (n - 1000))
				p, err := s.List(ctx, "bench", pull.ListQuery{After: after, Limit: 1000})
				if err != nil || len(p.Objects) != 1000 {
					b.Fatalf("listed %d objects after %q: %v", len(p.Objects), after, err)
				}
			}
		})
	}
}
