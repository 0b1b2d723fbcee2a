package objectapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metaOriginDate is the Last-Modified of metaOrigin's objects.
var metaOriginDate = time.Date(2020, 3, 4, 5, 6, 7, 0, time.UTC)

// newMetaOrigin is an origin whose object carries user metadata (OSS's
// prefix, and a forged provenance), a Last-Modified and an ETag.
func newMetaOrigin(t *testing.T) *origin {
	return newOrigin(t, content("hello", "X-Oss-Meta-Color: red", "X-Amz-Meta-City: Zürich",
		"X-Amz-Meta-Mirror-Origin: https://forged.example/", "X-Oss-Meta-Mirror-Pulled-At: 1999-01-01T00:00:00Z",
		"Last-Modified: "+metaOriginDate.Format(http.TimeFormat), `ETag: "o1"`))
}

// getHeaders GETs a key and returns the answer's headers, its body read.
func (g *gateway) getHeaders(path string) http.Header {
	g.t.Helper()
	resp := g.do("GET", path)
	b, err := body(resp)
	require.NoError(g.t, err)
	require.Equal(g.t, http.StatusOK, resp.StatusCode, b)
	require.Equal(g.t, "hello", b)
	return resp.Header
}

// The origin's user metadata is kept, and sent on the miss and on every
// hit as x-amz-meta-NAME, when the rule says so (fetch.saveMeta); not
// otherwise. No origin header can pass for the provenance.
func TestUserMetadataIsKeptByTheRule(t *testing.T) {
	o := newMetaOrigin(t)
	g := newGateway(t)
	g.setRules("keep", fetchRule(o.URL+"/", `"fetch":{"saveMeta":true}`))
	g.setRules("drop", fetchRule(o.URL+"/"))

	for _, answer := range []string{"miss", "hit"} {
		h := g.getHeaders("/keep/k")
		assert.Equal(t, "red", h.Get("X-Amz-Meta-Color"), answer)
		assert.Equal(t, "=?UTF-8?q?Z=C3=BCrich?=", h.Get("X-Amz-Meta-City"), "%s: not ASCII: RFC 2047, as S3 sends it", answer)
		assert.Equal(t, "Zürich", pull.ParseMetaValue(h.Get("X-Amz-Meta-City")), answer)
		assert.Equal(t, o.URL+"/k", h.Get("X-Amz-Meta-Mirror-Origin"), "%s: never the origin's forgery", answer)
		assert.NotEqual(t, "1999-01-01T00:00:00Z", h.Get("X-Amz-Meta-Mirror-Pulled-At"), answer)

		h = g.getHeaders("/drop/k")
		assert.Empty(t, h.Get("X-Amz-Meta-Color"), answer)
		assert.Empty(t, h.Get("X-Amz-Meta-City"), answer)
		assert.Equal(t, o.URL+"/k", h.Get("X-Amz-Meta-Mirror-Origin"), "%s: the provenance is kept with every object", answer)
	}
	assert.Equal(t, int64(2), o.hits.Load(), "one miss in each bucket, then hits")
	_, info, ok := g.stored("keep", "k")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"color": "red", "city": "Zürich"}, info.UserMeta)
	_, info, ok = g.stored("drop", "k")
	require.True(t, ok)
	assert.Nil(t, info.UserMeta)
}

// Last-Modified is the origin's (the default, and "origin") or when the
// fetch began ("fetched"), on the miss and the hit alike; the origin's
// date is kept in either case, as x-amz-meta-mirror-origin-last-modified.
func TestLastModifiedIsTheRules(t *testing.T) {
	o := newMetaOrigin(t)
	g := newGateway(t)
	g.setRules("default", fetchRule(o.URL+"/"))
	g.setRules("origin", fetchRule(o.URL+"/", `"fetch":{"lastModified":"origin"}`))
	g.setRules("fetched", fetchRule(o.URL+"/", `"fetch":{"lastModified":"fetched"}`))
	originDate := metaOriginDate.Format(http.TimeFormat)
	began := time.Now().Truncate(time.Second)
	for _, answer := range []string{"miss", "hit"} {
		for _, b := range []string{"default", "origin"} {
			h := g.getHeaders("/" + b + "/k")
			assert.Equal(t, originDate, h.Get("Last-Modified"), "%s %s", b, answer)
			assert.Equal(t, originDate, h.Get("X-Amz-Meta-Mirror-Origin-Last-Modified"), "%s %s", b, answer)
		}
		h := g.getHeaders("/fetched/k")
		lm, err := http.ParseTime(h.Get("Last-Modified"))
		require.NoError(t, err)
		assert.WithinDuration(t, began, lm, 5*time.Second, answer)
		assert.Equal(t, originDate, h.Get("X-Amz-Meta-Mirror-Origin-Last-Modified"), answer)
	}
	_, info, ok := g.stored("fetched", "k")
	require.True(t, ok)
	assert.False(t, info.OriginModified)
	assert.Equal(t, metaOriginDate, info.OriginLastModified.UTC())
}

// The provenance (origin URL without its query, origin ETag, origin
// Last-Modified, pulled-at) goes with the miss and every hit, and an S3
// tool's HeadObject through the gateway reads it.
func TestProvenanceOnMissAndHit(t *testing.T) {
	o := newMetaOrigin(t)
	g := newGateway(t)
	g.setRules("bkt", `{"rules":[{"mode":"fetch","sourceUrl":"`+o.URL+`/base/","resource":"*","passQuerystring":true}]}`)
	before := time.Now()
	miss := g.getHeaders("/bkt/dir/a%20b.png?w=100")
	_, info, ok := g.stored("bkt", "dir/a b.png")
	require.True(t, ok)
	hit := g.getHeaders("/bkt/dir/a%20b.png")
	require.Equal(t, int64(1), o.hits.Load())
	assert.Equal(t, "w=100", o.requests()[0].URL.RawQuery, "the query went to the origin")
	for answer, h := range map[string]http.Header{"miss": miss, "hit": hit} {
		assert.Equal(t, o.URL+"/base/dir/a%20b.png", h.Get("X-Amz-Meta-Mirror-Origin"), answer)
		assert.Equal(t, `"o1"`, h.Get("X-Amz-Meta-Mirror-Origin-Etag"), answer)
		assert.Equal(t, metaOriginDate.Format(http.TimeFormat), h.Get("X-Amz-Meta-Mirror-Origin-Last-Modified"), answer)
		pulled, err := time.Parse(time.RFC3339Nano, h.Get("X-Amz-Meta-Mirror-Pulled-At"))
		require.NoError(t, err, answer)
		assert.True(t, pulled.Equal(info.Fetched), "%s: pulled at %v, stored %v", answer, pulled, info.Fetched)
		assert.WithinDuration(t, before, pulled, 5*time.Second, answer)
	}

	// aws s3api head-object, through the gateway.
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(g.srv.URL), UsePathStyle: true,
		HTTPClient: g.srv.Client(), RetryMaxAttempts: 1, Credentials: aws.AnonymousCredentials{}})
	head, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a b.png")})
	require.NoError(t, err)
	for _, kv := range info.Provenance() {
		assert.Equal(t, kv[1], head.Metadata[kv[0]], kv[0])
	}
	assert.Equal(t, o.URL+"/base/dir/a%20b.png", head.Metadata["mirror-origin"])
}

// Provenance is informational: a revalidation sends the stored validators
// to the current rule's origin, never to the stored origin URL, and its
// 304 changes only the pulled-at time, whatever that origin sends.
func TestRevalidationAsksTheRulesOriginNotTheProvenance(t *testing.T) {
	first := newMetaOrigin(t)
	var asked atomic.Int64
	second := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("X-Oss-Meta-Color", "blue")
		w.Header().Set("X-Amz-Meta-Mirror-Origin", "https://forged.example/")
		if r.Header.Get("If-None-Match") == `"o1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		http.Error(w, "want the validators", http.StatusBadRequest)
	})
	g := newGateway(t)
	g.setRules("bkt", fetchRule(first.URL+"/", `"fetch":{"saveMeta":true}`))
	var maxAge atomic.Int64
	maxAge.Store(int64(time.Hour))
	g.handler.MaxAge = func(string) time.Duration { return time.Duration(maxAge.Load()) }
	g.getHeaders("/bkt/k")
	_, stored, ok := g.stored("bkt", "k")
	require.True(t, ok)

	g.setRules("bkt", fetchRule(second.URL+"/", `"fetch":{"saveMeta":true}`))
	maxAge.Store(1)
	h := g.getHeaders("/bkt/k")
	assert.Equal(t, int64(1), asked.Load(), "the current rule's origin was asked")
	assert.Equal(t, int64(1), first.hits.Load(), "the stored origin was not")
	reqs := second.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, metaOriginDate.Format(http.TimeFormat), reqs[0].Header.Get("If-Modified-Since"))
	assert.Equal(t, "red", h.Get("X-Amz-Meta-Color"))
	assert.Equal(t, first.URL+"/k", h.Get("X-Amz-Meta-Mirror-Origin"))
	_, kept, ok := g.stored("bkt", "k")
	require.True(t, ok)
	assert.True(t, kept.Fetched.After(stored.Fetched), "its age starts again")
	kept.Fetched = stored.Fetched
	assert.Equal(t, stored, kept, "nothing else changed")
}

// A revalidation under lastModified "fetched" sends the origin's own date,
// which it kept apart.
func TestRevalidationUnderFetchedSendsTheOriginsDate(t *testing.T) {
	o := newMetaOrigin(t)
	g := newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/", `"fetch":{"lastModified":"fetched"}`))
	var maxAge atomic.Int64
	maxAge.Store(int64(time.Hour))
	g.handler.MaxAge = func(string) time.Duration { return time.Duration(maxAge.Load()) }
	g.getHeaders("/bkt/k")
	maxAge.Store(1)
	g.getHeaders("/bkt/k")
	reqs := o.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, metaOriginDate.Format(http.TimeFormat), reqs[1].Header.Get("If-Modified-Since"))
	assert.Equal(t, `"o1"`, reqs[1].Header.Get("If-None-Match"))
}
