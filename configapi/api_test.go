package configapi

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signedBOS sends a raw request signed by BOS's own SDK signer, so that a
// test can send bodies the SDK never would.
func signedBOS(t *testing.T, method, url, host, path string, body io.Reader, contentLength int64, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	req.ContentLength = contentLength
	req.Host = host
	sreq := &bcehttp.Request{}
	sreq.SetMethod(method)
	sreq.SetUri(path)
	sreq.SetParam("mirroring", "")
	sreq.SetHeader("host", host)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
		sreq.SetHeader(strings.ToLower(name), value)
	}
	cred, _ := bceauth.NewBceCredentials("ADMIN", "admin-secret")
	(&bceauth.BceV1Signer{}).Sign(sreq, cred, &bceauth.SignOptions{
		HeadersToSign: map[string]struct{}{"host": {}, "content-md5": {}}, ExpireSeconds: 300})
	req.Header.Set("Authorization", sreq.Header("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

type bosAnswer struct {
	status int
	bosError
}

func readBOS(t *testing.T, resp *http.Response) bosAnswer {
	t.Helper()
	defer resp.Body.Close()
	a := bosAnswer{status: resp.StatusCode}
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&a.bosError))
		assert.Equal(t, resp.Header.Get("X-Bce-Request-Id"), a.RequestID)
	}
	return a
}

func (s *apiServer) host() string { return strings.TrimPrefix(s.URL, "http://") }

// A 1 MiB body, malformed JSON, a document with 30 problems and a wrong
// Content-MD5 each get a clear refusal, and change nothing.
func TestRefusals(t *testing.T) {
	s := newAPIServer(t, false)
	put := func(body string, headers ...string) bosAnswer {
		return readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket",
			strings.NewReader(body), int64(len(body)), headers...))
	}
	big := strings.Repeat(" ", 1<<20)
	a := put(big)
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "EntityTooLarge", a.Code)
	// Without a Content-Length, the body is read up to the limit only.
	a = readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket", io.MultiReader(strings.NewReader(big)), -1))
	assert.Equal(t, "EntityTooLarge", a.Code)

	a = put(`{"bucketMirroringConfiguration": [`)
	assert.Equal(t, "MalformedJSON", a.Code)

	var rules []string
	for i := 0; i < 10; i++ {
		rules = append(rules, fmt.Sprintf(`{"mode":"pull","sourceUrl":"ftp://o.example.com","resource":"r%d/*","version":"v9"}`, i))
	}
	a = put(`{"bucketMirroringConfiguration":[` + strings.Join(rules, ",") + `]}`)
	assert.Equal(t, 400, a.status)
	assert.Equal(t, "InappropriateJSON", a.Code)
	lines := strings.Split(a.Message, "\n")
	assert.Len(t, lines, 30, "every problem, one PATH: reason line each")
	assert.True(t, strings.HasPrefix(lines[0], "bucketMirroringConfiguration[0].mode: "), lines[0])

	good := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`
	a = put(good, "Content-MD5: "+base64.StdEncoding.EncodeToString(make([]byte, 16)))
	assert.Equal(t, "BadDigest", a.Code)
	sum := md5.Sum([]byte(good))
	a = put(good, "Content-MD5: "+base64.StdEncoding.EncodeToString(sum[:]))
	assert.Equal(t, 200, a.status, "a matching Content-MD5")
}

// A BOS request may name its bucket in the Host under the domain.
func TestBOSVirtualHost(t *testing.T) {
	s := newAPIServer(t, false)
	s.handler.Domain = "mirror.test"
	body := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`
	a := readBOS(t, signedBOS(t, "PUT", s.URL+"/?mirroring", "my-bucket.mirror.test", "/", strings.NewReader(body), int64(len(body))))
	require.Equal(t, 200, a.status, a.Message)
	api, _, ok, err := s.registry.Config(context.Background(), "my-bucket")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, APIBOS, api)
}

// Without credentials the API answers 403 to everything.
func TestNoCredentials(t *testing.T) {
	s := newAPIServer(t, false)
	s.handler.Credentials = nil
	body := `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`
	a := readBOS(t, signedBOS(t, "PUT", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket", strings.NewReader(body), int64(len(body))))
	assert.Equal(t, 403, a.status)
	assert.Equal(t, "AccessDenied", a.Code)
	a = readBOS(t, signedBOS(t, "GET", s.URL+"/my-bucket?mirroring", s.host(), "/my-bucket", nil, 0))
	assert.Equal(t, 403, a.status)
}

// A configuration takes effect whole: every decision comes from one
// engine, the old or the new, never a mix.
func TestSwapsAreAtomic(t *testing.T) {
	store, err := pull.OpenDirStore(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	reg := &Registry{Store: store, Logger: quietLogger}
	doc := func(n string) []byte {
		return []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://` + n + `.example.com","resource":"*","prefix":"` + n + `/"}]}`)
	}
	ctx := context.Background()
	require.NoError(t, reg.Put(ctx, "bkt", APINative, doc("a"), mirror.FormatNative))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mixed []string
	var mu sync.Mutex
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				eng, err := reg.Engine(ctx, "bkt")
				if err != nil || eng == nil {
					continue
				}
				d, err := eng.Resolve(&mirror.Request{Key: "k"})
				if err == nil && d.URLs[0] != "https://a.example.com/a/k" && d.URLs[0] != "https://b.example.com/b/k" {
					mu.Lock()
					mixed = append(mixed, d.URLs[0])
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		require.NoError(t, reg.Put(ctx, "bkt", APINative, doc([]string{"a", "b"}[i%2]), mirror.FormatNative))
	}
	close(stop)
	wg.Wait()
	assert.Empty(t, mixed)
}

// A PUT is durable before it returns, and a registry sharing the store
// sees it within its TTL.
func TestSharedStoreWithinTTL(t *testing.T) {
	store, err := pull.OpenDirStore(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	now := time.Now()
	clock := func() time.Time { return now }
	one := &Registry{Store: store, TTL: 5 * time.Second, Now: clock, Logger: quietLogger}
	two := &Registry{Store: store, TTL: 5 * time.Second, Now: clock, Logger: quietLogger}
	ctx := context.Background()

	eng, err := two.Engine(ctx, "bkt")
	require.NoError(t, err)
	assert.Nil(t, eng, "none set yet; two has now looked")

	require.NoError(t, one.Put(ctx, "bkt", APIQingStor, []byte(`{"source_site":"https://o.example.com"}`), mirror.FormatQingStor))
	fresh := &Registry{Store: store, Logger: quietLogger}
	eng, err = fresh.Engine(ctx, "bkt")
	require.NoError(t, err)
	assert.NotNil(t, eng, "durable: a registry started now reads it")

	eng, _ = two.Engine(ctx, "bkt")
	assert.Nil(t, eng, "within the TTL the other gateway may still decide with what it had")
	now = now.Add(5 * time.Second)
	eng, _ = two.Engine(ctx, "bkt")
	assert.NotNil(t, eng, "in force on the other gateway once the TTL has passed")

	require.NoError(t, one.Delete(ctx, "bkt", APIQingStor))
	now = now.Add(5 * time.Second)
	eng, _ = two.Engine(ctx, "bkt")
	assert.Nil(t, eng)
}
