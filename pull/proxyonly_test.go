package pull

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A proxy-only fetch (fetch.store false) never calls the store's Create
// (nullStore refuses it): its body is read from a spool of the Fetcher's
// own, which goes when the last Download is closed, and it ends
// "proxied".
func TestProxyOnlyNeverCreates(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "proxied bytes")
	}))
	defer o.Close()
	spools := t.TempDir()
	var mu sync.Mutex
	var outcomes []Outcome
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, SpoolDir: spools, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hooks: Hooks{Fetch: func(r FetchResult) { mu.Lock(); outcomes = append(outcomes, r.Outcome); mu.Unlock() }}}
	defer f.Shutdown(context.Background())
	d := decideDoc(t, `{"rules":[{"mode":"fetch","sourceUrl":"`+o.URL+`","resource":"*","fetch":{"store":false}}]}`, "k")
	dl, err := f.Fetch(context.Background(), "bkt", "k", d)
	require.NoError(t, err)
	assert.True(t, dl.Proxied())
	assert.False(t, dl.Stored)
	b, err := io.ReadAll(dl.Reader(context.Background(), 0, -1))
	require.NoError(t, err)
	assert.Equal(t, "proxied bytes", string(b))
	require.NoError(t, dl.Wait(context.Background()))
	obj := dl.Object()
	assert.Equal(t, int64(len(b)), obj.Info().Size)
	assert.NotEmpty(t, obj.Info().ETag, "the MD5 of what was served")
	left, _ := os.ReadDir(spools)
	assert.Len(t, left, 1, "the spool stays while a Download holds it")
	dl.Close()
	left, _ = os.ReadDir(spools)
	assert.Empty(t, left)
	require.NoError(t, f.Shutdown(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []Outcome{OutcomeProxied}, outcomes)
}

// A proxy-only fetch that fails leaves no spool, and fails its readers
// as any fetch does.
func TestProxyOnlyFailureLeavesNothing(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, strings.Repeat("x", 10)) // then the handler ends: cut short
	}))
	defer o.Close()
	spools := t.TempDir()
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, SpoolDir: spools, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer f.Shutdown(context.Background())
	d := decideDoc(t, `{"rules":[{"mode":"fetch","sourceUrl":"`+o.URL+`","resource":"*","fetch":{"store":false}}]}`, "k")
	dl, err := f.Fetch(context.Background(), "bkt", "k", d)
	if err == nil {
		err = dl.Wait(context.Background())
		dl.Close()
	}
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, OutcomeCut, fe.Outcome)
	require.Eventually(t, func() bool { left, _ := os.ReadDir(spools); return len(left) == 0 }, 5*time.Second, 10*time.Millisecond)
}

// Fetch takes a redirectFetch decision: its object is fetched and stored
// as a fetch rule's.
func TestFetchTakesRedirectFetch(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "x")
	}))
	defer o.Close()
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer f.Shutdown(context.Background())
	d := decideDoc(t, `{"rules":[{"mode":"redirectFetch","sourceUrl":"`+o.URL+`","resource":"*"}]}`, "k")
	require.Equal(t, mirror.ModeRedirectFetch, d.Mode)
	_, err := f.Fetch(context.Background(), "bkt", "k", d)
	var fe *FetchError
	require.ErrorAs(t, err, &fe, "asked the origin, and then the null store refused it")
	assert.Equal(t, OutcomeStoreErr, fe.Outcome)
}
