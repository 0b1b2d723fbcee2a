package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
)

// warmRetries is how often a key refused with SlowDown is tried again,
// each after the Retry-After the refusal asked for (1 s; at most 10 s):
// the fetch slots are full, and live misses go first.
const warmRetries = 10

// storePuller pulls in-process: the store's lookup, the bucket's engine
// and a pull.Fetcher over the store, as mirror serve wires them, so that
// a key is pulled exactly as a miss would be, dial guard and all.
type storePuller struct {
	bucket  string
	store   pull.Store
	fetcher *pull.Fetcher
	engine  func(ctx context.Context) (*mirror.Engine, error)
	limit   *limiter
}

// newStorePuller opens -data and the bucket's configuration (-bucket-file,
// else the one stored by serve); on failure it has said why and returns
// the exit status.
func newStorePuller(e *env, c *warmConfig, limit *limiter) (*storePuller, func(), int) {
	resolve, err := c.resolveMap()
	if err != nil {
		e.errorf("%v", err)
		return nil, nil, 2
	}
	secrets := &files{bosFile: c.bosCredentials, s3File: c.s3Credentials} // read once: a warm is short
	if err := secrets.loadSecrets(); err != nil {
		e.errorf("%v", err)
		return nil, nil, 2
	}
	compiler := mirror.Compiler{AllowPrivateOrigins: c.allowPrivate}
	var fixed *mirror.Engine
	if c.bucketFile != "" {
		data, err := os.ReadFile(c.bucketFile)
		if err != nil {
			e.errorf("-bucket-file: %v", err)
			return nil, nil, 2
		}
		if fixed, err = compiler.Load(data, mirror.FormatAuto); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				e.errorf("%s: %s", c.bucketFile, line)
			}
			return nil, nil, 2
		}
	}
	store, closeStore, err := openStore(context.Background(), &serveConfig{data: c.data, s3Endpoint: c.s3Endpoint, fsync: c.fsync})
	if err != nil {
		e.errorf("-data: %v", err)
		return nil, nil, 2
	}
	quiet := slog.New(slog.DiscardHandler) // warm tells of each failure itself
	p := &storePuller{bucket: c.bucket, store: store, limit: limit}
	if fixed != nil {
		p.engine = func(context.Context) (*mirror.Engine, error) { return fixed, nil }
	} else {
		registry := &bucketconfig.Registry{Store: store, Compiler: compiler, Logger: quiet}
		p.engine = func(ctx context.Context) (*mirror.Engine, error) {
			eng, _, err := registry.Bucket(ctx, c.bucket)
			return eng, err
		}
		eng, err := p.engine(context.Background())
		if err == nil && eng == nil {
			err = errors.New("it has no mirror configuration there (give -bucket-file FILE)")
		}
		if err != nil {
			closeStore()
			e.errorf("bucket %s in -data: %v", c.bucket, err)
			return nil, nil, 2
		}
	}
	// The serve wiring; its slots are the warm's concurrency, so that a
	// warm is never refused by its own Fetcher.
	f := c.wire(store, resolve, secrets)
	f.Logger = quiet
	f.MaxFetches, f.MaxBucketFetches = c.concurrency, c.concurrency
	p.fetcher = f
	return p, closeStore, 0
}

func (p *storePuller) pull(ctx context.Context, key string) (warmResult, int64, error) {
	if ctx.Err() != nil {
		return warmLeft, 0, errInterrupted
	}
	obj, err := p.store.Open(ctx, p.bucket, key)
	switch {
	case err == nil:
		obj.Close()
		return warmStored, 0, nil
	case !errors.Is(err, pull.ErrNotFound):
		return p.failed(ctx, fmt.Errorf("reading the store: %w", err))
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return p.failed(ctx, fmt.Errorf("reading the bucket's configuration: %w", err))
	}
	if eng == nil {
		return warmNotMirrored, 0, errors.New("the bucket has no mirror configuration")
	}
	d, err := eng.Resolve(&mirror.Request{Key: key})
	switch {
	case errors.Is(err, mirror.ErrNoRule):
		return warmNotMirrored, 0, err
	case err != nil:
		return warmFailed, 0, err // a key the engine refuses: a client would get 400
	case d.Mode == mirror.ModeRedirect:
		return warmNotMirrored, 0, fmt.Errorf("rule %d redirects it", d.Rule)
	case d.Policy != nil && !d.Policy.Store:
		// A proxy-only rule stores nothing: warming it would only ask
		// its origin (docs/SERVING.md §3.10).
		return warmNotMirrored, 0, fmt.Errorf("rule %d serves without storing (fetch.store false)", d.Rule)
	}
	for try := 0; ; try++ {
		if err := p.limit.wait(ctx); err != nil {
			return warmLeft, 0, errInterrupted
		}
		dl, err := p.fetcher.Fetch(ctx, p.bucket, key, d)
		var fe *pull.FetchError
		if errors.As(err, &fe) && fe.Outcome == pull.OutcomeSlowDown && try < warmRetries {
			if sleepCtx(ctx, time.Second) != nil {
				return warmLeft, 0, errInterrupted
			}
			continue
		}
		if err != nil {
			return p.failed(ctx, err)
		}
		defer dl.Close()
		if dl.Stored {
			return warmStored, 0, nil
		}
		if err := dl.Wait(ctx); err != nil {
			return p.failed(ctx, err)
		}
		return warmPulled, dl.Object().Info().Size, nil
	}
}

// failed classes a fetch that gave no object: the origin's 404 is
// "missing", an interruption leaves the key for the next run.
func (p *storePuller) failed(ctx context.Context, err error) (warmResult, int64, error) {
	var fe *pull.FetchError
	switch {
	case errors.As(err, &fe) && fe.Outcome == pull.OutcomeNotFound:
		return warmMissing, 0, err
	case ctx.Err() != nil:
		return warmLeft, 0, errInterrupted
	}
	return warmFailed, 0, err
}

// shutdown cuts what an interruption left running, so that no upload is
// left behind: the keys were counted as left.
func (p *storePuller) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = p.fetcher.Shutdown(ctx)
}

// gatewayPuller pulls through a running gateway: a HEAD that asks for a
// stored object only (Cache-Control: only-if-cached, answered 504 when it
// is not stored, never a fetch), then, for a key not stored, a GET whose
// body is read and dropped (docs/SERVING.md §6).
type gatewayPuller struct {
	base   string // the URL with no trailing slash
	bucket string
	client *http.Client
	limit  *limiter
	agent  string
}

func newGatewayPuller(c *warmConfig, limit *limiter) *gatewayPuller {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = c.concurrency
	// A miss's answer starts once its origin has answered (and a small
	// one once stored): well within this, or the gateway is stuck.
	t.ResponseHeaderTimeout = 2 * time.Minute
	// The bytes as stored, not a gunzipped copy.
	t.DisableCompression = true
	return &gatewayPuller{
		base: strings.TrimSuffix(c.url, "/"), bucket: c.bucket, limit: limit,
		agent: "mirror-warm/" + thisBuild().version,
		client: &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect rule's answer is the answer
		}},
	}
}

// keyPath is /BUCKET/KEY with each segment of KEY escaped; a segment of
// dots is escaped too, so that nothing between here and the gateway takes
// it for a step up.
func (p *gatewayPuller) keyPath(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		if s == "." || s == ".." {
			segs[i] = strings.ReplaceAll(s, ".", "%2E")
		} else {
			segs[i] = url.PathEscape(s)
		}
	}
	return p.base + "/" + p.bucket + "/" + strings.Join(segs, "/")
}

func (p *gatewayPuller) pull(ctx context.Context, key string) (warmResult, int64, error) {
	resp, err := p.do(ctx, http.MethodHead, key, "only-if-cached")
	if err != nil {
		return p.failed(ctx, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return warmStored, 0, nil
	case http.StatusGatewayTimeout:
	default:
		return warmFailed, 0, fmt.Errorf("HEAD (only-if-cached) answered %s", resp.Status)
	}
	if err := p.limit.wait(ctx); err != nil {
		return warmLeft, 0, errInterrupted
	}
	resp, err = p.do(ctx, http.MethodGet, key, "")
	if err != nil {
		return p.failed(ctx, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			return p.failed(ctx, fmt.Errorf("the answer broke off after %d bytes: %w", n, err))
		}
		return warmPulled, n, nil
	case resp.StatusCode == http.StatusNotFound:
		return warmMissing, 0, errors.New(answerCode(resp))
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return warmNotMirrored, 0, fmt.Errorf("a redirect rule: %s", resp.Status)
	}
	return warmFailed, 0, fmt.Errorf("GET answered %s", answerCode(resp))
}

// do sends one request, again after each SlowDown up to warmRetries
// times, waiting what its Retry-After asks. A SlowDown is a 503 with a
// Retry-After in every dialect; a failed mirror, 503 in S3's dialect too,
// carries none and is not tried again here (the next run tries it).
func (p *gatewayPuller) do(ctx context.Context, method, key, cacheControl string) (*http.Response, error) {
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, method, p.keyPath(key), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", p.agent)
		if cacheControl != "" {
			req.Header.Set("Cache-Control", cacheControl)
		}
		resp, err := p.client.Do(req)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || try >= warmRetries {
			return resp, err
		}
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, 10*time.Second)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (p *gatewayPuller) failed(ctx context.Context, err error) (warmResult, int64, error) {
	if ctx.Err() != nil {
		return warmLeft, 0, errInterrupted
	}
	return warmFailed, 0, err
}

// codePattern finds the code of an error answer in any of the gateway's
// dialects: S3's XML, or the JSON of the others.
var codePattern = regexp.MustCompile(`<Code>([^<]{1,64})</Code>|"code"\s*:\s*"([^"]{1,64})"`)

// answerCode is an error answer's status and code, as people read them.
func answerCode(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if m := codePattern.FindSubmatch(b); m != nil {
		return resp.Status + " " + string(m[1]) + string(m[2])
	}
	return resp.Status
}
