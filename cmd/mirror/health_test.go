package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Through mirror serve: a primary that accepts and never answers costs
// -breaker-failures header timeouts across many misses, the backup
// answers the rest, and /metrics shows the open breaker and the rule's
// probe.
func TestServeOpensTheBreakerOfADeadPrimary(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var deadAsked atomic.Int64
	go func() {
		for {
			c, err := dead.Accept()
			if err != nil {
				return
			}
			deadAsked.Add(1)
			defer c.Close() // held open, never answered
		}
	}()
	defer dead.Close()
	backup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return // up: the primaries are asked, and their breaker decides
		}
		_, _ = io.WriteString(w, "backup:"+r.URL.Path)
	}))
	defer backup.Close()
	rules := writeFile(t, "rules.json", `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["http://`+dead.Addr().String()+`"],
		"backSourceUrls":["`+backup.URL+`"],"fetch":{"probe":"`+backup.URL+`/health","store":false}}]}`)
	p := startServe(t, "-data", t.TempDir(), "-bucket", "bkt="+rules, "-allow-private-origins", "-metrics", "127.0.0.1:0",
		"-header-timeout", "200ms", "-breaker-failures", "2", "-probe-interval", "1h")
	var metricsURL string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`url=(http://\S+/metrics)`).FindStringSubmatch(p.stderr.String())
		if m != nil {
			metricsURL = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond)
	for i := range 20 {
		code, body := getBody(t, http.DefaultClient, p.url+"/bkt/k")
		require.Equal(t, 200, code, "miss %d: %s", i, body)
		require.Equal(t, "backup:/k", body)
	}
	assert.LessOrEqual(t, deadAsked.Load(), int64(2), "two timeouts, then the breaker skips the primary")
	_, text := getBody(t, http.DefaultClient, metricsURL)
	for _, want := range []string{
		`mirror_origin_breaker_open{bucket="bkt",origin="http://` + dead.Addr().String() + `"} 1`,
		`mirror_origin_breaker_failures{bucket="bkt",origin="http://` + dead.Addr().String() + `"} 2`,
		`mirror_origin_probe_up{bucket="bkt",url="` + backup.URL + `/health"} 1`,
	} {
		assert.Contains(t, text, want)
	}
	if t.Failed() {
		t.Log(strings.Join(regexp.MustCompile(`(?m)^mirror_origin.*$`).FindAllString(text, -1), "\n"))
	}
	require.NoError(t, p.stop(t))
}
