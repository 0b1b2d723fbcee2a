package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nullStore holds nothing and takes nothing: enough for fetches that end
// before a commit.
type nullStore struct{}

func (nullStore) Open(context.Context, string, string) (Object, error) { return nil, ErrNotFound }
func (nullStore) Create(context.Context, string, string) (Upload, error) {
	return nil, errors.New("null store")
}
func (nullStore) HasObjects(context.Context, string) (bool, error) { return false, nil }

// decide resolves key under one fetch rule to origin.
func decide(t *testing.T, origin, key string) *mirror.Decision {
	t.Helper()
	eng, err := mirror.Compiler{AllowPrivateOrigins: true}.Load(
		[]byte(`{"rules":[{"mode":"fetch","sourceUrl":"`+origin+`","resource":"*"}]}`), mirror.FormatNative)
	require.NoError(t, err)
	d, err := eng.Resolve(&mirror.Request{Key: key})
	require.NoError(t, err)
	return d
}

// Moved from pull/review_test.go (now objectapi's): remembered 404s expire
// from memory, not only when asked for again.
func TestNegativeCacheIsSwept(t *testing.T) {
	o := httptest.NewServer(http.NotFoundHandler())
	defer o.Close()
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, NegativeTTL: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer f.Shutdown(context.Background())
	for i := 0; i < 3000; i++ {
		key := fmt.Sprintf("k%d", i)
		_, err := f.Fetch(context.Background(), "bkt", key, decide(t, o.URL, key))
		var fe *FetchError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, OutcomeNotFound, fe.Outcome)
	}
	f.mu.Lock()
	n := len(f.negative)
	f.mu.Unlock()
	assert.Less(t, n, 2048, "expired entries were swept")
}

// The hooks are one literal: each is called as its doc says.
func TestHooks(t *testing.T) {
	o := httptest.NewServer(http.NotFoundHandler())
	defer o.Close()
	var mu sync.Mutex
	var fetches []Outcome
	var origins []int
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hooks: Hooks{
			Fetch:  func(r FetchResult) { mu.Lock(); fetches = append(fetches, r.Outcome); mu.Unlock() },
			Origin: func(r OriginResult) { mu.Lock(); origins = append(origins, r.Status); mu.Unlock() },
		}}
	_, err := f.Fetch(context.Background(), "bkt", "k", decide(t, o.URL, "k"))
	require.Error(t, err)
	require.NoError(t, f.Shutdown(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []Outcome{OutcomeNotFound}, fetches)
	assert.Equal(t, []int{404}, origins)
}
