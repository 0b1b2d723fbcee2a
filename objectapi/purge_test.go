package objectapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/mirrorkit/mirror/pull"
	"github.com/mirrorkit/mirror/s3store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// purgeGateway is a gateway over a store, with keys: ADMIN configures
// every bucket, READER only reads, TENANT configures tenant-* only.
type purgeGateway struct {
	t       *testing.T
	store   pull.Store
	fetcher *pull.Fetcher
	srv     *httptest.Server
}

type gatewayStore interface {
	pull.Store
	bucketconfig.Store
}

func newPurgeGateway(t *testing.T, store gatewayStore, setup ...func(*pull.Fetcher)) *purgeGateway {
	t.Helper()
	creds, err := access.ParseCredentials([]byte(`{"ADMIN": "admin-secret",
		"READER": {"secret": "reader-secret", "access": "read"},
		"TENANT": {"secret": "tenant-secret", "buckets": ["tenant-*"]}}`))
	require.NoError(t, err)
	reg := &bucketconfig.Registry{Store: store, Compiler: mirror.Compiler{AllowPrivateOrigins: true}, Logger: quietLogger}
	f := &pull.Fetcher{Store: store, AllowPrivateOrigins: true, Logger: quietLogger}
	for _, s := range setup {
		s(f)
	}
	h := &Handler{Fetcher: f, Registry: reg, Credentials: creds, Logger: quietLogger}
	g := &purgeGateway{t: t, store: store, fetcher: f, srv: httptest.NewServer(h)}
	t.Cleanup(func() {
		g.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.Shutdown(ctx)
	})
	return g
}

// rules gives a bucket a public fetch rule to origin.
func (g *purgeGateway) rules(bucket, origin string) {
	g.t.Helper()
	ctx := context.Background()
	reg := &bucketconfig.Registry{Store: g.store.(gatewayStore), Compiler: mirror.Compiler{AllowPrivateOrigins: true}, Logger: quietLogger}
	require.NoError(g.t, reg.Put(ctx, bucket, mirror.FormatAuto, []byte(fetchRule(origin))))
	require.NoError(g.t, reg.SetPolicy(ctx, bucket, bucketconfig.PublicRead))
}

func (g *purgeGateway) get(path string) (int, string) {
	g.t.Helper()
	resp, err := g.srv.Client().Get(g.srv.URL + path)
	require.NoError(g.t, err)
	b, _ := body(resp)
	return resp.StatusCode, b
}

// client is aws-sdk-go-v2's S3 client, with a key of the gateway's.
func (g *purgeGateway) client(ak, sk string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(g.srv.URL), UsePathStyle: true,
		HTTPClient: g.srv.Client(), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		})})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// versioned is an origin whose body changes with every request it
// answers: a GET that pulls again gets a new one.
func versioned(t *testing.T) *origin {
	var n atomic.Int64
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b := fmt.Sprintf("%s v%d", r.URL.Path, n.Add(1))
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		_, _ = io.WriteString(w, b)
	})
}

// stores are the two stores, each in a place of its own: a directory and
// a bucket of versitygw.
func stores(t *testing.T) map[string]func(t *testing.T) gatewayStore {
	return map[string]func(t *testing.T) gatewayStore{
		"dirstore": func(t *testing.T) gatewayStore {
			s, err := dirstore.Open(t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		},
		"s3store": func(t *testing.T) gatewayStore {
			s, err := s3store.New(s3store.Config{Endpoint: s3test.Endpoint(t), Bucket: fmt.Sprintf("purge-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9),
				AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey})
			require.NoError(t, err)
			s.SpoolDir = t.TempDir()
			require.NoError(t, s.EnsureBucket(context.Background()))
			return s
		},
	}
}

// Purge then GET pulls again, in both stores: a signed DELETE answers 204
// and the next GET goes to the origin; an unsigned one, or one of a key
// that may not configure the bucket, is 403 AccessDenied and the object
// stays.
func TestPurgeThenGetPullsAgain(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			g := newPurgeGateway(t, open(t))
			o := versioned(t)
			g.rules("bkt", o.URL)
			code, b := g.get("/bkt/a/k")
			require.Equal(t, 200, code)
			assert.Equal(t, "/a/k v1", b)
			_, b = g.get("/bkt/a/k")
			assert.Equal(t, "/a/k v1", b, "a hit")
			require.EqualValues(t, 1, o.hits.Load())

			ctx := context.Background()
			for _, c := range []struct{ name, ak, sk, code string }{
				{"unsigned", "", "", "AccessDenied"},
				{"a read-only key", "READER", "reader-secret", "AccessDenied"},
				{"a key scoped to other buckets", "TENANT", "tenant-secret", "AccessDenied"},
				{"a wrong secret", "ADMIN", "wrong", "SignatureDoesNotMatch"},
			} {
				var err error
				if c.ak == "" {
					req, _ := http.NewRequest("DELETE", g.srv.URL+"/bkt/a/k", nil)
					resp, rerr := g.srv.Client().Do(req)
					require.NoError(t, rerr)
					b, _ := body(resp)
					assert.Equal(t, 403, resp.StatusCode, c.name)
					assert.Contains(t, b, "<Code>AccessDenied</Code>", c.name)
				} else {
					_, err = g.client(c.ak, c.sk).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/k")})
					assert.Equal(t, c.code, apiCode(err), c.name)
				}
				_, b = g.get("/bkt/a/k")
				assert.Equal(t, "/a/k v1", b, "%s: the object stays", c.name)
			}
			require.EqualValues(t, 1, o.hits.Load())

			_, err := g.client("ADMIN", "admin-secret").DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/k")})
			require.NoError(t, err)
			_, err = g.store.Open(ctx, "bkt", "a/k")
			assert.ErrorIs(t, err, pull.ErrNotFound, "purged")
			code, b = g.get("/bkt/a/k")
			assert.Equal(t, 200, code)
			assert.Equal(t, "/a/k v2", b, "pulled again")
			assert.EqualValues(t, 2, o.hits.Load())

			// A key not stored: 204, as S3 answers.
			resp := g.signed("DELETE", "/bkt/never", nil, nil)
			assert.Equal(t, 204, resp.StatusCode)
			resp.Body.Close()
		})
	}
}

// signed sends a request signed by ADMIN with aws-sdk-go-v2's signer, its
// payload hash that of body.
func (g *purgeGateway) signed(method, path string, body []byte, header http.Header) *http.Response {
	g.t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, bytes.NewReader(body))
	require.NoError(g.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if header.Get("X-Amz-Content-Sha256") != "" {
		hash = header.Get("X-Amz-Content-Sha256")
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	require.NoError(g.t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"},
		req, hash, "s3", "us-east-1", time.Now()))
	resp, err := g.srv.Client().Do(req)
	require.NoError(g.t, err)
	return resp
}

// A prefix purge as aws s3 rm --recursive makes it: ListObjectsV2 of the
// prefix, then DeleteObjects of what it lists (aws-sdk-go-v2 sends its
// CRC32 checksum); quiet mode names only failures. Every purged key pulls
// again, and the keys outside the prefix stay.
func TestDeleteObjectsPurgesAPrefix(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			g := newPurgeGateway(t, open(t))
			o := versioned(t)
			g.rules("bkt", o.URL)
			keys := []string{"img/a.png", "img/b.png", "img/sub/c.png", "img-not/d", "css/e.css"}
			for _, k := range keys {
				code, _ := g.get("/bkt/" + k)
				require.Equal(t, 200, code)
			}
			ctx := context.Background()
			c := g.client("ADMIN", "admin-secret")
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("img/")})
			require.NoError(t, err)
			var ids []s3types.ObjectIdentifier
			for _, o := range list.Contents {
				ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
			}
			require.Len(t, ids, 3)
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &s3types.Delete{Objects: ids}})
			require.NoError(t, err)
			assert.Len(t, out.Deleted, 3)
			assert.Empty(t, out.Errors)
			for _, k := range keys {
				_, err := g.store.Open(ctx, "bkt", k)
				assert.Equal(t, strings.HasPrefix(k, "img/"), errors.Is(err, pull.ErrNotFound), k)
			}
			for _, k := range keys {
				code, b := g.get("/bkt/" + k)
				require.Equal(t, 200, code)
				if strings.HasPrefix(k, "img/") {
					assert.Contains(t, b, " v", k)
					assert.NotContains(t, b, fmt.Sprintf(" v%d", indexOf(keys, k)+1), "%s pulled again", k)
				}
			}
			assert.EqualValues(t, 8, o.hits.Load())

			out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"),
				Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("css/e.css")}}, Quiet: aws.Bool(true)}})
			require.NoError(t, err)
			assert.Empty(t, out.Deleted, "quiet")
			_, err = g.store.Open(ctx, "bkt", "css/e.css")
			assert.ErrorIs(t, err, pull.ErrNotFound)

			_, err = g.client("TENANT", "tenant-secret").DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"),
				Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("img-not/d")}}}})
			assert.Equal(t, "AccessDenied", apiCode(err))
			_, err = g.store.Open(ctx, "bkt", "img-not/d")
			assert.NoError(t, err, "a refused purge leaves the object")
		})
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// DeleteObjects is checked as S3 checks it: a digest is required and must
// match, the signature must cover the body, at most 1000 keys.
func TestDeleteObjectsChecksItsBody(t *testing.T) {
	g := newPurgeGateway(t, stores(t)["dirstore"](t))
	doc := []byte(`<Delete><Object><Key>k</Key></Object></Delete>`)
	md5OK := http.Header{"Content-Md5": {"ZRsRhx6QjmDQl3Ekd5c6Vw=="}} // wrong for doc
	resp := g.signed("POST", "/bkt?delete", doc, md5OK)
	b, _ := body(resp)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, b, "BadDigest")

	resp = g.signed("POST", "/bkt?delete", doc, nil)
	b, _ = body(resp)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, b, "Content-MD5", "a digest is required")

	resp = g.signed("POST", "/bkt?delete", doc, http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}})
	b, _ = body(resp)
	assert.Equal(t, 400, resp.StatusCode, "an unsigned body, and no signed digest")
	assert.Contains(t, b, "AuthorizationHeaderMalformed")

	var many strings.Builder
	many.WriteString("<Delete>")
	for i := range 1001 {
		fmt.Fprintf(&many, "<Object><Key>k%d</Key></Object>", i)
	}
	many.WriteString("</Delete>")
	crc := func(b []byte) string {
		h := checksumHeaders[1].hash()
		h.Write(b)
		return b64(h.Sum(nil))
	}
	resp = g.signed("POST", "/bkt?delete", []byte(many.String()), http.Header{"X-Amz-Checksum-Crc32": {crc([]byte(many.String()))}})
	b, _ = body(resp)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, b, "MalformedXML")

	resp = g.signed("POST", "/bkt?delete", doc, http.Header{"X-Amz-Checksum-Crc32": {crc(doc)}})
	b, _ = body(resp)
	assert.Equal(t, 200, resp.StatusCode, b)
	assert.Contains(t, b, "<Deleted><Key>k</Key></Deleted>")
}

// A purge forgets a remembered 404: the next GET asks the origin.
func TestPurgeForgetsARemembered404(t *testing.T) {
	var present atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if !present.Load() {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "here now")
	})
	g := newPurgeGateway(t, stores(t)["dirstore"](t), func(f *pull.Fetcher) { f.NegativeTTL = time.Hour })
	g.rules("bkt", o.URL)
	code, _ := g.get("/bkt/k")
	assert.Equal(t, 404, code)
	present.Store(true)
	code, _ = g.get("/bkt/k")
	assert.Equal(t, 404, code, "remembered")
	assert.EqualValues(t, 1, o.hits.Load())
	resp := g.signed("DELETE", "/bkt/k", nil, nil)
	assert.Equal(t, 204, resp.StatusCode)
	resp.Body.Close()
	code, b := g.get("/bkt/k")
	assert.Equal(t, 200, code)
	assert.Equal(t, "here now", b)
}

// A purge while the key is being fetched: the fetch stores nothing, its
// client's answer fails rather than end as if stored, and the next GET
// pulls afresh.
func TestAPurgeDuringAFetch(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		v := n.Add(1)
		w.Header().Set("Content-Length", "2000000")
		_, _ = io.WriteString(w, strings.Repeat(fmt.Sprint(v), 1000000))
		w.(http.Flusher).Flush()
		if v == 1 {
			<-release
		}
		_, _ = io.WriteString(w, strings.Repeat(fmt.Sprint(v), 1000000))
	})
	g := newPurgeGateway(t, stores(t)["dirstore"](t))
	g.rules("bkt", o.URL)
	resp, err := g.srv.Client().Get(g.srv.URL + "/bkt/k")
	require.NoError(t, err)
	head := make([]byte, 1000)
	_, err = io.ReadFull(resp.Body, head)
	require.NoError(t, err)
	del := g.signed("DELETE", "/bkt/k", nil, nil)
	assert.Equal(t, 204, del.StatusCode)
	del.Body.Close()
	close(release)
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Error(t, err, "the answer of a purged fetch does not end cleanly (%d bytes)", len(head)+len(rest))
	_, err = g.store.Open(context.Background(), "bkt", "k")
	assert.ErrorIs(t, err, pull.ErrNotFound, "nothing stored")
	code, b := g.get("/bkt/k")
	assert.Equal(t, 200, code)
	assert.Equal(t, strings.Repeat("2", 2000000), b, "pulled afresh")
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
