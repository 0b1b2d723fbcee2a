package osssig

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The SDK's own requests verify, each version, path-style and virtual
// host: the three website calls, and object calls on hard keys (with a
// header the SDK's V4 signs only when told to).
func TestTheSDKsRequestsVerify(t *testing.T) {
	ctx := context.Background()
	for name, v := range versions {
		for _, pathStyle := range []bool{true, false} {
			c := &capture{}
			client := sdk(v, pathStyle, c, "content-disposition")
			check := func(what string) {
				t.Helper()
				require.NotNil(t, c.last, what)
				assert.Equal(t, pathStyle, c.last.Host == "gw.test:8080", "%s %s: the URL style", name, what)
				ak, e := Verify(c.last, secrets, time.Now())
				assert.Nil(t, e, "%s path-style %v %s: %v", name, pathStyle, what, e)
				assert.Equal(t, testAK, ak)
				assert.True(t, Claims(c.last))
				c.last = nil
			}
			_, err := client.PutBucketWebsite(ctx, &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr("my-bucket"),
				WebsiteConfiguration: &oss.WebsiteConfiguration{RoutingRules: &oss.RoutingRules{RoutingRules: []oss.RoutingRule{{
					RuleNumber: oss.Ptr(int64(1)), Condition: &oss.RoutingRuleCondition{HttpErrorCodeReturnedEquals: oss.Ptr(int64(404))},
					Redirect: &oss.RoutingRuleRedirect{RedirectType: oss.Ptr("Mirror"), MirrorURL: oss.Ptr("https://origin.example/")},
				}}}}})
			require.NoError(t, err)
			assert.NotEmpty(t, c.last.Header.Get("Content-Md5"), "the SDK signs the body's MD5")
			check("PutBucketWebsite")
			_, err = client.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr("my-bucket")})
			require.NoError(t, err)
			check("GetBucketWebsite")
			_, err = client.DeleteBucketWebsite(ctx, &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr("my-bucket")})
			require.NoError(t, err)
			check("DeleteBucketWebsite")
			for _, key := range hardKeys {
				_, err = client.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("my-bucket"), Key: oss.Ptr(key),
					ResponseContentType: oss.Ptr("text/plain"), VersionId: oss.Ptr("v 1")})
				require.NoError(t, err)
				check("GetObject " + key)
				_, err = client.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr("my-bucket"), Key: oss.Ptr(key),
					ContentDisposition: oss.Ptr("attachment"), Metadata: map[string]string{"a": " b "},
					Body: strings.NewReader("body")})
				require.NoError(t, err)
				check("PutObject " + key)
			}
		}
	}
}

// The SDK's presigned URLs verify, V1 and V4 (the form computed here, not
// by the SDK's signer), path-style and virtual host, until they expire.
func TestPresignedURLsAgreeWithTheSDK(t *testing.T) {
	for name, v := range versions {
		for _, pathStyle := range []bool{true, false} {
			for _, key := range hardKeys {
				r, now := presigned(t, v, pathStyle, key)
				assert.True(t, Claims(r))
				ak, e := Verify(r, secrets, now)
				assert.Nil(t, e, "%s %s: %v", name, r.URL, e)
				assert.Equal(t, testAK, ak)
				_, e = Verify(r, secrets, now.Add(time.Hour+2*time.Second))
				assert.Equal(t, httpapi.RequestExpired, failure(e), "%s: an hour later", name)
			}
		}
	}
	// A presigned PUT with a Content-Type and an additional header: V4
	// signs both, V1 the Content-Type.
	for name, v := range versions {
		now := time.Now()
		res, err := sdk(v, true, &capture{}, "content-disposition").Presign(context.Background(), &oss.PutObjectRequest{
			Bucket: oss.Ptr("bucket"), Key: oss.Ptr("up/load.txt"), ContentType: oss.Ptr("text/plain"),
			ContentDisposition: oss.Ptr("attachment"),
		}, oss.PresignExpires(10*time.Minute))
		require.NoError(t, err)
		header := http.Header{}
		for k, val := range res.SignedHeaders {
			header.Set(k, val)
		}
		r := sigtest.Received(t, res.Method, res.URL, header)
		ak, e := Verify(r, secrets, now)
		assert.Nil(t, e, "%s: %v", name, e)
		assert.Equal(t, testAK, ak)
		r.Header.Set("Content-Type", "text/html")
		_, e = Verify(r, secrets, now)
		assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), name)
		if name == "v4" {
			assert.Contains(t, r.URL.RawQuery, "x-oss-additional-headers=content-disposition")
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Set("Content-Disposition", "inline")
			_, e = Verify(r, secrets, now)
			assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), "the additional header is signed")
		}
	}
}

// setQuery sets a query parameter, re-encoding the query.
func setQuery(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set(name, value)
		r.URL.RawQuery = q.Encode()
	}
}

func delQuery(name string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Del(name)
		r.URL.RawQuery = q.Encode()
	}
}

func setHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func noEdit(*http.Request) {}

// Each header form refuses what it must, with the failure Verify's
// comment lists.
func TestHeaderRefusals(t *testing.T) {
	for _, s := range []struct {
		name string
		s    signer.Signer
	}{{"v1", &signer.SignerV1{}}, {"v4", &signer.SignerV4{}}} {
		good := func(t *testing.T) *http.Request { return websitePut(t, s.s, at) }
		wrongSecret := func(t *testing.T) *http.Request {
			r := good(t)
			auth := r.Header.Get("Authorization")
			r.Header.Set("Authorization", auth[:len(auth)-4]+"AAAA")
			return r
		}
		replaceAuth := func(old, new string) func(*http.Request) {
			return func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
			}
		}
		cases := []sigtest.Case{
			{Name: "ok", Req: good, Edit: noEdit, Now: at, Want: -1},
			{Name: "15 minutes later", Req: good, Edit: noEdit, Now: at.Add(httpapi.MaxClockSkew), Want: -1},
			{Name: "15 minutes earlier", Req: good, Edit: noEdit, Now: at.Add(-httpapi.MaxClockSkew), Want: -1},
			{Name: "stale", Req: good, Edit: noEdit, Now: at.Add(httpapi.MaxClockSkew + time.Second), Want: httpapi.RequestExpired},
			{Name: "ahead", Req: good, Edit: noEdit, Now: at.Add(-httpapi.MaxClockSkew - time.Second), Want: httpapi.RequestExpired},
			{Name: "not signed", Req: good, Edit: func(r *http.Request) { r.Header.Del("Authorization") }, Now: at, Want: httpapi.AccessDenied},
			{Name: "wrong signature", Req: wrongSecret, Edit: noEdit, Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "unknown key", Req: good, Edit: replaceAuth(testAK, "NOBODY"), Now: at, Want: httpapi.InvalidAccessKeyID},
			{Name: "method", Req: good, Edit: func(r *http.Request) { r.Method = "DELETE" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "path", Req: good, Edit: func(r *http.Request) { r.URL.Path = "/other/" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "sub-resource", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery = "cors" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "sub-resource added", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery += "&mirroring" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "content-md5", Req: good, Edit: setHeader("Content-Md5", "1B2M2Y8AsgTpgAmY7PhCfg=="), Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "content-type", Req: good, Edit: setHeader("Content-Type", "text/xml"), Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "x-oss header", Req: good, Edit: setHeader("X-Oss-Meta-A", "c"), Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "x-oss header added", Req: good, Edit: setHeader("X-Oss-Meta-New", "c"), Now: at, Want: httpapi.SignatureDoesNotMatch},
			{Name: "duplicate parameter", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery += "&website=x" }, Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "query that does not parse", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery += "&a;b" }, Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "two headers", Req: good, Edit: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "header and query", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery += "&OSSAccessKeyId=" + testAK }, Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "V2", Req: good, Edit: setHeader("Authorization", "OSS2 AccessKeyId:"+testAK+",Signature:x"), Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "another scheme", Req: good, Edit: setHeader("Authorization", "AWS "+testAK+":x"), Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "no key", Req: good, Edit: setHeader("Authorization", "OSS :x"), Now: at, Want: httpapi.MalformedAuthorization},
			{Name: "unsigned path without a bucket", Req: good, Edit: func(r *http.Request) { r.URL.Path = "//bucket/" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
		}
		if s.name == "v1" {
			cases = append(cases,
				sigtest.Case{Name: "date", Req: good, Edit: setHeader("Date", at.Add(time.Second).Format(http.TimeFormat)), Now: at, Want: httpapi.SignatureDoesNotMatch},
				sigtest.Case{Name: "no date", Req: good, Edit: func(r *http.Request) { r.Header.Del("Date") }, Now: at, Want: httpapi.RequestExpired},
				sigtest.Case{Name: "date in another form", Req: good, Edit: setHeader("Date", at.Format(time.RFC850)), Now: at, Want: httpapi.RequestExpired},
				sigtest.Case{Name: "an unsigned parameter", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery += "&foo=bar" }, Now: at, Want: -1},
			)
		} else {
			cases = append(cases,
				sigtest.Case{Name: "date", Req: good, Edit: setHeader("X-Oss-Date", at.Add(time.Second).Format(v4TimeFormat)), Now: at, Want: httpapi.SignatureDoesNotMatch},
				sigtest.Case{Name: "no date", Req: good, Edit: func(r *http.Request) { r.Header.Del("X-Oss-Date") }, Now: at, Want: httpapi.MalformedAuthorization},
				sigtest.Case{Name: "date of another day in the scope", Req: good, Edit: replaceAuth("/20261123/", "/20261124/"), Now: at, Want: httpapi.MalformedAuthorization},
				sigtest.Case{Name: "another product", Req: good, Edit: replaceAuth("/oss/", "/s3/"), Now: at, Want: httpapi.MalformedAuthorization},
				sigtest.Case{Name: "another region", Req: good, Edit: replaceAuth("/cn-hangzhou/", "/cn-beijing/"), Now: at, Want: httpapi.SignatureDoesNotMatch},
				sigtest.Case{Name: "a payload hash", Req: good, Edit: setHeader("X-Oss-Content-Sha256", strings.Repeat("0", 64)), Now: at, Want: httpapi.MalformedAuthorization},
				sigtest.Case{Name: "an unsigned parameter is still signed", Req: good, Edit: func(r *http.Request) { r.URL.RawQuery += "&foo=bar" }, Now: at, Want: httpapi.SignatureDoesNotMatch},
				sigtest.Case{Name: "an unknown field", Req: good, Edit: replaceAuth(",Signature=", ",Other=x,Signature="), Now: at, Want: httpapi.MalformedAuthorization},
				sigtest.Case{Name: "empty additional headers", Req: good, Edit: replaceAuth(",Signature=", ",AdditionalHeaders=,Signature="), Now: at, Want: httpapi.MalformedAuthorization},
				sigtest.Case{Name: "an additional header the signer did not sign", Req: good, Edit: func(r *http.Request) {
					r.Header.Set("X-Custom", "1")
					replaceAuth(",Signature=", ",AdditionalHeaders=x-custom,Signature=")(r)
				}, Now: at, Want: httpapi.SignatureDoesNotMatch},
				sigtest.Case{Name: "spaces after the commas", Req: good, Edit: replaceAuth(",", ", "), Now: at, Want: -1},
			)
		}
		for _, c := range cases {
			t.Run(s.name+"/"+c.Name, func(t *testing.T) {
				r := c.Req(t)
				c.Edit(r)
				sigtest.Expect(t, func() (string, *httpapi.Error) { return Verify(r, secrets, c.Now) }, c.Want, testAK)
			})
		}
	}
}

// A V4 header signature with additional headers, host among them (which
// the SDK never signs, but OSS's algorithm allows).
func TestV4AdditionalHeaders(t *testing.T) {
	for _, additional := range [][]string{{"x-custom"}, {"host"}, {"host", "x-custom"}} {
		req, err := http.NewRequest("GET", "http://bucket.gw.test/k", nil)
		require.NoError(t, err)
		req.Header.Set("X-Custom", "1")
		req.Header.Set("Host", "bucket.gw.test")
		product, region, bucket, key := "oss", "cn-hangzhou", "bucket", "k"
		require.NoError(t, (&signer.SignerV4{}).Sign(context.Background(), &signer.SigningContext{
			Product: &product, Region: &region, Bucket: &bucket, Key: &key, Request: req, Time: at, AdditionalHeaders: additional,
			Credentials: credentialsFor(testAK, testSK),
		}))
		req.Header.Del("Host")
		r := sigtest.Received(t, "GET", req.URL.String(), req.Header)
		ak, e := VerifyFor(r, "bucket", "k", secrets, at)
		assert.Nil(t, e, "%v: %v", additional, e)
		assert.Equal(t, testAK, ak)
		r.Header.Set("X-Custom", "2")
		r.Host = "bucket.gw.other"
		_, e = VerifyFor(r, "bucket", "k", secrets, at)
		assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), "%v", additional)
	}
}

// The query forms refuse what they must.
func TestQueryRefusals(t *testing.T) {
	v1 := func(t *testing.T) *http.Request {
		return objectGet(t, &signer.SignerV1{}, "a b.txt", at.Add(time.Hour), true)
	}
	var v4At time.Time
	v4 := func(t *testing.T) *http.Request {
		r, now := presigned(t, oss.SignatureVersionV4, true, "a b.txt")
		v4At = now
		return r
	}
	for _, c := range []struct {
		name string
		req  func(*testing.T) *http.Request
		edit func(*http.Request)
		now  func() time.Time
		want httpapi.Failure
	}{
		{"v1 ok", v1, noEdit, func() time.Time { return at }, -1},
		{"v1 until it expires", v1, noEdit, func() time.Time { return at.Add(time.Hour) }, -1},
		{"v1 expired", v1, noEdit, func() time.Time { return at.Add(time.Hour + time.Second) }, httpapi.RequestExpired},
		{"v1 more than a week ahead", func(t *testing.T) *http.Request {
			return objectGet(t, &signer.SignerV1{}, "k", at.Add(MaxExpires+httpapi.MaxClockSkew+time.Second), true)
		}, noEdit, func() time.Time { return at }, httpapi.RequestExpired},
		{"v1 a week ahead", func(t *testing.T) *http.Request {
			return objectGet(t, &signer.SignerV1{}, "k", at.Add(MaxExpires), true)
		}, noEdit, func() time.Time { return at }, -1},
		{"v1 unknown key", v1, setQuery(qV1AccessKey, "NOBODY"), func() time.Time { return at }, httpapi.InvalidAccessKeyID},
		{"v1 longer expiry", v1, setQuery(qV1Expires, strconv.FormatInt(at.Add(2*time.Hour).Unix(), 10)), func() time.Time { return at }, httpapi.SignatureDoesNotMatch},
		{"v1 expires not a number", v1, setQuery(qV1Expires, "soon"), func() time.Time { return at }, httpapi.MalformedAuthorization},
		{"v1 expires with a sign", v1, setQuery(qV1Expires, "+"+strconv.FormatInt(at.Add(time.Hour).Unix(), 10)), func() time.Time { return at }, httpapi.MalformedAuthorization},
		{"v1 no signature", v1, delQuery(qV1Signature), func() time.Time { return at }, httpapi.MalformedAuthorization},
		{"v1 misspelt", v1, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, qV1AccessKey, "ossaccesskeyid", 1)
		}, func() time.Time { return at }, httpapi.MalformedAuthorization},
		{"v1 path", v1, func(r *http.Request) { r.URL.Path = "/bucket/other" }, func() time.Time { return at }, httpapi.SignatureDoesNotMatch},
		{"v1 signed parameter", v1, setQuery("response-content-type", "text/html"), func() time.Time { return at }, httpapi.SignatureDoesNotMatch},
		{"v1 added sub-resource", v1, setQuery("website", ""), func() time.Time { return at }, httpapi.SignatureDoesNotMatch},
		{"v1 method", v1, func(r *http.Request) { r.Method = "DELETE" }, func() time.Time { return at }, httpapi.SignatureDoesNotMatch},
		{"v1 and v4 at once", v1, setQuery(qV4Signature, "00"), func() time.Time { return at }, httpapi.MalformedAuthorization},

		{"v4 ok", v4, noEdit, func() time.Time { return v4At }, -1},
		{"v4 before its date", v4, noEdit, func() time.Time { return v4At.Add(-httpapi.MaxClockSkew - 2*time.Second) }, httpapi.RequestExpired},
		{"v4 expired", v4, noEdit, func() time.Time { return v4At.Add(time.Hour + 2*time.Second) }, httpapi.RequestExpired},
		{"v4 longer expiry", v4, setQuery(qV4Expires, "7200"), func() time.Time { return v4At }, httpapi.SignatureDoesNotMatch},
		{"v4 expiry over a week", v4, setQuery(qV4Expires, "604801"), func() time.Time { return v4At }, httpapi.MalformedAuthorization},
		{"v4 unknown key", v4, func(r *http.Request) {
			q := r.URL.Query()
			q.Set(qV4Credential, strings.Replace(q.Get(qV4Credential), testAK, "NOBODY", 1))
			r.URL.RawQuery = q.Encode()
		}, func() time.Time { return v4At }, httpapi.InvalidAccessKeyID},
		{"v4 another version", v4, setQuery(qV4Version, "OSS4-HMAC-SHA1"), func() time.Time { return v4At }, httpapi.MalformedAuthorization},
		{"v4 date", v4, func(r *http.Request) {
			q := r.URL.Query()
			d, _ := time.Parse(v4TimeFormat, q.Get(qV4Date))
			q.Set(qV4Date, d.Add(time.Second).Format(v4TimeFormat))
			r.URL.RawQuery = q.Encode()
		}, func() time.Time { return v4At }, httpapi.SignatureDoesNotMatch},
		{"v4 any parameter", v4, setQuery("foo", "bar"), func() time.Time { return v4At }, httpapi.SignatureDoesNotMatch},
		{"v4 path", v4, func(r *http.Request) { r.URL.Path = "/bucket/other" }, func() time.Time { return v4At }, httpapi.SignatureDoesNotMatch},
		{"v4 header", v4, setHeader("X-Oss-Meta-A", "1"), func() time.Time { return v4At }, httpapi.SignatureDoesNotMatch},
		{"v4 a header it does not sign", v4, setHeader("X-Other", "1"), func() time.Time { return v4At }, -1},
		{"v4 payload hash", v4, setHeader("X-Oss-Content-Sha256", strings.Repeat("0", 64)), func() time.Time { return v4At }, httpapi.MalformedAuthorization},
		{"v4 misspelt", v4, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, qV4Signature+"=", "X-Oss-Signature=", 1)
		}, func() time.Time { return v4At }, httpapi.MalformedAuthorization},
		{"v4 no signature", v4, delQuery(qV4Signature), func() time.Time { return v4At }, httpapi.MalformedAuthorization},
		{"v4 header too", v4, setHeader("Authorization", "OSS "+testAK+":x"), func() time.Time { return v4At }, httpapi.MalformedAuthorization},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.req(t)
			c.edit(r)
			sigtest.Expect(t, func() (string, *httpapi.Error) { return Verify(r, secrets, c.now()) }, c.want, testAK)
		})
	}
}

// Claims says which requests are OSS's.
func TestClaims(t *testing.T) {
	for _, c := range []struct {
		auth, query string
		want        bool
	}{
		{"OSS AK:x", "website", true},
		{"OSS4-HMAC-SHA256 Credential=x", "website", true},
		{"OSS2 AccessKeyId:x", "", true},
		{"AWS4-HMAC-SHA256 Credential=x", "website", false},
		{"AWS AK:x", "website", false},
		{"", "website", false},
		{"", "OSSAccessKeyId=AK&Expires=1&Signature=x", true},
		{"", "ossaccesskeyid=AK", true},
		{"", "x-oss-signature=x", true},
		{"", "X-OSS-CREDENTIAL=x", true},
		{"", "x%2Doss%2Dsignature%2Dversion=x", true},
		{"", "a=%zz&x-oss-signature=x", true},
		{"", "Signature=x&AWSAccessKeyId=AK", false},
		{"", "X-Amz-Signature=x", false},
	} {
		r := sigtest.Received(t, "GET", "http://gw.test/b?"+c.query, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		assert.Equal(t, c.want, Claims(r), "%+v", c)
	}
}

// A virtual-host request signs its bucket in the resource: Verify finds
// it in the Host when the path does not verify; VerifyFor takes the
// bucket it is given.
func TestVirtualHost(t *testing.T) {
	r := signedAt(t, &signer.SignerV4{}, "PUT", "http://my-bucket.gw.test:8080/?website", "my-bucket", "", nil, at, false)
	ak, e := Verify(r, secrets, at)
	assert.Nil(t, e)
	assert.Equal(t, testAK, ak)
	_, e = VerifyFor(r, "my-bucket", "", secrets, at)
	assert.Nil(t, e)
	_, e = VerifyFor(r, "other", "", secrets, at)
	assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e))
	r.Host = "other.gw.test:8080"
	_, e = Verify(r, secrets, at)
	assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), "the Host names another bucket")
	r.Host = "127.0.0.1:8080"
	_, e = Verify(r, secrets, at)
	assert.Equal(t, httpapi.SignatureDoesNotMatch, failure(e), "an IP address names no bucket")

	for _, c := range []struct {
		host, bucket string
		ok           bool
	}{{"b.gw.test:80", "b", true}, {"B.GW.TEST", "b", true}, {"gw", "", false}, {"[::1]:80", "", false}, {"10.0.0.1", "", false}, {".gw", "", false}} {
		b, ok := HostBucket(c.host)
		assert.Equal(t, c.bucket, b, c.host)
		assert.Equal(t, c.ok, ok, c.host)
	}
}

// Verify never changes the request it is given.
func TestVerifyLeavesTheRequestAlone(t *testing.T) {
	for _, r := range []*http.Request{websitePut(t, &signer.SignerV1{}, at), websitePut(t, &signer.SignerV4{}, at),
		objectGet(t, &signer.SignerV1{}, "k", at.Add(time.Hour), true)} {
		before := r.Header.Clone()
		query := r.URL.RawQuery
		_, e := Verify(r, secrets, at)
		require.Nil(t, e)
		assert.Equal(t, before, r.Header)
		assert.Equal(t, query, r.URL.RawQuery)
	}
}

// The canonical pieces computed here are the SDK's.
func TestEscapeAndQuery(t *testing.T) {
	assert.Equal(t, "/b/a%20b/%E6%97%A5~x%2B%3F", escapePath("/b/a b/日~x+?"))
	assert.Equal(t, "a=1&b&c=x%20y", canonicalQuery("c=x+y&x-oss-signature=s&b=&a=1&&"))
	u, _ := url.Parse("http://x/?a=1")
	assert.Equal(t, "a=1", canonicalQuery(u.RawQuery))
}
