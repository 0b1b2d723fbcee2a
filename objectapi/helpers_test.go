package objectapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/require"
)

// gateway is a Handler over a DirStore in a temporary directory, served
// on loopback, with rules per bucket.
type gateway struct {
	t       *testing.T
	store   *dirstore.Store
	fetcher *pull.Fetcher
	handler *Handler
	configs *bucketconfig.Registry
	srv     *httptest.Server
	logs    *lockedBuffer // the handler's log
	// fetchLogs is the Fetcher's.
	fetchLogs *lockedBuffer
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// quietLogger drops the fetch lines of tests.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func newGateway(t *testing.T, setup ...func(*pull.Fetcher)) *gateway {
	t.Helper()
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	g := &gateway{t: t, store: store}
	g.configs = &bucketconfig.Registry{Store: store, Compiler: mirror.Compiler{AllowPrivateOrigins: true}, Logger: quietLogger}
	g.fetchLogs = &lockedBuffer{}
	g.fetcher = &pull.Fetcher{Store: store, AllowPrivateOrigins: true, Logger: slog.New(slog.NewTextHandler(g.fetchLogs, nil))}
	for _, s := range setup {
		s(g.fetcher)
	}
	g.logs = &lockedBuffer{}
	g.handler = &Handler{Store: store, Fetcher: g.fetcher, Registry: g.configs, Logger: slog.New(slog.NewTextHandler(g.logs, nil)),
		Errors: "json"} // the tests read the gateway's own JSON unless they say otherwise
	g.srv = httptest.NewServer(g.handler)
	// Bytes as the gateway sent them: no transparent gunzip.
	g.srv.Client().Transport.(*http.Transport).DisableCompression = true
	t.Cleanup(func() {
		g.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = g.fetcher.Shutdown(ctx)
	})
	return g
}

// setRules compiles a document (private origins allowed) for a bucket.
func (g *gateway) setRules(bucket, doc string) {
	g.t.Helper()
	require.NoError(g.t, g.configs.Put(context.Background(), bucket, mirror.FormatAuto, []byte(doc)))
}

// public makes a bucket public-read, whatever its rules would make it.
func (g *gateway) public(bucket string) {
	g.t.Helper()
	require.NoError(g.t, g.configs.SetPolicy(context.Background(), bucket, bucketconfig.PublicRead))
}

// deleteRules removes a bucket's configuration.
func (g *gateway) deleteRules(bucket string) {
	g.t.Helper()
	ctx := context.Background()
	format, _, ok, err := g.configs.Config(ctx, bucket)
	require.NoError(g.t, err)
	require.True(g.t, ok)
	removed, err := g.configs.Delete(ctx, bucket, format)
	require.NoError(g.t, err)
	require.True(g.t, removed)
}

// fetchRule is a native document of one fetch rule for every key.
func fetchRule(origin string, more ...string) string {
	extra := ""
	if len(more) > 0 {
		extra = "," + strings.Join(more, ",")
	}
	return `{"rules":[{"mode":"fetch","sourceUrl":"` + origin + `","resource":"*"` + extra + `}]}`
}

// get sends a request with "Name: value" headers.
func (g *gateway) do(method, path string, headers ...string) *http.Response {
	g.t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, nil)
	require.NoError(g.t, err)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Add(name, value)
	}
	resp, err := g.srv.Client().Do(req)
	require.NoError(g.t, err)
	return resp
}

// body reads a response whole; err is what ended the read.
func body(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// errorCode reads a JSON error answer.
func errorCode(t *testing.T, resp *http.Response) httpapi.JSONError {
	t.Helper()
	defer resp.Body.Close()
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var e httpapi.JSONError
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	require.Equal(t, resp.Header.Get("X-Request-Id"), e.RequestID)
	require.Regexp(t, `^[0-9a-f]{16}$`, e.RequestID, "16 hex digits, as on every API")
	return e
}

// detail reads an error answer and returns what the gateway logged of it
// beside its request id: the detail a client is not told.
func (g *gateway) detail(t *testing.T, resp *http.Response) string {
	t.Helper()
	_, line := g.answerAndLog(t, resp)
	return line
}

// answerAndLog reads an error answer and the gateway's log line of it.
func (g *gateway) answerAndLog(t *testing.T, resp *http.Response) (httpapi.JSONError, string) {
	t.Helper()
	e := errorCode(t, resp)
	for _, line := range strings.Split(g.logs.String(), "\n") {
		if strings.Contains(line, "request="+e.RequestID) {
			return e, line
		}
	}
	t.Fatalf("nothing was logged for request %s (%s: %s)", e.RequestID, e.Code, e.Message)
	return e, ""
}

// origin is a loopback origin that counts its requests and answers with
// serve.
type origin struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	reqs []*http.Request
}

func newOrigin(t *testing.T, serve http.HandlerFunc) *origin {
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.reqs = append(o.reqs, r.Clone(context.Background()))
		o.mu.Unlock()
		serve(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) requests() []*http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*http.Request(nil), o.reqs...)
}

// content serves a fixed body with its length.
func content(body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, h := range headers {
			name, value, _ := strings.Cut(h, ": ")
			w.Header().Add(name, value)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	}
}

// stored reads an object from the store, "" and false when absent.
func (g *gateway) stored(bucket, key string) (string, pull.ObjectInfo, bool) {
	g.t.Helper()
	obj, err := g.store.Open(context.Background(), bucket, key)
	if err != nil {
		return "", pull.ObjectInfo{}, false
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	require.NoError(g.t, err)
	return string(b), obj.Info(), true
}
