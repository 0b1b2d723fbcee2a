package objectapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bosOrigin is a loopback BOS endpoint holding one private bucket. It
// checks each request's signature with Baidu's own Go SDK signer.
func bosOrigin(t *testing.T, ak, sk, bucket string) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		parts := strings.Split(auth, "/")
		if len(parts) != 6 || parts[0] != "bce-auth-v1" || parts[1] != ak {
			http.Error(w, "bad auth", http.StatusForbidden)
			return
		}
		ts, err := time.Parse("2006-01-02T15:04:05Z", parts[2])
		expire, _ := strconv.Atoi(parts[3])
		if err != nil || expire > 300 || time.Since(ts) > time.Duration(expire)*time.Second || parts[4] != "host" {
			http.Error(w, "expired or host not signed", http.StatusForbidden)
			return
		}
		req := &bcehttp.Request{}
		req.SetMethod(r.Method)
		req.SetUri(r.URL.Path)
		req.SetHeader("host", r.Host)
		cred, _ := bceauth.NewBceCredentials(ak, sk)
		(&bceauth.BceV1Signer{}).Sign(req, cred, &bceauth.SignOptions{
			HeadersToSign: map[string]struct{}{"host": {}}, Timestamp: ts.Unix(), ExpireSeconds: expire})
		if req.Header("Authorization") != auth {
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/"+bucket+"/") {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("private " + strings.TrimPrefix(r.URL.Path, "/"+bucket+"/")))
	})
}

// A rule in bucket X that names a private bos:// bucket fetches nothing
// unless X's own origin credentials list that endpoint and bucket.
func TestBOSOriginsUseTheGatewayBucketsCredentials(t *testing.T) {
	src := bosOrigin(t, "AK1", "SK1", "private-src")
	endpoint := strings.TrimPrefix(src.URL, "http://")
	creds := map[string]*pull.BOSCredentials{
		"tenant-a": {AccessKeyID: "AK1", SecretAccessKey: "SK1", Endpoints: []string{endpoint}, Buckets: []string{"private-src"}},
		"tenant-c": {AccessKeyID: "AK1", SecretAccessKey: "SK1", Endpoints: []string{endpoint}, Buckets: []string{"other-src"}},
		"tenant-d": {AccessKeyID: "AK1", SecretAccessKey: "SK1", Endpoints: []string{"bj.bcebos.com"}, Buckets: []string{"private-src"}},
		"tenant-e": {AccessKeyID: "AK1", SecretAccessKey: "wrong", Endpoints: []string{endpoint}, Buckets: []string{"private-src"}},
	}
	g := newGateway(t, func(f *pull.Fetcher) {
		f.BOSInsecureHTTP = true
		f.BOSCredentials = func(bucket string) *pull.BOSCredentials { return creds[bucket] }
	})
	rule := fetchRule("bos://" + endpoint + "/private-src/dir")
	for _, b := range []string{"tenant-a", "tenant-b", "tenant-c", "tenant-d", "tenant-e"} {
		g.setRules(b, rule)
		g.public(b) // a bos:// origin makes a bucket private by default
	}
	resp := g.do("GET", "/tenant-a/a%20b.txt")
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, "private dir/a b.txt", b, "signed with tenant-a's key, verified by the BOS SDK's signer")

	for bucket, why := range map[string]string{
		"tenant-b": "no BOS origin credentials for bucket tenant-b",
		"tenant-c": "do not list source bucket private-src",
		"tenant-d": "do not list endpoint " + endpoint,
	} {
		resp := g.do("GET", "/"+bucket+"/a%20b.txt")
		assert.Equal(t, http.StatusFailedDependency, resp.StatusCode, bucket)
		assert.Contains(t, g.detail(t, resp), why, "in the log, not the answer")
	}
	resp = g.do("GET", "/tenant-e/a%20b.txt")
	assert.Contains(t, g.detail(t, resp), "403", "a wrong secret is refused by the origin's check")
	assert.Equal(t, int64(2), src.hits.Load(), "only tenant-a's and tenant-e's requests reached the endpoint")

	// An origin refused for its credentials fails over like an unreachable
	// one.
	backup := newOrigin(t, content("public copy"))
	g.setRules("tenant-b", `{"rules":[{"mode":"fetch","sourceUrl":"bos://`+endpoint+`/private-src","backSourceUrl":"`+backup.URL+`","resource":"*"}]}`)
	b, err = body(g.do("GET", "/tenant-b/x"))
	require.NoError(t, err)
	assert.Equal(t, "public copy", b)
}
