package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// The defaults of `mirror warm` (docs/SERVING.md §6).
const (
	// defaultWarmConcurrency is small: a warm shares the origin, and
	// through a gateway its fetch slots, with live misses.
	defaultWarmConcurrency = 4
	defaultWarmReport      = 10 * time.Second
	defaultWarmGrace       = 30 * time.Second
	// stateSuffix names the state file beside a keys file.
	stateSuffix = ".warm-state"
)

// warmConfig is what the warm flags say.
type warmConfig struct {
	bucket           string
	keys, fromLog    string
	state            string
	url              string
	data, s3Endpoint string
	bucketFile       string
	fsync            dirstore.Fsync
	originFlags      // originflags.go
	concurrency      int
	rate             float64
	report, grace    time.Duration
	// progressBar, when set, gets the progress bar whatever standard
	// error is (tests).
	progressBar io.Writer
}

func warmFlags(fs *flag.FlagSet) func(*env) int { return addWarmFlags(fs, &warmConfig{}) }

// addWarmFlags sets fs's flags into c.
func addWarmFlags(fs *flag.FlagSet, c *warmConfig) func(*env) int {
	fs.StringVar(&c.bucket, "bucket", "", "the gateway `bucket` to warm (required)")
	fs.StringVar(&c.keys, "keys", "", "`file` of keys to pull, one a line; - reads standard input")
	fs.StringVar(&c.fromLog, "from-log", "", "take the keys of -bucket from the gateway's log `file` (JSON or text lines with bucket and key); - reads standard input")
	fs.StringVar(&c.state, "state", "", "the resume `file`: each key done is appended, and a key there is skipped (default: the -keys or -from-log file with "+stateSuffix+" appended)")
	fs.StringVar(&c.url, "url", "", "warm through the running gateway at this `URL` (http://HOST:PORT) instead of a store")
	fs.StringVar(&c.data, "data", "", "warm this store in-process: a `directory`, or s3://BUCKET[/PREFIX], as mirror serve -data")
	fs.StringVar(&c.s3Endpoint, "s3-endpoint", "", "the S3-compatible store's `URL` for -data s3://...")
	fs.StringVar(&c.bucketFile, "bucket-file", "", "the bucket's mirror configuration `file` (format auto-detected), instead of the one stored in -data; it is not stored")
	fs.Var(&c.fsync, "fsync", "`mode` of a directory store's commits: commit or none, as mirror serve -fsync")
	c.originFlags.register(fs) // as serve's: a key is pulled as a miss is
	fs.IntVar(&c.concurrency, "concurrency", defaultWarmConcurrency, "most keys pulled at once: at most this many origin requests (in-process) or gateway fetch slots (-url) at a time")
	fs.Float64Var(&c.rate, "rate", 0, "most `keys` a second sent to the origin (or, with -url, to the gateway's fetch); 0: no limit")
	fs.DurationVar(&c.report, "report", defaultWarmReport, "when standard error is not a terminal, print a progress line this often (0: none)")
	fs.DurationVar(&c.grace, "grace", defaultWarmGrace, "on SIGINT or SIGTERM, how long the keys under way may take to finish (a second signal cuts them at once)")
	return func(e *env) int { return warm(e, c) }
}

// warmResult is how one key ended.
type warmResult int

const (
	warmPulled      warmResult = iota // fetched from its origin and stored
	warmStored                        // already stored: skipped
	warmMissing                       // the origin answered 404
	warmNotMirrored                   // no rule fetches it (no rule, a redirect rule)
	warmFailed                        // anything else; tried again by the next run
	warmLeft                          // cut by an interruption; tried again by the next run
)

// stateWords are the words of the results a state file records: the
// final ones. A failed key is not recorded, so the next run tries it
// again.
var stateWords = map[warmResult]string{
	warmPulled: "pulled", warmStored: "stored", warmMissing: "missing", warmNotMirrored: "not-mirrored",
}

// puller pulls one key into the store, the in-process way or through a
// gateway. A result of warmLeft means ctx ended first.
type puller interface {
	pull(ctx context.Context, key string) (res warmResult, bytes int64, err error)
}

func warm(e *env, c *warmConfig) int {
	if code := c.check(e); code != 0 {
		return code
	}
	keys, err := readWarmKeys(e.stdin, c.keys, c.fromLog, c.bucket)
	if err != nil {
		e.errorf("%v", err)
		return 2
	}
	statePath := c.statePath()
	var state *warmState
	done := map[string]bool{}
	if statePath != "" {
		if state, done, err = openWarmState(statePath, c.bucket); err != nil {
			e.errorf("-state: %v", err)
			return 2
		}
		defer state.close()
	} else {
		fmt.Fprintln(e.stderr, "warm: no -state (keys from standard input): an interrupted run starts over, though stored keys are still skipped")
	}
	var p puller
	limit := newLimiter(c.rate)
	if c.url != "" {
		p = newGatewayPuller(c, limit)
	} else {
		sp, closeStore, code := newStorePuller(e, c, limit)
		if code != 0 {
			return code
		}
		defer closeStore()
		p = sp
	}
	var todo []string
	for _, k := range keys {
		if !done[k] {
			todo = append(todo, k)
		}
	}
	r := &warmRun{e: e, c: c, state: state, total: len(keys), doneBefore: len(keys) - len(todo), stateOK: true}
	code := r.run(p, todo)
	if sp, ok := p.(*storePuller); ok {
		sp.shutdown()
	}
	if err := state.close(); err != nil {
		e.errorf("-state: %v", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// check refuses flags that do not go together.
func (c *warmConfig) check(e *env) int {
	switch {
	case len(e.args) > 0:
		e.errorf("unexpected argument %q", e.args[0])
	case !mirror.ValidBucket(c.bucket):
		e.errorf("-bucket: want a valid bucket name (3-63 of a-z 0-9 -)")
	case c.keys == "" && c.fromLog == "":
		e.errorf("-keys FILE or -from-log FILE is required: the keys to pull")
	case c.keys == "-" && c.fromLog == "-":
		e.errorf("-keys and -from-log can not both read standard input")
	case (c.url == "") == (c.data == ""):
		e.errorf("give -data DIR|s3://... (in-process) or -url http://HOST:PORT (through a gateway), not both")
	case c.url != "" && (c.bucketFile != "" || c.s3Endpoint != "" || c.allowPrivate || len(c.resolve) > 0 || c.bosCredentials != "" || c.s3Credentials != ""):
		e.errorf("-url warms through a gateway, which fetches with its own rules and options: -bucket-file, -s3-endpoint, -allow-private-origins, -resolve, -bos-origin-credentials and -s3-origin-credentials are for -data")
	case c.concurrency < 1:
		e.errorf("-concurrency must be at least 1")
	case c.rate < 0 || c.report < 0:
		e.errorf("-rate and -report must not be negative")
	case c.grace <= 0 || c.fetcher.DialTimeout <= 0 || c.fetcher.HeaderTimeout <= 0 || c.fetcher.IdleTimeout <= 0 ||
		c.fetcher.FetchTimeout <= 0 || c.fetcher.MinRate <= 0:
		e.errorf("-grace, the timeouts and -min-rate must be positive")
	case c.fsync != dirstore.FsyncCommit && !isDirData(c.data):
		e.errorf("-fsync %v is for a directory -data", c.fsync)
	default:
		if c.url != "" {
			u, err := url.Parse(c.url)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				e.errorf("-url %q: want http://HOST:PORT or https://HOST:PORT", c.url)
				return 2
			}
		}
		return 0
	}
	return 2
}

func isDirData(data string) bool { return data != "" && !strings.Contains(data, "://") }

// statePath is -state, else the keys file's name with stateSuffix; ""
// when the keys come from standard input only.
func (c *warmConfig) statePath() string {
	switch {
	case c.state != "":
		return c.state
	case c.keys != "" && c.keys != "-":
		return c.keys + stateSuffix
	case c.fromLog != "" && c.fromLog != "-":
		return c.fromLog + stateSuffix
	}
	return ""
}

// warmRun is one run over the keys not done before.
type warmRun struct {
	e          *env
	c          *warmConfig
	state      *warmState
	total      int
	doneBefore int

	mu      sync.Mutex
	counts  [warmLeft + 1]int
	bytes   int64
	bar     *progressbar.ProgressBar
	stateOK bool // false once a state write failed (reported once)
}

// run pulls todo with c.concurrency workers, until done or interrupted,
// and prints the summary. It returns the exit status.
func (r *warmRun) run(p puller, todo []string) int {
	// Starting stops at the first signal; the keys under way get -grace,
	// or end at a second signal (docs/SERVING.md §6).
	stopStarting, stop := context.WithCancel(context.Background())
	defer stop()
	work, cutWork := context.WithCancel(context.Background())
	defer cutWork()
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigc)
	finished := make(chan struct{})
	var caught os.Signal
	var caughtMu sync.Mutex
	go func() {
		select {
		case s := <-sigc:
			caughtMu.Lock()
			caught = s
			caughtMu.Unlock()
			stop()
			r.line("warm: %v: starting no more keys; those under way have %v to finish (a second signal cuts them now)", s, r.c.grace)
			select {
			case <-sigc:
			case <-time.After(r.c.grace):
			case <-finished:
				return
			}
			cutWork()
		case <-finished:
		}
	}()

	r.startProgress(len(todo))
	reporterDone := r.startReports(finished)
	keys := make(chan string)
	go func() {
		defer close(keys)
		for _, k := range todo {
			select {
			case keys <- k:
			case <-stopStarting.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(r.c.concurrency, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				if stopStarting.Err() != nil {
					continue
				}
				res, n, err := p.pull(work, k)
				r.record(k, res, n, err)
			}
		}()
	}
	wg.Wait()
	close(finished)
	<-reporterDone
	r.finishProgress()

	caughtMu.Lock()
	sig := caught
	caughtMu.Unlock()
	judged := 0
	for res := warmPulled; res < warmLeft; res++ {
		judged += r.counts[res]
	}
	left := len(todo) - judged
	fmt.Fprintln(r.e.stdout, r.summary(left))
	switch {
	case sig != nil && left > 0:
		if s, ok := sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
		return 130
	case r.counts[warmFailed] > 0:
		return 1
	}
	return 0
}

// record counts one key, appends it to the state when it is done for
// good, and tells of a failure.
func (r *warmRun) record(key string, res warmResult, n int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[res]++
	r.bytes += n
	if word, ok := stateWords[res]; ok && r.state != nil {
		if werr := r.state.add(word, key); werr != nil && r.stateOK {
			r.stateOK = false
			r.lineLocked("warm: -state: %v (the run goes on; a later one may judge these keys again)", werr)
		}
	}
	if res == warmFailed {
		r.lineLocked("warm: failed %q: %v", key, err)
	}
	if r.bar != nil && res != warmLeft {
		_ = r.bar.Add(1)
	}
}

// line writes a line on standard error, around the progress bar.
func (r *warmRun) line(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lineLocked(format, args...)
}

func (r *warmRun) lineLocked(format string, args ...any) {
	if r.bar != nil {
		_ = r.bar.Clear()
	}
	fmt.Fprintf(r.e.stderr, format+"\n", args...)
	if r.bar != nil {
		_ = r.bar.RenderBlank()
	}
}

// startProgress shows a progress bar when standard error is a terminal.
func (r *warmRun) startProgress(n int) {
	w := r.c.progressBar
	if w == nil {
		f, ok := r.e.stderr.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return
		}
		w = f
	}
	r.bar = progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(r.describe()),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("keys"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(), progressbar.OptionShowDescriptionAtLineEnd())
	_ = r.bar.RenderBlank()
}

func (r *warmRun) finishProgress() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Describe(r.describe())
		_ = r.bar.Exit()
		fmt.Fprintln(r.e.stderr)
		r.bar = nil
	}
}

// startReports refreshes the bar's counts every second, or, with no bar,
// prints a plain line every -report; the returned channel is closed once
// it has stopped.
func (r *warmRun) startReports(finished <-chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	r.mu.Lock()
	bar := r.bar != nil
	r.mu.Unlock()
	every := r.c.report
	if bar {
		every = time.Second
	}
	if every <= 0 {
		close(out)
		return out
	}
	go func() {
		defer close(out)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-finished:
				return
			case <-tick.C:
			}
			r.mu.Lock()
			if r.bar != nil {
				r.bar.Describe(r.describe())
			} else {
				fmt.Fprintln(r.e.stderr, r.progressLine())
			}
			r.mu.Unlock()
		}
	}()
	return out
}

// describe is the bar's description: the counts so far. r.mu is held,
// or the bar is not shared yet.
func (r *warmRun) describe() string {
	return fmt.Sprintf("pulled %d skipped %d missing %d failed %d (%s)", r.counts[warmPulled], r.counts[warmStored],
		r.counts[warmMissing], r.counts[warmFailed], humanBytes(r.bytes))
}

// progressLine is the plain periodic line. r.mu is held.
func (r *warmRun) progressLine() string {
	done := r.doneBefore
	for res := warmPulled; res < warmLeft; res++ {
		done += r.counts[res]
	}
	return fmt.Sprintf("warm: %d/%d pulled %d skipped %d missing %d not-mirrored %d failed %d bytes %s", done, r.total,
		r.counts[warmPulled], r.counts[warmStored], r.counts[warmMissing], r.counts[warmNotMirrored], r.counts[warmFailed],
		humanBytes(r.bytes))
}

// summary is the last line (docs/SERVING.md §6).
func (r *warmRun) summary(left int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := fmt.Sprintf("warm: pulled %d (%s), skipped %d (stored), missing at origin %d, not mirrored %d, failed %d, done before %d",
		r.counts[warmPulled], humanBytes(r.bytes), r.counts[warmStored], r.counts[warmMissing], r.counts[warmNotMirrored],
		r.counts[warmFailed], r.doneBefore)
	if left > 0 {
		s += fmt.Sprintf(", left %d (interrupted)", left)
	}
	return s
}

// humanBytes is n in B, KiB, MiB, GiB or TiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// limiter spaces starts at least 1/rate apart (no burst); nil: no limit.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the next start is due, or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.every)
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

// sleepCtx sleeps d, or less when ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errInterrupted is the error of a key cut by an interruption.
var errInterrupted = errors.New("interrupted")
