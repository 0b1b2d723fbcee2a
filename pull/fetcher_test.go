package pull

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
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

// A client of a running fetch may read the spool file itself, at an
// offset of its own, as the bytes arrive: what Ready says is there is
// there, the last byte only once the object is committed, and the fetch's
// own writes are not disturbed by the client's reads.
func TestOpenSpoolReadsAsTheBytesArrive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a spool is opened again through /proc/self/fd, on Linux only")
	}
	release := make(chan struct{})
	body := bytes.Repeat([]byte("0123456789"), 100_000)
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write(body[len(body)/2:])
	}))
	defer o.Close()
	f := &Fetcher{Store: fileStore{dir: t.TempDir()}, AllowPrivateOrigins: true, Logger: slog.New(slog.DiscardHandler)}
	defer f.Shutdown(context.Background())
	dl, err := f.Fetch(context.Background(), "bkt", "k", decide(t, o.URL, "k"))
	require.NoError(t, err)
	defer dl.Close()
	spool, ok := dl.OpenSpool()
	require.True(t, ok)
	defer spool.Close()
	rd := dl.Reader(context.Background(), 0, dl.Info.Size)
	var got []byte
	released := false
	for {
		k, err := rd.Ready()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		piece := make([]byte, k)
		_, err = io.ReadFull(spool, piece)
		require.NoError(t, err, "what Ready says is there is in the file")
		rd.Skip(k)
		got = append(got, piece...)
		if !released {
			require.LessOrEqual(t, len(got), len(body)/2, "only what arrived")
			if len(got) == len(body)/2 {
				close(release) // the rest comes once the first half was read
				released = true
			}
		}
	}
	assert.True(t, bytes.Equal(body, got), "the whole object, in order")
}

// fileStore spools to files and commits nowhere: a FileUpload.
type fileStore struct {
	nullStore
	dir string
}

func (s fileStore) Create(context.Context, string, string) (Upload, error) {
	f, err := os.CreateTemp(s.dir, "up")
	return &fileUpload{f}, err
}

type fileUpload struct{ f *os.File }

func (u *fileUpload) Write(p []byte) (int, error)              { return u.f.Write(p) }
func (u *fileUpload) ReadAt(p []byte, off int64) (int, error)  { return u.f.ReadAt(p, off) }
func (u *fileUpload) File() *os.File                           { return u.f }
func (u *fileUpload) Commit(context.Context, ObjectInfo) error { return nil }
func (u *fileUpload) Abort()                                   { u.f.Close() }
