package bucketconfig_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Moved from configapi/api_test.go with the Registry.

// A stored document is read back in the format of the API that stored it,
// so another gateway, or this one after a restart, compiles the same rules
// as the gateway that took the PUT; only a document stored without an API
// (by another tool) is auto-detected.
func TestStoredConfigurationKeepsItsAPIsFormat(t *testing.T) {
	fetch := func(origin string) string {
		return `[{"mode":"fetch","sourceUrl":"https://` + origin + `.example.com","resource":"*"}]`
	}
	for _, c := range []struct {
		name string
		api  mirror.Format
		doc  string
	}{
		{"qingstor with a bos member", mirror.FormatQingStor, `{"source_site":"https://good.example.com","bucketMirroringConfiguration":` + fetch("evil") + `}`},
		{"qingstor with a broken bos member", mirror.FormatQingStor, `{"source_site":"https://good.example.com","bucketMirroringConfiguration":5}`},
		{"qingstor with a native member", mirror.FormatQingStor, `{"rules":` + fetch("evil") + `,"source_site":"https://good.example.com"}`},
		{"native with a bos member", mirror.FormatNative, `{"rules":` + fetch("good") + `,"bucketMirroringConfiguration":` + fetch("evil") + `}`},
		{"native with a qingstor member", mirror.FormatNative, `{"rules":` + fetch("good") + `,"source_site":"https://evil.example.com"}`},
		{"bos with a qingstor member", mirror.FormatBOS, `{"source_site":"https://evil.example.com","bucketMirroringConfiguration":` + fetch("good") + `}`},
		{"no api: auto-detected", mirror.FormatAuto, `{"source_site":"https://good.example.com"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, err := dirstore.Open(t.TempDir())
			require.NoError(t, err)
			defer store.Close()
			ctx := context.Background()
			first := &bucketconfig.Registry{Store: store, Logger: quietLogger}
			if c.api == "" {
				require.NoError(t, store.PutConfig(ctx, "bkt", mirror.FormatAuto, []byte(c.doc)))
			} else {
				require.NoError(t, first.Put(ctx, "bkt", c.api, []byte(c.doc)))
			}
			for _, reg := range []*bucketconfig.Registry{first, {Store: store, Logger: quietLogger}} {
				eng, err := reg.Engine(ctx, "bkt")
				require.NoError(t, err)
				require.NotNil(t, eng, "in force")
				d, err := eng.Resolve(&mirror.Request{Key: "k"})
				require.NoError(t, err)
				assert.Equal(t, []string{"https://good.example.com/k"}, d.URLs)
			}
		})
	}
}

// Asking for endless bucket names that have no configuration costs
// bounded memory: at most MaxUnconfigured of them are remembered, and a
// configured bucket is never forgotten.
func TestUnconfiguredBucketsAreBounded(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	doc := func(n string) []byte {
		return []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://` + n + `.example.com","resource":"*"}]}`)
	}
	configured := []string{"conf-a", "conf-b", "conf-c"}
	for _, b := range configured[:2] {
		require.NoError(t, reg.Put(ctx, b, mirror.FormatNative, doc(b)))
	}
	for i := 0; i < 20000; i++ {
		if i == 10000 {
			require.NoError(t, reg.Put(ctx, configured[2], mirror.FormatNative, doc(configured[2])))
		}
		eng, err := reg.Engine(ctx, fmt.Sprintf("b-%058d", i))
		require.NoError(t, err)
		require.Nil(t, eng)
		require.LessOrEqual(t, reg.Slots(), bucketconfig.DefaultMaxUnconfigured+len(configured))
	}
	assert.LessOrEqual(t, reg.Slots(), bucketconfig.DefaultMaxUnconfigured+len(configured))
	assert.Greater(t, reg.Slots(), len(configured), "recent unconfigured buckets are remembered")
	for _, b := range configured {
		eng, err := reg.Engine(ctx, b)
		require.NoError(t, err)
		require.NotNil(t, eng, b)
		d, err := eng.Resolve(&mirror.Request{Key: "k"})
		require.NoError(t, err)
		assert.Equal(t, []string{"https://" + b + ".example.com/k"}, d.URLs)
	}

	// A forgotten bucket that another gateway configured since is read
	// afresh.
	require.NoError(t, (&bucketconfig.Registry{Store: store, Logger: quietLogger}).Put(ctx, fmt.Sprintf("b-%058d", 0), mirror.FormatNative, doc("late")))
	eng, err := reg.Engine(ctx, fmt.Sprintf("b-%058d", 0))
	require.NoError(t, err)
	assert.NotNil(t, eng)

	small := &bucketconfig.Registry{Store: store, Logger: quietLogger, MaxUnconfigured: 10}
	for i := 0; i < 1000; i++ {
		_, err := small.Engine(ctx, fmt.Sprintf("s-%05d", i))
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, small.Slots(), 10)
}

// readWatch is a real store that records how many reads of one bucket's
// configuration ever ran at once.
type readWatch struct {
	bucketconfig.Store
	mu       sync.Mutex
	inFlight map[string]int
	most     int
}

func (w *readWatch) GetConfig(ctx context.Context, bucket string) (mirror.Format, []byte, error) {
	w.mu.Lock()
	w.inFlight[bucket]++
	w.most = max(w.most, w.inFlight[bucket])
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.inFlight[bucket]--
		w.mu.Unlock()
	}()
	time.Sleep(10 * time.Microsecond)
	return w.Store.GetConfig(ctx, bucket)
}

// Forgetting unconfigured buckets while they are asked for, put and
// deleted keeps one store read at a time per bucket, loses no change, and
// is race-free.
func TestForgettingBucketsUnderLoad(t *testing.T) {
	dir, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer dir.Close()
	store := &readWatch{Store: dir, inFlight: map[string]int{}}
	// A long TTL: a change that landed in a forgotten slot would leave
	// memory and store disagreeing at the end.
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger, MaxUnconfigured: 4, TTL: time.Hour}
	ctx := context.Background()
	doc := []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				bucket := fmt.Sprintf("bkt-%02d", (g*7+i)%24)
				switch i % 8 {
				case 0:
					assert.NoError(t, reg.Put(ctx, bucket, mirror.FormatNative, doc))
				case 1:
					_, err := reg.Delete(ctx, bucket, mirror.FormatNative)
					assert.NoError(t, err)
				default:
					_, err := reg.Engine(ctx, bucket)
					assert.NoError(t, err)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, store.most, "one read at a time per bucket")
	for i := 0; i < 24; i++ {
		bucket := fmt.Sprintf("bkt-%02d", i)
		_, _, err := dir.GetConfig(ctx, bucket)
		eng, rerr := reg.Engine(ctx, bucket)
		require.NoError(t, rerr)
		assert.Equal(t, err == nil, eng != nil, "%s: memory and store agree", bucket)
	}
}

// A configuration takes effect whole: every decision comes from one
// engine, the old or the new, never a mix.
func TestSwapsAreAtomic(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	doc := func(n string) []byte {
		return []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://` + n + `.example.com","resource":"*","prefix":"` + n + `/"}]}`)
	}
	ctx := context.Background()
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative, doc("a")))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mixed []string
	var mu sync.Mutex
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				eng, err := reg.Engine(ctx, "bkt")
				if err != nil || eng == nil {
					continue
				}
				d, err := eng.Resolve(&mirror.Request{Key: "k"})
				if err == nil && d.URLs[0] != "https://a.example.com/a/k" && d.URLs[0] != "https://b.example.com/b/k" {
					mu.Lock()
					mixed = append(mixed, d.URLs[0])
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative, doc([]string{"a", "b"}[i%2])))
	}
	close(stop)
	wg.Wait()
	assert.Empty(t, mixed)
}

// A PUT is durable before it returns, and a registry sharing the store
// sees it within its TTL.
func TestSharedStoreWithinTTL(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	now := time.Now()
	clock := func() time.Time { return now }
	one := &bucketconfig.Registry{Store: store, TTL: 5 * time.Second, Now: clock, Logger: quietLogger}
	two := &bucketconfig.Registry{Store: store, TTL: 5 * time.Second, Now: clock, Logger: quietLogger}
	ctx := context.Background()

	eng, err := two.Engine(ctx, "bkt")
	require.NoError(t, err)
	assert.Nil(t, eng, "none set yet; two has now looked")

	require.NoError(t, one.Put(ctx, "bkt", mirror.FormatQingStor, []byte(`{"source_site":"https://o.example.com"}`)))
	fresh := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	eng, err = fresh.Engine(ctx, "bkt")
	require.NoError(t, err)
	assert.NotNil(t, eng, "durable: a registry started now reads it")

	eng, _ = two.Engine(ctx, "bkt")
	assert.Nil(t, eng, "within the TTL the other gateway may still decide with what it had")
	now = now.Add(5 * time.Second)
	eng, _ = two.Engine(ctx, "bkt")
	assert.NotNil(t, eng, "in force on the other gateway once the TTL has passed")

	removed, err := one.Delete(ctx, "bkt", mirror.FormatQingStor)
	require.NoError(t, err)
	assert.True(t, removed)
	now = now.Add(5 * time.Second)
	eng, _ = two.Engine(ctx, "bkt")
	assert.Nil(t, eng)
}

// Put compiles a document in the format it is given, the one it is
// stored with and read back in (it was "the format of the API it names"
// before the registry was keyed by mirror.Format).
func TestPutCompilesInItsAPIsFormat(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	doc := []byte(`{"source_site":"https://good.example.com","bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://evil.example.com","resource":"*"}]}`)
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatQingStor, doc))
	eng, err := reg.Engine(ctx, "bkt")
	require.NoError(t, err)
	d, err := eng.Resolve(&mirror.Request{Key: "k"})
	require.NoError(t, err)
	assert.Equal(t, []string{"https://good.example.com/k"}, d.URLs)
}

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))
