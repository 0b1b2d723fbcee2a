package mirror

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s3://ENDPOINT/BUCKET[/PREFIX] is read as bos:// is: the bucket is the
// first path segment, as written, by S3's naming rules.
func TestParseOriginS3(t *testing.T) {
	tests := []struct {
		raw, base, bucket, keyPrefix string
		why                          string // a part of the reason, when refused
	}{
		{raw: "s3://s3.us-east-1.amazonaws.com/bucket", base: "s3://s3.us-east-1.amazonaws.com/bucket/", bucket: "bucket"},
		{raw: "S3://S3.Example.COM/bucket/dir", base: "s3://s3.example.com/bucket/dir/", bucket: "bucket", keyPrefix: "dir/"},
		{raw: "s3://s3.example.com/my.bucket-1/a b%2Fc/", why: "white space"},
		{raw: "s3://s3.example.com/my.bucket-1/a%20b%2Fc/", base: "s3://s3.example.com/my.bucket-1/a%20b/c/",
			bucket: "my.bucket-1", keyPrefix: "a b/c/"},
		{raw: "s3://s3.example.com:9000/b12", base: "s3://s3.example.com:9000/b12/", bucket: "b12"},
		// 443 and 80 are kept: -s3-insecure-http decides the scheme later.
		{raw: "s3://s3.example.com:443/b12", base: "s3://s3.example.com:443/b12/", bucket: "b12"},
		{raw: "s3://[2606:4700::1111]:9000/bkt", base: "s3://[2606:4700::1111]:9000/bkt/", bucket: "bkt"},
		{raw: "s3://" + "s3.example.com/" + strings.Repeat("a", 63), base: "s3://s3.example.com/" + strings.Repeat("a", 63) + "/",
			bucket: strings.Repeat("a", 63)},

		{raw: "s3://s3.example.com", why: "needs a bucket name as its first path segment: s3://endpoint/bucket[/path]"},
		{raw: "s3://s3.example.com/", why: "needs a bucket name"},
		{raw: "s3://s3.example.com//bucket", why: "needs a bucket name"},
		{raw: "s3://s3.example.com/%2Fbucket", why: "bucket name"},
		{raw: "s3://s3.example.com/buc%6Bet", why: "bucket name"},
		{raw: "s3://s3.example.com/Bucket", why: "bucket name"},
		{raw: "s3://s3.example.com/ab", why: "bucket name"},
		{raw: "s3://s3.example.com/" + strings.Repeat("a", 64), why: "bucket name"},
		{raw: "s3://s3.example.com/-bucket", why: "bucket name"},
		{raw: "s3://s3.example.com/bucket-", why: "bucket name"},
		{raw: "s3://s3.example.com/.bucket", why: "bucket name"},
		{raw: "s3://s3.example.com/bucket.", why: "bucket name"},
		{raw: "s3://s3.example.com/my..bucket", why: "two periods in a row"},
		{raw: "s3://s3.example.com/my_bucket", why: "bucket name"},
		{raw: "s3://s3.example.com/bucket/%2E%2E%20/x", why: "segment"},
		{raw: "s3://s3.example.com/bucket/../other", why: "segment"},
		{raw: "s3://s3.example.com/bucket/%00", why: "control byte"},
		{raw: "s3://s3.example.com/bucket/%FF", why: "invalid UTF-8"},
		{raw: "s3://s3.example.com/bucket/%C3%A9", base: "s3://s3.example.com/bucket/%C3%A9/", bucket: "bucket", keyPrefix: "é/"},
		{raw: "s3://ak:sk@s3.example.com/bucket", why: "userinfo"},
		{raw: "s3://s3.example.com/bucket?versionId=1", why: "query"},
		{raw: "s3://s3.example.com/bucket#f", why: "fragment"},
		{raw: `s3://s3.example.com\@evil.com/bucket`, why: "backslash"},
		{raw: "s3://127.1/bucket", why: "ends in a number"},
		{raw: "s3://0x7f000001/bucket", why: "ends in a number"},
		{raw: "s3://127.0.0.1:9000/bucket", why: "not publicly routable"},
		{raw: "s3://169.254.169.254/bucket", why: "not publicly routable"},
		{raw: "s3://[::1]:9000/bucket", why: "not publicly routable"},
		{raw: "s3://minio.local/bucket", why: "names this machine"},
		{raw: "s3s://s3.example.com/bucket", why: `scheme "s3s" is not http, https, bos or s3`},
	}
	for _, tc := range tests {
		o, reason := parseOrigin(tc.raw, false)
		if tc.base == "" {
			assert.Nil(t, o, tc.raw)
			assert.Contains(t, reason, tc.why, tc.raw)
			continue
		}
		require.Empty(t, reason, tc.raw)
		assert.Equal(t, tc.base, o.base, tc.raw)
		assert.Equal(t, "s3", o.scheme, tc.raw)
		assert.Equal(t, tc.bucket, o.bucket, tc.raw)
		assert.Equal(t, tc.keyPrefix, o.keyPrefix, tc.raw)
		assert.True(t, o.signed(), tc.raw)
	}

	// Private endpoints, for tests on loopback, with AllowPrivateOrigins.
	o, reason := parseOrigin("s3://127.0.0.1:9000/privbucket", true)
	require.Empty(t, reason)
	assert.Equal(t, "s3://127.0.0.1:9000/privbucket/", o.base)

	for _, b := range []string{"abc", "a.b", "a-b", "0ab", "ab9", "a.b-c.d", "192.168.0.1"} {
		assert.True(t, validS3Bucket(b), b)
	}
	for _, b := range []string{"", "ab", "Abc", "a_b", "a..b", ".ab", "ab.", "-ab", "ab-", "a b", "ab\xff", "a/b", "a%62"} {
		assert.False(t, validS3Bucket(b), b)
	}
}

// A decision's s3:// origin is taken apart as a bos:// one is, never gets
// the client's query, and becomes a path-style https GET of
// https://ENDPOINT/BUCKET/KEY.
func TestS3OriginDecisionAndRequest(t *testing.T) {
	eng := mustCompile(t, Rule{Mode: ModeFetch, SourceURL: "s3://s3.example.com/src-bucket/mirror/", Resource: "*",
		BackSourceURL: "s3://s3.example.com:9000/other.bucket", PassQueryString: true})
	d, err := eng.Resolve(&Request{Key: "a b/ü+x", RawQuery: "w=1&acl"})
	require.NoError(t, err)
	require.Len(t, d.Origins, 2)
	assert.Equal(t, []string{"s3://s3.example.com/src-bucket/mirror/a%20b/%C3%BC%2Bx", "s3://s3.example.com:9000/other.bucket/a%20b/%C3%BC%2Bx"}, d.URLs,
		"no query reaches an s3:// origin: a client's ?acl must not become a request signed by the owner")
	assert.Equal(t, Origin{Scheme: "s3", Host: "s3.example.com", Path: "/src-bucket/mirror/a%20b/%C3%BC%2Bx",
		Bucket: "src-bucket", Key: "mirror/a b/ü+x", url: d.URLs[0]}, d.Origins[0])
	assert.Equal(t, Origin{Scheme: "s3", Host: "s3.example.com", Port: "9000", Path: "/other.bucket/a%20b/%C3%BC%2Bx",
		Bucket: "other.bucket", Key: "a b/ü+x", url: d.URLs[1]}, d.Origins[1])
	buf, _, err := eng.AppendURL(nil, &Request{Key: "k", RawQuery: "acl"})
	require.NoError(t, err)
	assert.Equal(t, "s3://s3.example.com/src-bucket/mirror/k", string(buf))

	req, err := d.Origins[0].NewRequest(context.Background())
	require.NoError(t, err)
	assert.Equal(t, http.MethodGet, req.Method)
	assert.Equal(t, "https://s3.example.com/src-bucket/mirror/a%20b/%C3%BC%2Bx", req.URL.String())
	assert.Equal(t, "s3.example.com", req.Host)
	req, err = d.Origins[1].NewRequest(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "https://s3.example.com:9000/other.bucket/a%20b/%C3%BC%2Bx", req.URL.String())
	assert.Equal(t, "s3.example.com:9000", req.Host)
}

// No key, however hostile, moves an s3:// request off its endpoint,
// bucket and prefix: every byte of it stays in the path, encoded, and the
// object key is the prefix and the key as they are.
func TestS3OriginHostileKeysStayInThePath(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Host+" "+r.RequestURI)
	}))
	defer srv.Close()
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	eng, err := Compiler{AllowPrivateOrigins: true}.Compile([]Rule{{Mode: ModeFetch, SourceURL: "s3://" + endpoint + "/privbucket/pre",
		Resource: "*", PassQueryString: true}})
	require.NoError(t, err)
	keys := []string{"../../other-bucket/secret", "..", "%2e%2e/x", "a?versionId=1", "a#frag", "@evil.example.com/x",
		"//evil.example.com/x", `\evil`, ":443/x", "a b+c", "é/日本", "\xff\xfe", "x/../../y", "?acl", "%", "%2F", "~a!$&'()*,;=:@[]"}
	var want, refused []string
	for _, k := range keys {
		d, err := eng.Resolve(&Request{Key: k, RawQuery: "acl&x-amz-x=1"})
		if errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrUnsafeKey) {
			refused = append(refused, k) // before any URL is written
			continue
		}
		require.NoError(t, err, "%q", k)
		o := d.Origins[0]
		assert.Equal(t, "privbucket", o.Bucket, "%q", k)
		assert.Equal(t, "pre/"+k, o.Key, "%q", k)
		assert.Empty(t, o.RawQuery, "%q", k)
		assert.True(t, strings.HasPrefix(o.Path, "/privbucket/pre/"), "%q: %s", k, o.Path)
		for i := 0; i < len(o.Path); i++ {
			c := o.Path[i]
			ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/%", c) >= 0
			assert.True(t, ok, "%q: byte %q in %s", k, c, o.Path)
		}
		req, err := o.NewRequest(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "https", req.URL.Scheme, "%q", k)
		assert.Equal(t, endpoint, req.URL.Host, "%q", k)
		assert.Equal(t, endpoint, req.Host, "%q", k)
		assert.Equal(t, o.Path, req.URL.RequestURI(), "%q", k)
		req.URL.Scheme = "http" // the test server's
		resp, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err, "%q", k)
		resp.Body.Close()
		want = append(want, endpoint+" "+o.Path)
	}
	assert.Equal(t, []string{"../../other-bucket/secret", "..", "\xff\xfe", "x/../../y"}, refused, "dot segments and invalid UTF-8 never reach an origin")
	assert.Len(t, want, len(keys)-len(refused))
	assert.Equal(t, want, got, "the server sees the engine's bytes")
}

// Where a bos:// origin is refused, an s3:// one is: as a redirect's
// target (a client can not sign), as a QingStor source_site, and by the
// exporters to formats whose origins are http:// or https:// URLs, each
// naming the field.
func TestS3OriginRefusals(t *testing.T) {
	problems := func(err error) map[string]string {
		t.Helper()
		var ce *CompileError
		require.ErrorAs(t, err, &ce)
		out := map[string]string{}
		for _, p := range ce.Problems {
			out[p.Path] = p.Reason
		}
		return out
	}
	_, err := Compile([]Rule{{Mode: ModeRedirect, SourceURL: "s3://s3.example.com/bucket", Resource: "*"}})
	assert.Contains(t, problems(err)["rules[0].sourceUrl"], "a client can not follow s3://")
	_, err = Load([]byte(`{"rules": [{"mode": "redirectFetch", "sourceUrls": ["s3://s3.example.com/bucket"], "resource": "*"}]}`), FormatNative)
	assert.Contains(t, problems(err)["rules[0].sourceUrls[0]"], "a client can not follow s3://")
	_, err = Load([]byte(`{"source_site": "s3://s3.example.com/bucket"}`), FormatQingStor)
	assert.Contains(t, problems(err)["source_site"], "must be http or https")
	_, err = Load([]byte(`{"source_site": "s3://s3.example.com/bucket"}`), FormatQingStor)
	assert.ErrorContains(t, err, "source_site")

	// A fetch rule, in the BOS model and in the extended one.
	bosModel, err := Load([]byte(`{"rules": [{"mode": "fetch", "sourceUrl": "s3://s3.example.com/bkt1", "resource": "*"}]}`), FormatNative)
	require.NoError(t, err)
	ext, err := Load([]byte(`{"rules": [{"mode": "fetch", "match": {"prefix": "a/", "methods": ["GET"]},
		"sourceUrls": ["s3://s3.example.com/bkt1"], "backSourceUrls": ["https://b.example.com"], "failoverOn": ["5xx", "timeout", "connection"]}]}`), FormatNative)
	require.NoError(t, err)
	for _, tc := range []struct {
		eng   *Engine
		f     Format
		field string
		why   string
	}{
		{bosModel, FormatQingStor, "rules[0].sourceUrl", "must be http or https"},
		{bosModel, FormatOSS, "rules[0].sourceUrl", "Aliyun OSS fetches from http:// and https:// origins only, not s3://"},
		{bosModel, FormatCOS, "rules[0].sourceUrl", "Tencent COS fetches from http:// and https:// origins only, not s3://"},
		{bosModel, FormatOBS, "rules[0].sourceUrl", "OBS origins are http:// or https:// URLs"},
		{bosModel, FormatTOS, "rules[0].sourceUrl", "TOS origins are http:// or https:// URLs"},
		{ext, FormatOSS, "rules[0].sourceUrls[0]", "not s3://"},
		{ext, FormatCOS, "rules[0].sourceUrls[0]", "not s3://"},
		{ext, FormatOBS, "rules[0].sourceUrls[0]", "OBS origins are http:// or https:// URLs"},
		{ext, FormatTOS, "rules[0].sourceUrls[0]", "TOS origins are http:// or https:// URLs"},
	} {
		_, err := tc.eng.Export(tc.f)
		assert.Contains(t, problems(err)[tc.field], tc.why, "%s %s: %v", tc.f, tc.field, err)
	}

	// The native model, and the BOS one, carry it as they carry bos://.
	for _, f := range []Format{FormatNative, FormatBOS} {
		doc, err := bosModel.Export(f)
		require.NoError(t, err, f)
		back, err := Load(doc, f)
		require.NoError(t, err, f)
		d, err := back.Resolve(&Request{Key: "k"})
		require.NoError(t, err, f)
		assert.Equal(t, []string{"s3://s3.example.com/bkt1/k"}, d.URLs, f)
	}
}
