package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/mirrorkit/mirror/s3store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mirror purge -data removes objects from the store itself, by prefix or
// by key, in both stores, and says how many.
func TestPurgeCommandOnTheStore(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	endpoint := s3test.Endpoint(t)
	dir := t.TempDir()
	s3data := fmt.Sprintf("s3://mirror-purge-%d/gw", os.Getpid())
	for name, c := range map[string]struct {
		args []string
		open func() (pull.Store, func())
	}{
		"dirstore": {[]string{"-data", dir}, func() (pull.Store, func()) {
			s, err := dirstore.Open(dir)
			require.NoError(t, err)
			return s, func() { s.Close() }
		}},
		"s3store": {[]string{"-data", s3data, "-s3-endpoint", endpoint}, func() (pull.Store, func()) {
			s, err := s3store.FromEnv(s3data, endpoint)
			require.NoError(t, err)
			require.NoError(t, s.EnsureBucket(ctx))
			return s, func() {}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			s, done := c.open()
			keys := []string{"img/a.png", "img/b/c.png", "imgx", "css/d.css", "e"}
			for _, k := range keys {
				require.NoError(t, storetest.Put(ctx, s, "bkt", k, "data", pull.ObjectInfo{ETag: "e"}))
			}
			done()
			code, out, errOut := runCmd(t, "", append([]string{"purge", "-bucket", "bkt", "-prefix", "img/"}, c.args...)...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, "purged 2 objects\n", out)
			code, out, errOut = runCmd(t, "", append(append([]string{"purge", "-bucket", "bkt"}, c.args...), "css/d.css", "never")...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, "purged 2 objects\n", out)
			s, done = c.open()
			defer done()
			for _, k := range keys {
				_, _, err := storetest.Get(ctx, s, "bkt", k)
				if k == "imgx" || k == "e" {
					assert.NoError(t, err, k)
				} else {
					assert.ErrorIs(t, err, pull.ErrNotFound, k)
				}
			}
			code, out, errOut = runCmd(t, "", append([]string{"purge", "-bucket", "bkt", "-all"}, c.args...)...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, "purged 2 objects\n", out)
		})
	}
}

// mirror purge -url purges through a running gateway, signed with a key
// that may configure the bucket: the next GET pulls again. A key that may
// not is refused, and the command fails.
func TestPurgeCommandThroughAGateway(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", `{"ADMIN": "admin-secret", "READER": {"secret": "reader-secret", "access": "read"}}`)
	rules := writeFile(t, "rules.json", `{"rules":[{"mode":"fetch","sourceUrl":"`+origin.URL+`/site","resource":"*"}]}`)
	p := startServe(t, "-data", t.TempDir(), "-credentials", creds, "-allow-private-origins", "-bucket", "bkt="+rules,
		"-acl", "bkt=public-read")
	keys := []string{"img/a.png", "img/b.png", "css/c.css"}
	for _, k := range keys {
		code, _ := getBody(t, http.DefaultClient, p.url+"/bkt/"+k)
		require.Equal(t, 200, code)
	}
	require.EqualValues(t, 3, hits.Load())

	t.Setenv("AWS_ACCESS_KEY_ID", "READER")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "reader-secret")
	code, _, errOut := runCmd(t, "", "purge", "-url", p.url, "-bucket", "bkt", "css/c.css")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "may not configure")

	t.Setenv("AWS_ACCESS_KEY_ID", "ADMIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "admin-secret")
	code, out, errOut := runCmd(t, "", "purge", "-url", p.url, "-bucket", "bkt", "-prefix", "img/")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "purged 2 objects\n", out)
	code, out, errOut = runCmd(t, "", "purge", "-url", p.url, "-bucket", "bkt", "css/c.css")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "purged 1 object\n", out)
	for _, k := range keys {
		code, _ := getBody(t, http.DefaultClient, p.url+"/bkt/"+k)
		require.Equal(t, 200, code)
	}
	assert.EqualValues(t, 6, hits.Load(), "every purged key pulled again")
}

// The purge command's usage, and -max-size's place.
func TestPurgeCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"purge", "-bucket", "bkt", "k"},                                   // no store
		{"purge", "-data", "d", "-url", "http://x", "-bucket", "bkt", "k"}, // both
		{"purge", "-data", t.TempDir(), "-bucket", "Bad_Name", "k"},
		{"purge", "-data", t.TempDir(), "-bucket", "bkt"}, // nothing to purge
		{"purge", "-data", t.TempDir(), "-bucket", "bkt", "-prefix", "p", "k"},
		{"serve", "-data", "s3://b", "-max-size", "100"},
		{"serve", "-data", t.TempDir(), "-max-size", "0"},
	} {
		code, _, errOut := runCmd(t, "", args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
}
