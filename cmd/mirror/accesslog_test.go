package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logLines reads a JSON log's lines whose msg is msg.
func logLines(t *testing.T, log, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

// Every request gets one access line with its id, client, method,
// bucket, key, status, bytes, duration, outcome and error code; a
// fetch's line carries the id of the request that started it.
func TestAccessLogHasALinePerRequest(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/gone"):
			http.NotFound(w, r)
		case strings.HasSuffix(r.URL.Path, "/slow"):
			w.Header().Set("Content-Length", "8")
			_, _ = io.WriteString(w, "slow")
			w.(http.Flusher).Flush()
			<-release
			_, _ = io.WriteString(w, "done")
		default:
			_, _ = io.WriteString(w, "origin:"+r.URL.Path)
		}
	}))
	defer origin.Close()
	defer once.Do(func() { close(release) })
	rules := writeFile(t, "rules.json", `{"rules":[`+
		`{"mode":"redirect","sourceUrl":"https://old.example.com/","resource":"old/*","redirectCode":301},`+
		`{"mode":"fetch","sourceUrl":"`+origin.URL+`/site/","resource":"*"}]}`)
	p := startServe(t, "-data", t.TempDir(), "-bucket", "my-bucket="+rules, "-allow-private-origins", "-log-format", "json",
		"-small-object", "1", "-metrics", "127.0.0.1:0")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(p.url + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	miss := get("/my-bucket/a.txt")
	hit := get("/my-bucket/a.txt")
	get("/my-bucket/old/x")
	get("/my-bucket/gone")
	get("/Bad_Bucket/x")
	// A fetch and a request that joins it.
	first, err := http.Get(p.url + "/my-bucket/slow")
	require.NoError(t, err)
	joinedDone := make(chan struct{})
	go func() {
		defer close(joinedDone)
		resp, err := http.Get(p.url + "/my-bucket/slow")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	metrics := regexp.MustCompile(`"url":"(http://[^"]+/metrics)"`).FindStringSubmatch(p.stderr.String())
	require.NotNil(t, metrics, p.stderr.String())
	require.Eventually(t, func() bool {
		_, body := getBody(t, http.DefaultClient, metrics[1])
		return strings.Contains(body, "mirror_fetch_joined_total 1")
	}, 5*time.Second, 10*time.Millisecond, "the second request joins the running fetch")
	once.Do(func() { close(release) })
	_, _ = io.Copy(io.Discard, first.Body)
	first.Body.Close()
	<-joinedDone
	require.NoError(t, p.stop(t))

	lines := logLines(t, p.stderr.String(), "request")
	require.Len(t, lines, 7, p.stderr.String())
	byKey := map[string][]map[string]any{}
	for _, l := range lines {
		for _, field := range []string{"request_id", "client", "method", "bucket", "key", "status", "bytes", "duration", "outcome", "code"} {
			assert.Contains(t, l, field, "every line has every field")
		}
		assert.Regexp(t, `^127\.0\.0\.1:\d+$`, l["client"])
		assert.Equal(t, "GET", l["method"])
		byKey[l["key"].(string)] = append(byKey[l["key"].(string)], l)
	}
	check := func(l map[string]any, status int, outcome, code string, bytes int) {
		t.Helper()
		assert.Equal(t, float64(status), l["status"], l)
		assert.Equal(t, outcome, l["outcome"], l)
		assert.Equal(t, code, l["code"], l)
		if bytes >= 0 {
			assert.Equal(t, float64(bytes), l["bytes"], l)
		}
	}
	require.Len(t, byKey["a.txt"], 2)
	check(byKey["a.txt"][0], 200, "miss", "", len("origin:/site/a.txt"))
	check(byKey["a.txt"][1], 200, "hit", "", len("origin:/site/a.txt"))
	assert.Equal(t, miss.Header.Get("X-Amz-Request-Id"), byKey["a.txt"][0]["request_id"], "the id the answer carried")
	assert.Equal(t, hit.Header.Get("X-Amz-Request-Id"), byKey["a.txt"][1]["request_id"])
	check(byKey["old/x"][0], 301, "redirect", "", 0)
	check(byKey["gone"][0], 404, "miss", "NoSuchKey", -1)
	check(byKey["x"][0], 400, "", "InvalidBucketName", -1)
	assert.Equal(t, "Bad_Bucket", byKey["x"][0]["bucket"])
	require.Len(t, byKey["slow"], 2)
	outcomes := []any{byKey["slow"][0]["outcome"], byKey["slow"][1]["outcome"]}
	assert.ElementsMatch(t, []any{"miss", "joined"}, outcomes)
	for _, l := range byKey["slow"] {
		check(l, 200, l["outcome"].(string), "", 8)
	}

	// The fetch lines carry the id of the request that started them.
	fetches := map[string]map[string]any{}
	for _, l := range logLines(t, p.stderr.String(), "fetch") {
		fetches[l["key"].(string)] = l
	}
	assert.Equal(t, byKey["a.txt"][0]["request_id"], fetches["a.txt"]["request_id"])
	assert.Equal(t, byKey["gone"][0]["request_id"], fetches["gone"]["request_id"])
	for _, l := range byKey["slow"] {
		if l["outcome"] == "miss" {
			assert.Equal(t, l["request_id"], fetches["slow"]["request_id"])
		}
	}
}

// -access-log off logs no request; -access-log FILE appends to FILE,
// which SIGHUP reopens, so that a rotated log is let go of.
func TestAccessLogOffAndToAFile(t *testing.T) {
	p := startServe(t, "-data", t.TempDir(), "-access-log", "off")
	getBody(t, http.DefaultClient, p.url+"/my-bucket/a")
	require.NoError(t, p.stop(t))
	assert.NotContains(t, p.stderr.String(), "msg=request")

	file := filepath.Join(t.TempDir(), "access.log")
	p = startServe(t, "-data", t.TempDir(), "-access-log", file)
	getBody(t, http.DefaultClient, p.url+"/my-bucket/a")
	require.NoError(t, os.Rename(file, file+".1"))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), "reloaded") }, 5*time.Second, 10*time.Millisecond)
	getBody(t, http.DefaultClient, p.url+"/my-bucket/b")
	require.NoError(t, p.stop(t))
	assert.NotContains(t, p.stderr.String(), "msg=request", "none on standard error")
	rotated, now := string(readFile(t, file+".1")), string(readFile(t, file))
	assert.Equal(t, 1, strings.Count(rotated, "msg=request"), rotated)
	assert.Contains(t, rotated, "key=a")
	assert.Equal(t, 1, strings.Count(now, "msg=request"), now)
	assert.Contains(t, now, "key=b status=404")
}
