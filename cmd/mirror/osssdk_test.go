package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ossSDK is Aliyun OSS's Go SDK for the gateway at base, addressed as
// gateway.test (the -domain the test serves under), its dialer going to
// the gateway whatever the Host: a virtual-host request's is
// BUCKET.gateway.test, whose certificate is checked as gateway.test's.
// ak "" signs nothing. It tries each request once: the SDK retries a
// RequestTimeTooSkewed, and the test wants the first answer.
func ossSDK(t *testing.T, base, ak, sk string, v oss.SignatureVersionType, pathStyle bool, tlsConfig *tls.Config,
	opts ...func(*oss.Options)) *oss.Client {
	scheme, addr, _ := strings.Cut(base, "://")
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	if scheme == "https" {
		tr.TLSClientConfig = tlsConfig.Clone()
		tr.TLSClientConfig.ServerName = "gateway.test"
	}
	t.Cleanup(tr.CloseIdleConnections)
	var provider credentials.CredentialsProvider = credentials.NewAnonymousCredentialsProvider()
	if ak != "" {
		provider = credentials.NewStaticCredentialsProvider(ak, sk)
	}
	cfg := oss.LoadDefaultConfig().WithCredentialsProvider(provider).WithRegion("cn-hangzhou").
		WithEndpoint(scheme + "://gateway.test:" + port).WithSignatureVersion(v).WithUsePathStyle(pathStyle).
		WithHttpClient(&http.Client{Transport: tr}).WithRetryMaxAttempts(1)
	return oss.NewClient(cfg, opts...)
}

// ossStaleSigner is the SDK's signer with a clock an hour slow.
type ossStaleSigner struct{ signer.Signer }

func (s ossStaleSigner) Sign(ctx context.Context, c *signer.SigningContext) error {
	c.Time = time.Now().Add(-time.Hour)
	return s.Signer.Sign(ctx, c)
}

// ossErrorCode is the code of the OSS service error err holds.
func ossErrorCode(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return "not a service error: " + err.Error()
	}
	return "no error"
}

// ossMirrorSite is a website configuration that mirrors the keys under
// m/ from origin.
func ossMirrorSite(origin string) *oss.WebsiteConfiguration {
	return &oss.WebsiteConfiguration{RoutingRules: &oss.RoutingRules{RoutingRules: []oss.RoutingRule{{
		RuleNumber: oss.Ptr(int64(1)),
		Condition: &oss.RoutingRuleCondition{KeyPrefixEquals: oss.Ptr("m/"),
			HttpErrorCodeReturnedEquals: oss.Ptr(int64(404))},
		Redirect: &oss.RoutingRuleRedirect{RedirectType: oss.Ptr("Mirror"), MirrorURL: oss.Ptr(origin),
			MirrorFollowRedirect: oss.Ptr(true)},
	}}}}
}

// The OSS SDK (alibabacloud-oss-go-sdk-v2) configures `mirror serve`, as
// a process, over http and https, with signature V1 and V4, path-style
// and virtual-host (-domain): PutBucketWebsite, GetBucketWebsite reads it
// back, an anonymous GET of a missing object (the bucket public-read by
// -acl) is mirrored from the origin as the rule says, a wrong secret, an
// unknown key, a stale date, no signature and a key outside its scope
// each get OSS's code and change nothing, and DeleteBucketWebsite
// removes it.
func TestOSSSDKConfiguresTheGateway(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	certFile, keyFile, tlsConfig := selfSigned(t)
	versions := []struct {
		name string
		v    oss.SignatureVersionType
	}{{"v1", oss.SignatureVersionV1}, {"v4", oss.SignatureVersionV4}}
	styles := map[bool]string{true: "path", false: "vhost"}
	ctx := context.Background()
	for _, tlsOn := range []bool{false, true} {
		args := []string{"-data", t.TempDir(), "-credentials", creds, "-allow-private-origins", "-domain", "gateway.test"}
		for _, ver := range versions {
			for _, style := range styles {
				args = append(args, "-acl", "oss-"+ver.name+"-"+style+"=public-read")
			}
		}
		client := http.DefaultClient
		if tlsOn {
			args = append(args, "-tls-cert", certFile, "-tls-key", keyFile)
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
		}
		p := startServe(t, args...)
		require.Equal(t, tlsOn, strings.HasPrefix(p.url, "https://"), p.url)

		for _, ver := range versions {
			for _, pathStyle := range []bool{true, false} {
				bucket := "oss-" + ver.name + "-" + styles[pathStyle]
				what := p.url + " " + bucket
				sdk := func(ak, sk string, opts ...func(*oss.Options)) *oss.Client {
					return ossSDK(t, p.url, ak, sk, ver.v, pathStyle, tlsConfig, opts...)
				}
				c := sdk("ADMIN", "admin-secret")
				want := ossMirrorSite(origin.URL + "/site/")

				put, err := c.PutBucketWebsite(ctx, &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr(bucket), WebsiteConfiguration: want})
				require.NoError(t, err, what)
				assert.Equal(t, 200, put.StatusCode, what)
				assert.NotEmpty(t, put.Headers.Get("X-Oss-Request-Id"), what)

				code, body := getBody(t, client, p.url+"/"+bucket+"/m/a.txt")
				assert.Equal(t, 200, code, what)
				assert.Equal(t, "origin:/site/m/a.txt", body, "%s: the bucket mirrors with the rules the SDK put", what)

				got, err := c.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				require.NoError(t, err, what)
				assert.Equal(t, want, got.WebsiteConfiguration, what)

				other := &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr(bucket), WebsiteConfiguration: ossMirrorSite("http://evil.example/")}
				for _, refusal := range []struct {
					name, code string
					client     *oss.Client
				}{
					{"a wrong secret", "SignatureDoesNotMatch", sdk("ADMIN", "wrong")},
					{"an unknown key", "InvalidAccessKeyId", sdk("NOBODY", "admin-secret")},
					{"a stale date", "RequestTimeTooSkewed", sdk("ADMIN", "admin-secret", func(o *oss.Options) { o.Signer = ossStaleSigner{o.Signer} })},
					{"no signature", "AccessDenied", sdk("", "")},
					{"a key outside its scope", "AccessDenied", sdk("TENANT", "tenant-secret")},
				} {
					_, err := refusal.client.PutBucketWebsite(ctx, other)
					assert.Equal(t, refusal.code, ossErrorCode(err), "%s: PUT with %s", what, refusal.name)
					_, err = refusal.client.DeleteBucketWebsite(ctx, &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
					assert.Equal(t, refusal.code, ossErrorCode(err), "%s: DELETE with %s", what, refusal.name)
				}
				got, err = c.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				require.NoError(t, err, what)
				assert.Equal(t, want, got.WebsiteConfiguration, "%s: the refusals changed nothing", what)

				del, err := c.DeleteBucketWebsite(ctx, &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				require.NoError(t, err, what)
				assert.Equal(t, 204, del.StatusCode, what)
				_, err = c.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(bucket)})
				assert.Equal(t, "NoSuchWebsiteConfiguration", ossErrorCode(err), what)
				code, _ = getBody(t, client, p.url+"/"+bucket+"/m/b.txt")
				assert.Equal(t, 404, code, "%s: no rules, nothing mirrored", what)
			}
		}
		require.NoError(t, p.stop(t))
	}
	assert.Equal(t, int64(8), hits.Load(), "one origin fetch per configuration put")
}
