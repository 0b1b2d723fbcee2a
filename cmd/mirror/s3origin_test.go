package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tapProxy relays TCP connections to addr byte for byte, keeping what the
// clients sent, so that a test sees every request on the wire.
func tapProxy(t *testing.T, addr string) (string, func() []*http.Request) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var sent []*lockedBuffer
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			buf := &lockedBuffer{}
			mu.Lock()
			sent = append(sent, buf)
			mu.Unlock()
			go func() {
				_, _ = io.Copy(up, io.TeeReader(c, buf))
				up.Close()
			}()
			go func() {
				_, _ = io.Copy(c, up)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String(), func() []*http.Request {
		mu.Lock()
		defer mu.Unlock()
		var out []*http.Request
		for _, b := range sent {
			r := bufio.NewReader(strings.NewReader(b.String()))
			for {
				req, err := http.ReadRequest(r)
				if err != nil {
					break
				}
				out = append(out, req)
			}
		}
		return out
	}
}

// s3Source is a private bucket of a real S3 server (versitygw) with two
// objects, reached through a tap that keeps every request sent to it.
type s3Source struct {
	origin  string // the tap's host:port, the s3:// origin's endpoint
	bucket  string
	objects map[string][]byte
	asked   func() []*http.Request
}

func newS3Source(t *testing.T) *s3Source {
	endpoint := s3test.Endpoint(t)
	s3addr := strings.TrimPrefix(endpoint, "http://")
	ctx := context.Background()
	mc, err := minio.New(s3addr, &minio.Options{Creds: credentials.NewStaticV4(s3test.AccessKey, s3test.SecretKey, "")})
	require.NoError(t, err)
	src := &s3Source{bucket: "privbucket",
		objects: map[string][]byte{"dir/hello world+ü(1).bin": make([]byte, 200<<10), "dir/b/second.txt": []byte("second object")}}
	if err := mc.MakeBucket(ctx, src.bucket, minio.MakeBucketOptions{}); err != nil {
		var resp minio.ErrorResponse
		require.True(t, errors.As(err, &resp) && resp.Code == "BucketAlreadyOwnedByYou", "make bucket: %v", err)
	}
	_, _ = rand.Read(src.objects["dir/hello world+ü(1).bin"])
	for key, data := range src.objects {
		_, err := mc.PutObject(ctx, src.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		require.NoError(t, err)
	}
	// The bucket is private: an unsigned GET is refused.
	resp, err := http.Get(endpoint + "/" + src.bucket + "/dir/b/second.txt")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the source bucket is private")
	src.origin, src.asked = tapProxy(t, s3addr)
	return src
}

// rules is a rule file fetching every key from the bucket's dir/.
func (src *s3Source) rules(t *testing.T) string {
	return writeFile(t, "rules.json", `{"rules": [{"mode": "fetch", "sourceUrl": "s3://`+src.origin+`/`+src.bucket+`/dir", "resource": "*"}]}`)
}

// credentials is an -s3-origin-credentials document giving each gateway
// bucket the server's key for the listed source buckets.
func (src *s3Source) credentials(t *testing.T, gateway map[string][]string) []byte {
	m := map[string]any{}
	for b, sources := range gateway {
		m[b] = map[string]any{"accessKeyId": s3test.AccessKey, "secretAccessKey": s3test.SecretKey,
			"endpoints": []string{src.origin}, "buckets": sources}
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// checkSigned holds every request that reached the origin to a GET
// signed with Signature V4 by the configured key, path-style, in the
// source bucket's dir/.
func (src *s3Source) checkSigned(t *testing.T) {
	for _, r := range src.asked() {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, src.origin, r.Host)
		assert.True(t, strings.HasPrefix(r.RequestURI, "/"+src.bucket+"/dir/"), r.RequestURI)
		assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+s3test.AccessKey+"/"),
			"signed: %q", r.Header.Get("Authorization"))
		assert.NotEmpty(t, r.Header.Get("X-Amz-Date"))
		assert.NotEmpty(t, r.Header.Get("X-Amz-Content-Sha256"))
	}
}

// A gateway bucket whose rule names a private bucket of a real S3 server
// as its s3:// origin mirrors its objects, signed with the credentials
// -s3-origin-credentials binds to that gateway bucket.
func TestS3OriginMirrorsAPrivateBucket(t *testing.T) {
	src := newS3Source(t)
	rules := src.rules(t)
	creds := writeFile(t, "s3-origins.json", string(src.credentials(t, map[string][]string{
		"gw-a": {src.bucket}, "gw-c": {src.bucket}})))
	p := startServe(t, "-data", t.TempDir(), "-bucket", "gw-a="+rules, "-bucket", "gw-c="+rules,
		"-allow-private-origins", "-s3-origin-credentials", creds, "-s3-insecure-http", "-acl", "gw-a=public-read")

	for _, from := range []string{"the origin", "the store"} {
		code, body := getBody(t, http.DefaultClient, p.url+"/gw-a/hello%20world%2B%C3%BC%281%29.bin")
		require.Equal(t, http.StatusOK, code, "from %s: %s", from, body)
		assert.True(t, bytes.Equal(src.objects["dir/hello world+ü(1).bin"], []byte(body)), "the object's bytes, from %s", from)
	}
	code, body := getBody(t, http.DefaultClient, p.url+"/gw-a/b/second.txt")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "second object", body)
	reqs := src.asked()
	require.Len(t, reqs, 2, "one origin request per object")
	assert.Equal(t, "/"+src.bucket+"/dir/hello%20world%2B%C3%BC%281%29.bin", reqs[0].RequestURI)
	src.checkSigned(t)

	// A bucket whose rules reach an s3:// origin is private unless told
	// otherwise: an unsigned read is refused before any fetch.
	code, _ = getBody(t, http.DefaultClient, p.url+"/gw-c/b/second.txt")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Len(t, src.asked(), 2)
	require.NoError(t, p.stop(t))
}

// The same rule in a gateway bucket without credentials, or whose
// credentials do not list the source bucket, gets a failure, and the
// origin is never asked, signed or not. -s3-origin-credentials is read
// again on SIGHUP, as -bos-origin-credentials is.
func TestS3OriginWithoutCredentialsIsNeverAsked(t *testing.T) {
	src := newS3Source(t)
	rules := src.rules(t)
	creds := writeFile(t, "s3-origins.json", string(src.credentials(t, map[string][]string{"gw-d": {"otherbucket"}})))
	p := startServe(t, "-data", t.TempDir(), "-bucket", "gw-b="+rules, "-bucket", "gw-d="+rules,
		"-allow-private-origins", "-s3-origin-credentials", creds, "-s3-insecure-http",
		"-acl", "gw-b=public-read", "-acl", "gw-d=public-read")
	for _, b := range []string{"gw-b", "gw-d"} {
		code, body := getBody(t, http.DefaultClient, p.url+"/"+b+"/b/second.txt")
		assert.GreaterOrEqual(t, code, 500, "%s: %s", b, body)
		assert.NotContains(t, body, "second object", b)
		assert.NotContains(t, body, s3test.SecretKey, b)
	}
	assert.Empty(t, src.asked(), "the origin was never asked")
	for _, why := range []string{"no S3 origin credentials for bucket gw-b", "the S3 origin credentials of bucket gw-d do not list source bucket privbucket"} {
		assert.Eventually(t, func() bool { return strings.Contains(p.stderr.String(), why) }, 5*time.Second, 10*time.Millisecond,
			"the log says %q", why)
	}

	// SIGHUP reads the credentials again: gw-b may now fetch.
	require.NoError(t, os.WriteFile(creds, src.credentials(t, map[string][]string{"gw-b": {src.bucket}}), 0o600))
	before := strings.Count(p.stderr.String(), "msg=reloaded")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Count(p.stderr.String(), "msg=reloaded") > before }, 5*time.Second, 10*time.Millisecond)
	code, body := getBody(t, http.DefaultClient, p.url+"/gw-b/b/second.txt")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "second object", body)
	assert.Len(t, src.asked(), 1)
	src.checkSigned(t)
	require.NoError(t, p.stop(t))
}
