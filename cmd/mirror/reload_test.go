package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SIGHUP puts a changed -bucket file, credentials file and certificate in
// force while a fetch runs, which completes with the rules it began
// under; a reload with any bad file changes nothing and says why.
func TestSIGHUPReloadsTheFiles(t *testing.T) {
	release := make(chan struct{})
	var slowAsked atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/slow") {
			slowAsked.Add(1)
			w.Header().Set("Content-Length", "8")
			_, _ = io.WriteString(w, "slow")
			w.(http.Flusher).Flush()
			<-release
			_, _ = io.WriteString(w, "done")
			return
		}
		_, _ = io.WriteString(w, "origin:"+r.URL.Path)
	}))
	defer origin.Close()
	defer close(release)

	rules := writeFile(t, "rules.json", `{"source_site":"`+origin.URL+`/v1"}`)
	creds := writeFile(t, "credentials.json", `{"OLD": "old-secret"}`)
	certFile, keyFile, tlsConfig := selfSigned(t)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	p := startServe(t, "-data", t.TempDir(), "-bucket", "my-bucket="+rules, "-credentials", creds, "-allow-private-origins",
		"-tls-cert", certFile, "-tls-key", keyFile, "-small-object", "1")
	firstCert := servedCertificate(t, p.url, tlsConfig)

	// A fetch under the old rules, running.
	resp, err := client.Get(p.url + "/my-bucket/slow")
	require.NoError(t, err)
	defer resp.Body.Close()
	head := make([]byte, 4)
	_, err = io.ReadFull(resp.Body, head)
	require.NoError(t, err)
	require.Equal(t, "slow", string(head))

	hup := func(want string) {
		t.Helper()
		before := strings.Count(p.stderr.String(), want)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
		require.Eventually(t, func() bool { return strings.Count(p.stderr.String(), want) > before }, 5*time.Second, 10*time.Millisecond,
			"want %q after SIGHUP", want)
	}
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"`+origin.URL+`/v2"}`), 0o600))
	require.NoError(t, os.WriteFile(creds, []byte(`{"NEW": "new-secret"}`), 0o600))
	nextCert, nextKey, nextTLS := selfSigned(t)
	copyFile(t, nextCert, certFile)
	copyFile(t, nextKey, keyFile)
	tlsConfig.RootCAs.AppendCertsFromPEM(readFile(t, nextCert))
	_ = nextTLS
	hup("msg=reloaded")

	code, body := getBody(t, client, p.url+"/my-bucket/a.txt")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "origin:/v2/a.txt", body, "a new fetch takes the new rules")
	assert.NotEqual(t, firstCert, servedCertificate(t, p.url, tlsConfig), "the new certificate is served")
	assert.Contains(t, p.stderr.String(), "op=put", "the change is logged")

	// The running fetch was not dropped, and it stayed on the old origin.
	release <- struct{}{}
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "done", string(rest))
	assert.Equal(t, int64(1), slowAsked.Load())

	c := bosSDK(t, p.url, "NEW", "new-secret", client)
	_, err = c.GetBucketMirror("my-bucket")
	assert.NotContains(t, errString(err), "InvalidAccessKeyId", "the new key is known")
	_, err = bosSDK(t, p.url, "OLD", "old-secret", client).GetBucketMirror("my-bucket")
	assert.Contains(t, errString(err), "InvalidAccessKeyId", "the old key is not")

	// A bad reload: a good rules file with a bad credentials file changes
	// nothing, and the log names the file and the problem.
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"`+origin.URL+`/v3"}`), 0o600))
	require.NoError(t, os.WriteFile(creds, []byte(`{"NEW": `), 0o600))
	hup("reload failed")
	assert.Contains(t, p.stderr.String(), "-credentials: credentials: unexpected end of JSON input")
	code, body = getBody(t, client, p.url+"/my-bucket/b.txt")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "origin:/v2/b.txt", body, "the old rules stay")

	// A rules file that does not compile: the old rules stay, and the
	// log names the file.
	require.NoError(t, os.WriteFile(creds, []byte(`{"NEW": "new-secret"}`), 0o600))
	require.NoError(t, os.WriteFile(rules, []byte(`{"source_site":"ftp://nowhere"}`), 0o600))
	hup("reload failed")
	assert.Contains(t, p.stderr.String(), rules+": ")
	code, body = getBody(t, client, p.url+"/my-bucket/c.txt")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "origin:/v2/c.txt", body, "the old rules stay")
	_, err = c.GetBucketMirror("my-bucket")
	assert.NotContains(t, errString(err), "InvalidAccessKeyId", "the keys stay")
	require.NoError(t, p.stop(t))
}

// An empty -bucket FILE removes the bucket's configuration at start: a
// configuration -bucket stored outlives its flag (docs/SERVING.md §5).
func TestEmptyBucketFileRemovesTheConfiguration(t *testing.T) {
	origin, _ := countingOrigin(t)
	rules := writeFile(t, "rules.json", `{"source_site":"`+origin.URL+`/site"}`)
	data := t.TempDir()
	p := startServe(t, "-data", data, "-bucket", "my-bucket="+rules, "-allow-private-origins")
	code, _ := getBody(t, http.DefaultClient, p.url+"/my-bucket/a.txt")
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, p.stop(t))

	p = startServe(t, "-data", data, "-allow-private-origins")
	code, body := getBody(t, http.DefaultClient, p.url+"/my-bucket/b.txt")
	assert.Equal(t, http.StatusOK, code, "without its flag, the bucket still mirrors: "+body)
	require.NoError(t, p.stop(t))

	p = startServe(t, "-data", data, "-bucket", "my-bucket=", "-allow-private-origins")
	code, body = getBody(t, http.DefaultClient, p.url+"/my-bucket/c.txt")
	assert.Equal(t, http.StatusNotFound, code, body)
	assert.Contains(t, body, "NoSuchKey", "stored objects stay, so the bucket is known")
	code, _ = getBody(t, http.DefaultClient, p.url+"/my-bucket/a.txt")
	assert.Equal(t, http.StatusOK, code, "what was stored stays served")
	assert.Contains(t, p.stderr.String(), "op=delete")
	require.NoError(t, p.stop(t))
}

func servedCertificate(t *testing.T, url string, cfg *tls.Config) string {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(url, "https://"), cfg)
	require.NoError(t, err)
	defer conn.Close()
	return string(conn.ConnectionState().PeerCertificates[0].Raw)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, os.WriteFile(to, readFile(t, from), 0o600))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
