package objectapi

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/pull"
)

// put commits an object straight into the gateway's store.
func (g *gateway) put(bucket, key, data string) {
	g.t.Helper()
	ctx := context.Background()
	u, err := g.store.Create(ctx, bucket, key)
	require.NoError(g.t, err)
	defer u.Abort()
	_, err = u.Write([]byte(data))
	require.NoError(g.t, err)
	sum := md5.Sum([]byte(data))
	require.NoError(g.t, u.Commit(ctx, pull.ObjectInfo{Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]),
		LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}))
}

// listing is what a test reads of a ListBucketResult.
type listing struct {
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	NextContinuationToken string
	NextMarker            string
	EncodingType          string
	Contents              []struct {
		Key, ETag, LastModified, StorageClass string
		Size                                  int64
	}
	CommonPrefixes []struct{ Prefix string }
}

func (l listing) keys() (keys []string) {
	for _, c := range l.Contents {
		keys = append(keys, c.Key)
	}
	for _, p := range l.CommonPrefixes {
		keys = append(keys, p.Prefix+"(prefix)")
	}
	sort.Strings(keys)
	return keys
}

func (g *gateway) list(query string) (listing, *http.Response) {
	g.t.Helper()
	resp := g.do("GET", "/bkt?"+query)
	b, err := body(resp)
	require.NoError(g.t, err)
	var l listing
	if resp.StatusCode == 200 {
		require.NoError(g.t, xml.Unmarshal([]byte(b), &l), b)
	}
	return l, resp
}

// Issue 17: ListObjectsV2 and ListObjects answer from the store's
// committed objects: prefix, delimiter, max-keys, continuation, markers,
// encoding-type=url; bad parameters are 400 InvalidArgument.
func TestListObjects(t *testing.T) {
	g := newGateway(t)
	g.handler.Errors = ""
	keys := []string{"a", "a/b", "a/c/d", "b c", "b+c", "photos/2026/x.jpg", "photos/y.jpg", "z\u00e9"}
	for _, k := range keys {
		g.put("bkt", k, "data of "+k)
	}
	g.put("other", "a/leak", "x")

	l, resp := g.list("list-type=2")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	assert.Equal(t, keys, l.keys())
	assert.Equal(t, len(keys), l.KeyCount)
	assert.False(t, l.IsTruncated)
	c := l.Contents[0]
	assert.Equal(t, `"`+md5hex("data of a")+`"`, c.ETag)
	assert.Equal(t, int64(len("data of a")), c.Size)
	assert.Equal(t, "2026-01-02T03:04:05.000Z", c.LastModified)
	assert.Equal(t, "STANDARD", c.StorageClass)

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"list-type=2&prefix=a", []string{"a", "a/b", "a/c/d"}},
		{"list-type=2&prefix=a/&delimiter=/", []string{"a/b", "a/c/(prefix)"}},
		{"list-type=2&delimiter=/", []string{"a", "a/(prefix)", "b c", "b+c", "photos/(prefix)", "z\u00e9"}},
		{"list-type=2&start-after=b%2Bc", []string{"photos/2026/x.jpg", "photos/y.jpg", "z\u00e9"}},
		{"list-type=2&prefix=nothing", nil},
		{"prefix=photos/&delimiter=/", []string{"photos/2026/(prefix)", "photos/y.jpg"}},
		{"marker=photos/y.jpg", []string{"z\u00e9"}},
		{"list-type=2&encoding-type=url&prefix=b", []string{"b%20c", "b%2Bc"}},
	} {
		l, resp := g.list(tc.query)
		require.Equal(t, 200, resp.StatusCode, tc.query)
		assert.Equal(t, tc.want, l.keys(), tc.query)
	}

	l, _ = g.list("list-type=2&max-keys=0")
	assert.Empty(t, l.keys())
	assert.Zero(t, l.MaxKeys)

	for _, bad := range []string{"list-type=2&max-keys=-1", "list-type=2&max-keys=x", "list-type=2&continuation-token=%25%25",
		"list-type=2&encoding-type=json", "list-type=2&prefix=" + url.QueryEscape("\xff")} {
		_, resp := g.list(bad)
		assert.Equal(t, 400, resp.StatusCode, bad)
	}
}

// Issue 17: a page at a time, V2 by its continuation token and V1 by its
// marker, walks every key once, with common prefixes across pages.
func TestListObjectsPages(t *testing.T) {
	g := newGateway(t)
	g.handler.Errors = ""
	var all []string
	for i := range 7 {
		for _, k := range []string{"k%d", "d%d/x", "d%d/y"} {
			key := strings.Replace(k, "%d", string(rune('0'+i)), 1)
			g.put("bkt", key, key)
		}
	}
	for _, delim := range []string{"", "/"} {
		all = nil
		token := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 30)
			q := "list-type=2&max-keys=2&delimiter=" + delim
			if token != "" {
				q += "&continuation-token=" + url.QueryEscape(token)
			}
			l, resp := g.list(q)
			require.Equal(t, 200, resp.StatusCode)
			assert.LessOrEqual(t, l.KeyCount, 2)
			all = append(all, l.keys()...)
			if !l.IsTruncated {
				break
			}
			token = l.NextContinuationToken
			require.NotEmpty(t, token)
		}
		want := 21
		if delim == "/" {
			want = 14 // d0/ … d6/ and k0 … k6
		}
		assert.Len(t, all, want, "delimiter %q", delim)
		seen := map[string]bool{}
		for _, k := range all {
			assert.False(t, seen[k], "%s listed twice", k)
			seen[k] = true
		}
	}
	// V1: the marker is the last key or prefix of the page.
	marker, n := "", 0
	for {
		l, _ := g.list("max-keys=5&delimiter=/&marker=" + url.QueryEscape(marker))
		n += len(l.keys())
		if !l.IsTruncated {
			break
		}
		marker = l.NextMarker
	}
	assert.Equal(t, 14, n)
}

// Issue 17: listing follows the read policy: a private bucket is listed
// only with a signed request of a key that may read it; a public-read one
// anonymously too. ListBuckets is signed and names the buckets in the
// key's scope.
func TestListingFollowsTheReadPolicy(t *testing.T) {
	g := newGateway(t)
	g.handler.Errors = ""
	creds, err := access.ParseCredentials([]byte(`{"ADMIN": "admin-secret",
		"TENANT": {"secret": "tenant-secret", "buckets": ["tenant-*"], "access": "read"}}`))
	require.NoError(t, err)
	g.handler.Credentials = creds
	g.put("tenant-a", "k", "x")
	g.put("other", "k", "y")
	require.NoError(t, g.configs.SetPolicy(context.Background(), "tenant-a", bucketconfig.Private))
	require.NoError(t, g.configs.SetPolicy(context.Background(), "other", bucketconfig.Private))

	resp := g.do("GET", "/tenant-a?list-type=2")
	assert.Equal(t, 403, resp.StatusCode, "private, unsigned")
	resp = g.do("GET", "/")
	assert.Equal(t, 403, resp.StatusCode, "ListBuckets unsigned")

	endpoint := strings.TrimPrefix(g.srv.URL, "http://")
	client := func(ak, sk string) *minio.Client {
		c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(ak, sk, "")})
		require.NoError(t, err)
		return c
	}
	ctx := context.Background()
	tenant := client("TENANT", "tenant-secret")
	var got []string
	for o := range tenant.ListObjects(ctx, "tenant-a", minio.ListObjectsOptions{Recursive: true}) {
		require.NoError(t, o.Err)
		got = append(got, o.Key)
	}
	assert.Equal(t, []string{"k"}, got)
	for o := range tenant.ListObjects(ctx, "other", minio.ListObjectsOptions{}) {
		assert.Equal(t, "AccessDenied", minio.ToErrorResponse(o.Err).Code)
	}
	buckets, err := tenant.ListBuckets(ctx)
	require.NoError(t, err)
	require.Len(t, buckets, 1)
	assert.Equal(t, "tenant-a", buckets[0].Name)
	buckets, err = client("ADMIN", "admin-secret").ListBuckets(ctx)
	require.NoError(t, err)
	assert.Len(t, buckets, 2)

	require.NoError(t, g.configs.SetPolicy(ctx, "other", bucketconfig.PublicRead))
	for o := range client("", "").ListObjects(ctx, "other", minio.ListObjectsOptions{}) {
		require.NoError(t, o.Err)
		assert.Equal(t, "k", o.Key)
	}
}

// Issue 17: the QingStor SDK puts a zone before the Host and, unsigned,
// says who it is only by its User-Agent: under a domain that zone is
// never taken for a bucket.
func TestQingStorZoneIsNotABucket(t *testing.T) {
	o := newOrigin(t, content("hello"))
	g := newGateway(t)
	g.handler.Domain = "gw.test"
	g.setRules("bkt", fetchRule(o.URL))
	req, err := http.NewRequest("GET", g.srv.URL+"/bkt/k", nil)
	require.NoError(t, err)
	req.Host = "pek3b.gw.test"
	req.Header.Set("User-Agent", "qingstor-sdk-go/3.2.0 (Go v1.26; linux_amd64_gc)")
	resp, err := g.srv.Client().Do(req)
	require.NoError(t, err)
	b, err := body(resp)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "hello", b)
	assert.NotEmpty(t, resp.Header.Get("X-Qs-Request-Id"))

	// Anyone else under the domain still names the bucket in the Host.
	req.Header.Del("User-Agent")
	req.Host = "bkt.gw.test"
	req.URL.Path = "/k"
	resp, err = g.srv.Client().Do(req)
	require.NoError(t, err)
	b, _ = body(resp)
	assert.Equal(t, "hello", b)

	// Review of issue 17: saying it is QingStor's (unsigned) never changes
	// what a bucket's URL serves: a Host that names a bucket here names
	// it, whatever the User-Agent or x-qs- headers (a shared cache keyed
	// by Host and URL could otherwise be handed another bucket's object).
	other := newOrigin(t, content("the attacker's"))
	g.setRules("attacker", fetchRule(other.URL))
	for _, hdr := range []string{"", "User-Agent: qingstor-sdk-evil", "X-Qs-Anything: 1"} {
		req, err := http.NewRequest("GET", g.srv.URL+"/attacker/page.html", nil)
		require.NoError(t, err)
		req.Host = "bkt.gw.test"
		if name, value, ok := strings.Cut(hdr, ": "); ok {
			req.Header.Set(name, value)
		}
		resp, err := g.srv.Client().Do(req)
		require.NoError(t, err)
		b, _ := body(resp)
		assert.Equal(t, "hello", b, "bucket bkt's key attacker/page.html, with %q", hdr)
	}
	assert.Zero(t, other.hits.Load())
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Review of issue 17: a key holding U+FFFF (the engine takes it) was
// written U+FFFD, and a ListObjects marker made of it listed the same page
// forever. A page holding such a key is listed only with
// encoding-type=url, whole.
func TestKeysXMLCanNotCarryNeedURLEncoding(t *testing.T) {
	g := newGateway(t)
	g.handler.Errors = ""
	g.put("bkt", "a\uffff", "x")
	g.put("bkt", "b", "y")
	_, resp := g.list("max-keys=1")
	assert.Equal(t, 400, resp.StatusCode)
	l, resp := g.list("max-keys=1&encoding-type=url")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, []string{"a%EF%BF%BF"}, l.keys())
	assert.Equal(t, "a%EF%BF%BF", l.NextMarker)
	marker, err := url.QueryUnescape(l.NextMarker)
	require.NoError(t, err)
	l, _ = g.list("max-keys=1&encoding-type=url&marker=" + url.QueryEscape(marker))
	assert.Equal(t, []string{"b"}, l.keys(), "the next page goes on")
	l, resp = g.list("prefix=b")
	require.Equal(t, 200, resp.StatusCode, "a page without one needs no encoding")
	assert.Equal(t, []string{"b"}, l.keys())
}
