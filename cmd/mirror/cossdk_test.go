package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// cosSignedAt signs with cos-go-sdk-v5's own signer at a time of the
// test's choosing (its AuthorizationTransport always signs now).
type cosSignedAt struct {
	ak, sk string
	start  time.Time
	base   http.RoundTripper
}

func (c cosSignedAt) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	cos.AddAuthorizationHeader(c.ak, c.sk, "", r, &cos.AuthTime{SignStartTime: c.start, SignEndTime: c.start.Add(time.Hour),
		KeyStartTime: c.start, KeyEndTime: c.start.Add(time.Hour)})
	return c.base.RoundTrip(r)
}

// cosGateway makes cos-go-sdk-v5 clients of the gateway at base for
// buckets named virtual-host style under -domain cos.test: the dialer
// sends BUCKET-APPID.cos.test to the gateway, as a DNS wildcard would,
// and TLS checks the gateway's certificate (for gateway.test).
type cosGateway struct {
	base      string
	transport *http.Transport
}

func newCOSGateway(base string, tlsConfig *tls.Config) *cosGateway {
	_, addr, _ := strings.Cut(base, "://")
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
		tr.TLSClientConfig.ServerName = "gateway.test"
	}
	return &cosGateway{base, tr}
}

// client is the SDK for bucket, its requests through rt (nil: unsigned).
func (g *cosGateway) client(t *testing.T, bucket string, rt func(http.RoundTripper) http.RoundTripper) *cos.Client {
	scheme, addr, _ := strings.Cut(g.base, "://")
	_, port, _ := net.SplitHostPort(addr)
	u, err := url.Parse(scheme + "://" + bucket + ".cos.test:" + port)
	require.NoError(t, err)
	var tr http.RoundTripper = g.transport
	if rt != nil {
		tr = rt(tr)
	}
	c := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{Transport: tr})
	c.Conf.RetryOpt.Count = 1
	return c
}

// signed is the SDK signing with a key, by its AuthorizationTransport.
func (g *cosGateway) signed(t *testing.T, ak, sk, bucket string) *cos.Client {
	return g.client(t, bucket, func(base http.RoundTripper) http.RoundTripper {
		return &cos.AuthorizationTransport{SecretID: ak, SecretKey: sk, Transport: base}
	})
}

// cosCode is the COS error code of an SDK call's error, with its request
// id checked.
func cosCode(t *testing.T, err error) string {
	t.Helper()
	var ce *cos.ErrorResponse
	if !errors.As(err, &ce) {
		return "not a COS error: " + cosErrText(err)
	}
	assert.NotEmpty(t, ce.RequestID)
	assert.Equal(t, ce.RequestID, ce.Response.Header.Get("X-Cos-Request-Id"))
	return ce.Code
}

func cosErrText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// cos-go-sdk-v5 puts an origin configuration through `mirror serve`,
// over http and https, reads it back as put, and the gateway mirrors a
// missing object (read by a plain anonymous GET: the bucket is
// public-read) with it; a wrong secret, an unknown key, a stale signature,
// none and a key outside its scope each get COS's code and change
// nothing; the SDK deletes the configuration.
func TestCOSSDKConfiguresTheGateway(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	certFile, keyFile, tlsConfig := selfSigned(t)
	const bucket = "examplebucket-1250000000" // COS's BUCKETNAME-APPID is the gateway's bucket
	originHost := strings.TrimPrefix(origin.URL, "http://")
	follow := true
	rules := &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{{
		RulePriority: 1, OriginType: "Mirror",
		OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: "m/"},
		OriginParameter: &cos.BucketOriginParameter{Protocol: "HTTP", FollowRedirection: &follow},
		OriginInfo: &cos.BucketOriginInfo{HostInfo: &cos.BucketOriginHostInfo{HostName: originHost},
			FileInfo: &cos.BucketOriginFileInfo{PrefixConfiguration: &cos.OriginPrefixConfiguration{Prefix: "site/"}}},
	}}}
	other := &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{{
		RulePriority: 1, OriginType: "Mirror",
		OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: "x/"},
		OriginParameter: &cos.BucketOriginParameter{Protocol: "HTTP"},
		OriginInfo:      &cos.BucketOriginInfo{HostInfo: &cos.BucketOriginHostInfo{HostName: originHost}},
	}}}
	ctx := context.Background()
	for _, tlsOn := range []bool{false, true} {
		args := []string{"-data", t.TempDir(), "-credentials", creds, "-allow-private-origins",
			"-domain", "cos.test", "-acl", bucket + "=public-read"}
		anonymous := http.DefaultClient
		var clientTLS *tls.Config
		if tlsOn {
			args = append(args, "-tls-cert", certFile, "-tls-key", keyFile)
			clientTLS = tlsConfig
			anonymous = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
		}
		p := startServe(t, args...)
		require.Equal(t, tlsOn, strings.HasPrefix(p.url, "https://"), p.url)
		g := newCOSGateway(p.url, clientTLS)
		admin := g.signed(t, "ADMIN", "admin-secret", bucket)

		resp, err := admin.Bucket.PutOrigin(ctx, rules)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		got, _, err := admin.Bucket.GetOrigin(ctx)
		require.NoError(t, err)
		assert.Equal(t, rules.Rule, got.Rule, "read back as put")

		code, body := getBody(t, anonymous, p.url+"/"+bucket+"/m/a.txt")
		assert.Equal(t, 200, code)
		assert.Equal(t, "origin:/site/m/a.txt", body, "mirrored with the rules the SDK put")
		code, _ = getBody(t, anonymous, p.url+"/"+bucket+"/elsewhere.txt")
		assert.Equal(t, 404, code, "outside the rule's prefix")

		for _, c := range []struct {
			name, code string
			client     *cos.Client
		}{
			{"wrong secret", "SignatureDoesNotMatch", g.signed(t, "ADMIN", "wrong-secret", bucket)},
			{"unknown key", "InvalidAccessKeyId", g.signed(t, "NOBODY", "admin-secret", bucket)},
			{"stale", "RequestTimeTooSkewed", g.client(t, bucket, func(base http.RoundTripper) http.RoundTripper {
				return cosSignedAt{"ADMIN", "admin-secret", time.Now().Add(-90 * time.Minute), base}
			})},
			{"not signed", "AccessDenied", g.client(t, bucket, nil)},
			{"outside its scope", "AccessDenied", g.signed(t, "TENANT", "tenant-secret", bucket)},
		} {
			_, err := c.client.Bucket.PutOrigin(ctx, other)
			assert.Equal(t, c.code, cosCode(t, err), "PUT, %s", c.name)
			_, err = c.client.Bucket.DeleteOrigin(ctx)
			assert.Equal(t, c.code, cosCode(t, err), "DELETE, %s", c.name)
			got, _, err := admin.Bucket.GetOrigin(ctx)
			require.NoError(t, err)
			assert.Equal(t, rules.Rule, got.Rule, "unchanged after the refused %s", c.name)
		}

		resp, err = admin.Bucket.DeleteOrigin(ctx)
		require.NoError(t, err)
		assert.Equal(t, 204, resp.StatusCode)
		_, _, err = admin.Bucket.GetOrigin(ctx)
		assert.Equal(t, "OriginConfigurationNotFoundError", cosCode(t, err))
		code, _ = getBody(t, anonymous, p.url+"/"+bucket+"/m/b.txt")
		assert.Equal(t, 404, code, "no rules: nothing mirrored")
		require.NoError(t, p.stop(t))
	}
	assert.Equal(t, int64(2), hits.Load())
}
