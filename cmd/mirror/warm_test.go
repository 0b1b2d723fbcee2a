package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// warmOrigin is a loopback origin for `mirror warm`: it counts the
// requests for each path and the most running at once; a path holding
// "missing" is 404, one holding "fail" is 500, any other is a body
// naming it.
type warmOrigin struct {
	*httptest.Server
	delay atomic.Int64 // nanoseconds each answer waits
	mu    sync.Mutex
	count map[string]int
	total atomic.Int64
	now   atomic.Int64
	peak  atomic.Int64
}

func newWarmOrigin(t *testing.T, delay time.Duration) *warmOrigin {
	o := &warmOrigin{count: map[string]int{}}
	o.delay.Store(int64(delay))
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.count[r.URL.Path]++
		o.mu.Unlock()
		o.total.Add(1)
		n := o.now.Add(1)
		defer o.now.Add(-1)
		for p := o.peak.Load(); n > p && !o.peak.CompareAndSwap(p, n); p = o.peak.Load() {
		}
		time.Sleep(time.Duration(o.delay.Load()))
		switch {
		case strings.Contains(r.URL.Path, "missing"):
			http.NotFound(w, r)
		case strings.Contains(r.URL.Path, "fail"):
			http.Error(w, "down", http.StatusInternalServerError)
		default:
			_, _ = io.WriteString(w, warmBody(r.URL.Path))
		}
	}))
	t.Cleanup(o.Close)
	return o
}

// warmBody is what the origin sends for a path.
func warmBody(path string) string { return "the object at " + path }

// counts is a copy of the requests for each path.
func (o *warmOrigin) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for k, v := range o.count {
		out[k] = v
	}
	return out
}

// warmKeys writes keys, one a line, and returns the file.
func warmKeys(t *testing.T, keys []string) string {
	return writeFile(t, "keys.txt", strings.Join(keys, "\n")+"\n")
}

func numbered(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return keys
}

// summaryCounts reads the numbers of a warm's summary line.
var summaryRE = regexp.MustCompile(`warm: pulled (\d+) \(([^)]*)\), skipped (\d+) \(stored\), missing at origin (\d+), not mirrored (\d+), failed (\d+), done before (\d+)(?:, left (\d+) \(interrupted\))?`)

type warmSummary struct {
	pulled, skipped, missing, notMirrored, failed, doneBefore, left int
	bytes                                                           string
}

func parseSummary(t *testing.T, out string) warmSummary {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	require.NotNil(t, m, "a summary line in %q", out)
	n := func(i int) int {
		v, _ := strconv.Atoi(m[i])
		return v
	}
	return warmSummary{pulled: n(1), bytes: m[2], skipped: n(3), missing: n(4), notMirrored: n(5), failed: n(6), doneBefore: n(7), left: n(8)}
}

// 1,000 keys are pulled once each, at most -concurrency at a time, with
// the configuration mirror serve stored in the store; a second run with
// the same state contacts nothing, and one with a new state finds every
// key stored.
func TestWarmPullsEachKeyOnce(t *testing.T) {
	o := newWarmOrigin(t, time.Millisecond)
	data := t.TempDir()
	store, err := dirstore.Open(data)
	require.NoError(t, err)
	reg := &bucketconfig.Registry{Store: store, Compiler: mirror.Compiler{AllowPrivateOrigins: true}}
	require.NoError(t, reg.Put(context.Background(), "bkt", mirror.FormatAuto, []byte(`{"source_site":"`+o.URL+`/site"}`)))
	require.NoError(t, store.Close())

	keys := numbered("dir/key-", 1000)
	keysFile := warmKeys(t, keys)
	args := []string{"warm", "-bucket", "bkt", "-data", data, "-allow-private-origins", "-keys", keysFile, "-concurrency", "8", "-fsync", "none"}
	code, out, errOut := runCmd(t, "", args...)
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errOut)
	s := parseSummary(t, out)
	assert.Equal(t, warmSummary{pulled: 1000, bytes: s.bytes}, s)
	var size int
	counts := o.counts()
	require.Len(t, counts, 1000)
	for _, k := range keys {
		assert.Equal(t, 1, counts["/site/"+k], k)
		size += len(warmBody("/site/" + k))
	}
	assert.Equal(t, humanBytes(int64(size)), s.bytes)
	assert.LessOrEqual(t, o.peak.Load(), int64(8), "at most -concurrency origin requests at once")
	assert.Greater(t, o.peak.Load(), int64(1), "concurrently")

	state, err := os.ReadFile(keysFile + stateSuffix)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(state)), "\n")
	assert.Equal(t, `# mirror warm state, bucket "bkt"`, lines[0])
	assert.Len(t, lines, 1001)

	// The same state: every key done before, nothing contacted.
	code, out, errOut = runCmd(t, "", args...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, warmSummary{doneBefore: 1000, bytes: "0 B"}, parseSummary(t, out))
	// A new state: each key found in the store, still no origin request.
	code, out, errOut = runCmd(t, "", append(args, "-state", filepath.Join(t.TempDir(), "state"))...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, warmSummary{skipped: 1000, bytes: "0 B"}, parseSummary(t, out))
	assert.EqualValues(t, 1000, o.total.Load())
}

// The origin's 404 is "missing at origin" (exit 0); its 500 is a failure
// (exit 1), which the next run tries again while the rest is done; no
// rule and a redirect rule are "not mirrored".
func TestWarmMissingFailedAndNotMirrored(t *testing.T) {
	o := newWarmOrigin(t, 0)
	rules := writeFile(t, "rules.json", `{"rules":[`+
		`{"mode":"redirect","sourceUrl":"https://cdn.example.com","resource":"r-*"},`+
		`{"mode":"fetch","sourceUrl":"`+o.URL+`","resource":"*-*"}]}`)
	data := t.TempDir()
	keysFile := warmKeys(t, []string{"ok-1", "ok-2", "missing-1", "ok-1", "fail-1", "r-1", "nope", "ok-3"})
	args := []string{"warm", "-bucket", "bkt", "-data", data, "-bucket-file", rules, "-allow-private-origins", "-keys", keysFile}
	code, out, errOut := runCmd(t, "", args...)
	assert.Equal(t, 1, code, "a failure: exit 1")
	s := parseSummary(t, out)
	assert.Equal(t, warmSummary{pulled: 3, skipped: 0, missing: 1, notMirrored: 2, failed: 1, bytes: s.bytes}, s)
	assert.Contains(t, errOut, `warm: failed "fail-1": `)
	assert.Equal(t, map[string]int{"/ok-1": 1, "/ok-2": 1, "/ok-3": 1, "/missing-1": 1, "/fail-1": 1}, o.counts())

	code, out, _ = runCmd(t, "", args...)
	assert.Equal(t, 1, code)
	assert.Equal(t, warmSummary{failed: 1, doneBefore: 6, bytes: "0 B"}, parseSummary(t, out))
	assert.Equal(t, map[string]int{"/ok-1": 1, "/ok-2": 1, "/ok-3": 1, "/missing-1": 1, "/fail-1": 2}, o.counts(),
		"only the failed key is asked again")

	// Only keys the origin lacks, from standard input: exit 0.
	code, out, errOut = runCmd(t, "missing-2\n", "warm", "-bucket", "bkt", "-data", data, "-bucket-file", rules, "-allow-private-origins",
		"-keys", "-", "-state", filepath.Join(t.TempDir(), "s"))
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, warmSummary{missing: 1, bytes: "0 B"}, parseSummary(t, out))
}

// A warm interrupted by SIGINT lets the keys under way finish, records
// what is done, and exits 130; the next run with the same state pulls
// the rest: the origin is asked for each key exactly once in all.
func TestWarmResumesAfterSIGINT(t *testing.T) {
	o := newWarmOrigin(t, 20*time.Millisecond)
	rules := writeFile(t, "rules.json", `{"source_site":"`+o.URL+`"}`)
	data := t.TempDir()
	keys := append(numbered("k", 200), "missing-1", "missing-2")
	keysFile := warmKeys(t, keys)
	args := []string{"warm", "-bucket", "bkt", "-data", data, "-bucket-file", rules, "-allow-private-origins", "-keys", keysFile,
		"-concurrency", "4", "-fsync", "none", "-report", "100ms"}

	cmd := exec.Command(mirrorBinary(t), args...)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	require.Eventually(t, func() bool { return o.total.Load() >= 60 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stdout %s\nstderr %s", stdout.String(), stderr.String())
	assert.Equal(t, 130, exit.ExitCode(), "interrupted: 128+SIGINT")
	first := parseSummary(t, stdout.String())
	assert.Positive(t, first.left, "interrupted mid-way")
	assert.Zero(t, first.failed)
	assert.Equal(t, len(keys), first.pulled+first.missing+first.left)
	assert.Regexp(t, `warm: \d+/202 pulled \d+ skipped 0 missing \d+ not-mirrored 0 failed 0 bytes `, stderr.String(),
		"plain progress lines when standard error is no terminal")
	assert.Contains(t, stderr.String(), "interrupt: starting no more keys")
	asked := int(o.total.Load())
	assert.Equal(t, first.pulled+first.missing, asked, "every key the origin was asked for was finished and counted")

	cmd = exec.Command(mirrorBinary(t), args...)
	var out2 bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out2, io.Discard
	require.NoError(t, cmd.Run())
	second := parseSummary(t, out2.String())
	assert.Equal(t, warmSummary{pulled: 200 - first.pulled, missing: 2 - first.missing, doneBefore: first.pulled + first.missing,
		bytes: second.bytes}, second)
	counts := o.counts()
	require.Len(t, counts, len(keys))
	for _, k := range keys {
		assert.Equal(t, 1, counts["/"+k], "%s: asked once in both runs", k)
	}
}

// Through a running gateway: a stored key is skipped on a HEAD with
// Cache-Control: only-if-cached, which the origin never hears of; the
// others are pulled with one GET each.
func TestWarmThroughAGateway(t *testing.T) {
	o := newWarmOrigin(t, 0)
	rules := writeFile(t, "rules.json", `{"source_site":"`+o.URL+`"}`)
	p := startServe(t, "-data", t.TempDir(), "-bucket", "bkt="+rules, "-allow-private-origins")
	stored := numbered("stored/", 10)
	for _, k := range stored {
		code, body := getBody(t, http.DefaultClient, p.url+"/bkt/"+k)
		require.Equal(t, 200, code, body)
	}
	require.EqualValues(t, 10, o.total.Load())

	fresh := append(numbered("fresh/", 20), "odd key?#%.txt", "sp ace/ü+.txt")
	keysFile := warmKeys(t, append(append(append([]string{}, stored...), fresh...), "missing-1"))
	code, out, errOut := runCmd(t, "", "warm", "-bucket", "bkt", "-url", p.url, "-keys", keysFile, "-concurrency", "3")
	require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errOut)
	s := parseSummary(t, out)
	assert.Equal(t, warmSummary{pulled: 22, skipped: 10, missing: 1, bytes: s.bytes}, s)
	counts := o.counts()
	for _, k := range stored {
		assert.Equal(t, 1, counts["/"+k], "%s: stored before, never asked again", k)
	}
	size := 0
	for _, k := range fresh {
		assert.Equal(t, 1, counts["/"+k], k)
		size += len(warmBody("/" + k))
	}
	assert.Equal(t, humanBytes(int64(size)), s.bytes)
	assert.EqualValues(t, 10+22+1, o.total.Load())

	// Again, with a new state: all stored now, the origin asked nothing.
	code, out, errOut = runCmd(t, "", "warm", "-bucket", "bkt", "-url", p.url, "-keys", keysFile, "-state", filepath.Join(t.TempDir(), "s"))
	require.Equal(t, 0, code, errOut)
	s = parseSummary(t, out)
	assert.Equal(t, warmSummary{skipped: 32, missing: 1, bytes: "0 B"}, s)
	assert.EqualValues(t, 10+22+2, o.total.Load(), "only the missing key is asked again")
	require.NoError(t, p.stop(t))
}

// -from-log takes the keys of the bucket from the gateway's JSON and text
// log lines, slog's quoting undone, each once.
func TestWarmKeysFromLog(t *testing.T) {
	log := strings.Join([]string{
		`listening on http://127.0.0.1:8080`,
		`time=2026-01-01T00:00:00Z level=INFO msg=fetch bucket=bkt key=a/b.txt rule=0 status=200`,
		`time=2026-01-01T00:00:00Z level=INFO msg=fetch bucket=other key=not-mine`,
		`time=2026-01-01T00:00:00Z level=WARN msg="object request" request=0123 bucket=bkt key="with space \"and quote\"" outcome=failed`,
		`{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"access","bucket":"bkt","key":"json/\u00e9\n","status":200}`,
		`{"msg":"access","bucket":"bkt","Key":"wrong case"}`,
		`{"msg":"configuration","bucket":"bkt","op":"put"}`,
		`time=2026-01-01T00:00:00Z level=INFO msg=fetch bucket=bkt key=a/b.txt`,
		`mirror: something else key=x`,
		`{broken`,
		`level=INFO msg=fetch bucket=bkt key="unterminated`,
	}, "\n")
	file := writeFile(t, "gateway.log", log)
	keys, err := readWarmKeys(strings.NewReader(""), "", file, "bkt")
	require.NoError(t, err)
	assert.Equal(t, []string{"a/b.txt", `with space "and quote"`, "json/é\n"}, keys)

	// With -keys too: the file's keys first, then the log's new ones.
	keys, err = readWarmKeys(strings.NewReader("z\r\n\na/b.txt\n"), "-", file, "bkt")
	require.NoError(t, err)
	assert.Equal(t, []string{"z", "a/b.txt", `with space "and quote"`, "json/é\n"}, keys)
}

// A state file names its bucket; another bucket's, or a file that is no
// state, is refused; a line a crash cut short is skipped.
func TestWarmStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	st, done, err := openWarmState(path, "bkt")
	require.NoError(t, err)
	assert.Empty(t, done)
	require.NoError(t, st.add("pulled", "a"))
	require.NoError(t, st.add("missing", "b\nc"))
	require.NoError(t, st.close())
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`pulled "cut`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	st, done, err = openWarmState(path, "bkt")
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true, "b\nc": true}, done)
	require.NoError(t, st.add("stored", "d"))
	require.NoError(t, st.close())
	_, done, err = openWarmState(path, "bkt")
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true, "b\nc": true, "d": true}, done, "the cut line did not swallow the next")

	_, _, err = openWarmState(path, "other")
	assert.ErrorContains(t, err, `bucket "bkt", not "other"`)
	_, _, err = openWarmState(writeFile(t, "keys", "a\nb\n"), "bkt")
	assert.ErrorContains(t, err, "not a mirror warm state file")
}

// Flags that do not go together exit 2, naming the problem.
func TestWarmFlags(t *testing.T) {
	keys := warmKeys(t, []string{"a"})
	for _, args := range [][]string{
		{"warm"},
		{"warm", "-bucket", "bkt", "-data", t.TempDir()},
		{"warm", "-bucket", "Bad_Name", "-data", t.TempDir(), "-keys", keys},
		{"warm", "-bucket", "bkt", "-keys", keys},
		{"warm", "-bucket", "bkt", "-keys", keys, "-data", t.TempDir(), "-url", "http://127.0.0.1:1"},
		{"warm", "-bucket", "bkt", "-keys", keys, "-url", "ftp://x"},
		{"warm", "-bucket", "bkt", "-keys", keys, "-url", "http://127.0.0.1:1", "-bucket-file", keys},
		{"warm", "-bucket", "bkt", "-keys", keys, "-data", t.TempDir(), "-concurrency", "0"},
		{"warm", "-bucket", "bkt", "-keys", "-", "-from-log", "-", "-data", t.TempDir()},
		{"warm", "-bucket", "bkt", "-keys", keys, "-data", t.TempDir()}, // no configuration stored
		{"warm", "-bucket", "bkt", "-keys", "/nonexistent", "-data", t.TempDir()},
	} {
		code, _, errOut := runCmd(t, "", args...)
		assert.Equal(t, 2, code, args)
		assert.True(t, strings.HasPrefix(errOut, "mirror: "), "%v: %q", args, errOut)
	}
}

// On a terminal the progress is a bar, not plain lines.
func TestWarmProgressBar(t *testing.T) {
	o := newWarmOrigin(t, 0)
	rules := writeFile(t, "rules.json", `{"source_site":"`+o.URL+`"}`)
	var bar lockedBuffer
	c := &warmConfig{}
	fs := flag.NewFlagSet("warm", flag.ContinueOnError)
	do := addWarmFlags(fs, c)
	require.NoError(t, fs.Parse([]string{"-bucket", "bkt", "-data", t.TempDir(), "-bucket-file", rules, "-allow-private-origins",
		"-keys", warmKeys(t, numbered("k", 30)), "-fsync", "none"}))
	c.progressBar = &bar
	var out, errOut bytes.Buffer
	code := do(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, bar.String(), "30/30")
	assert.Contains(t, bar.String(), "pulled 30")
	assert.NotContains(t, errOut.String(), "warm: 30/30", "no plain lines beside a bar")
	assert.Equal(t, 30, parseSummary(t, out.String()).pulled)
}
