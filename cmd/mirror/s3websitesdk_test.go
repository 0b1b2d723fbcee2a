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

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// AWS S3's PutBucketWebsite, GetBucketWebsite and DeleteBucketWebsite
// through `mirror serve` itself, as a process, driven by
// aws-sdk-go-v2/service/s3 (docs/SERVING.md §4), over http and https,
// path-style and virtual-host style under -domain.

// websiteGateway is the host -domain names in these tests; every name
// under it is dialed to the gateway.
const websiteGateway = "gateway.test"

// websiteSDK is aws-sdk-go-v2's S3 client for the gateway at base (its
// http or https URL), path-style or with the bucket in the Host under
// websiteGateway, without retries (a test wants the first answer).
func websiteSDK(t *testing.T, base, ak, sk string, pathStyle bool, tlsConfig *tls.Config, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	addr := u.Host
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	endpoint := base
	if !pathStyle {
		_, port, _ := net.SplitHostPort(addr)
		endpoint = u.Scheme + "://" + websiteGateway + ":" + port
	}
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
		if !pathStyle {
			// BUCKET.gateway.test is not in the test's certificate.
			tr.TLSClientConfig.ServerName = websiteGateway
		}
	}
	creds := aws.CredentialsProvider(aws.AnonymousCredentials{})
	if ak != "" {
		creds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		})
	}
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: pathStyle,
		Credentials: creds, HTTPClient: &http.Client{Transport: tr}, Retryer: aws.NopRetryer{}}, optFns...)
}

// skewedSigner signs as if its clock were off by skew.
type skewedSigner struct {
	signer *v4.Signer
	skew   time.Duration
}

func (s skewedSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string,
	signingTime time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.signer.SignHTTP(ctx, c, r, payloadHash, service, region, signingTime.Add(s.skew), optFns...)
}

// s3APICode is an SDK error's S3 code and HTTP status.
func s3APICode(err error) (string, int) {
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		if err == nil {
			return "", 0
		}
		return "not a service error: " + err.Error(), 0
	}
	return ae.ErrorCode(), re.HTTPStatusCode()
}

// websiteOf is what a GetBucketWebsite answered, as a PutBucketWebsite
// input.
func websiteOf(out *s3.GetBucketWebsiteOutput) *s3types.WebsiteConfiguration {
	return &s3types.WebsiteConfiguration{IndexDocument: out.IndexDocument, ErrorDocument: out.ErrorDocument,
		RedirectAllRequestsTo: out.RedirectAllRequestsTo, RoutingRules: out.RoutingRules}
}

// The SDK puts a website configuration, reads it back equal, a GET of a
// missing object is then redirected as the rules say (an anonymous GET:
// my-bucket is public-read), and the SDK deletes it. A wrong secret, an
// unknown key, a stale date, a missing signature and a key outside its
// scope each get S3's own code, and change nothing.
func TestS3WebsiteSDKThroughServe(t *testing.T) {
	origin, hits := countingOrigin(t)
	originHost := strings.TrimPrefix(origin.URL, "http://")
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	certFile, keyFile, tlsConfig := selfSigned(t)
	ctx := context.Background()
	rules := &s3types.WebsiteConfiguration{
		IndexDocument: &s3types.IndexDocument{Suffix: aws.String("index.html")},
		RoutingRules: []s3types.RoutingRule{{
			Condition: &s3types.Condition{KeyPrefixEquals: aws.String("docs/"), HttpErrorCodeReturnedEquals: aws.String("404")},
			Redirect: &s3types.Redirect{Protocol: s3types.ProtocolHttp, HostName: aws.String(originHost),
				ReplaceKeyPrefixWith: aws.String("site/documents/"), HttpRedirectCode: aws.String("302")},
		}, {
			Condition: &s3types.Condition{KeyPrefixEquals: aws.String("old/")},
			Redirect:  &s3types.Redirect{ReplaceKeyWith: aws.String("new.html")},
		}},
	}
	wantHits := int64(0)
	for _, tlsOn := range []bool{false, true} {
		args := []string{"-data", t.TempDir(), "-credentials", creds, "-acl", "my-bucket=public-read", "-domain", websiteGateway}
		var clientTLS *tls.Config
		if tlsOn {
			args = append(args, "-tls-cert", certFile, "-tls-key", keyFile)
			clientTLS = tlsConfig
		}
		p := startServe(t, args...)
		require.Equal(t, tlsOn, strings.HasPrefix(p.url, "https://"), p.url)
		for _, pathStyle := range []bool{true, false} {
			name := map[bool]string{true: "http", false: "https"}[!tlsOn] + map[bool]string{true: " path-style", false: " virtual-host"}[pathStyle]
			t.Run(name, func(t *testing.T) {
				sdk := func(ak, sk string, optFns ...func(*s3.Options)) *s3.Client {
					return websiteSDK(t, p.url, ak, sk, pathStyle, clientTLS, optFns...)
				}
				admin := sdk("ADMIN", "admin-secret")
				get := func(c *s3.Client) (*s3.GetBucketWebsiteOutput, error) {
					return c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("my-bucket")})
				}
				put := func(c *s3.Client, w *s3types.WebsiteConfiguration) error {
					_, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("my-bucket"), WebsiteConfiguration: w})
					return err
				}
				del := func(c *s3.Client) error {
					_, err := c.DeleteBucketWebsite(ctx, &s3.DeleteBucketWebsiteInput{Bucket: aws.String("my-bucket")})
					return err
				}
				// An anonymous GET of an object, not following redirects.
				objectURL := func(key string) string {
					if pathStyle {
						return p.url + "/my-bucket/" + key
					}
					u, _ := url.Parse(p.url)
					_, port, _ := net.SplitHostPort(u.Host)
					return u.Scheme + "://my-bucket." + websiteGateway + ":" + port + "/" + key
				}
				u, _ := url.Parse(p.url)
				reader := &http.Client{
					Transport: &http.Transport{TLSClientConfig: clientTLS, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
						return (&net.Dialer{}).DialContext(ctx, network, u.Host)
					}},
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				}
				if clientTLS != nil && !pathStyle {
					reader.Transport.(*http.Transport).TLSClientConfig = clientTLS.Clone()
					reader.Transport.(*http.Transport).TLSClientConfig.ServerName = websiteGateway
				}
				anonymousGet := func(key string) *http.Response {
					resp, err := reader.Get(objectURL(key))
					require.NoError(t, err)
					resp.Body.Close()
					return resp
				}

				_, err := get(admin)
				code, status := s3APICode(err)
				assert.Equal(t, "NoSuchWebsiteConfiguration", code)
				assert.Equal(t, 404, status)
				assertS3RequestID(t, err)

				require.NoError(t, put(admin, rules))
				got, err := get(admin)
				require.NoError(t, err)
				assert.Equal(t, rules, websiteOf(got), "read back as put")

				// A miss under docs/ is redirected to the origin as the
				// rule says; following it reaches the origin.
				resp := anonymousGet("docs/a b.txt")
				assert.Equal(t, http.StatusFound, resp.StatusCode)
				loc := resp.Header.Get("Location")
				assert.Equal(t, origin.URL+"/site/documents/a%20b.txt", loc)
				code2, body := getBody(t, http.DefaultClient, loc)
				wantHits++
				assert.Equal(t, 200, code2)
				assert.Equal(t, "origin:/site/documents/a b.txt", body)
				resp = anonymousGet("old/page.html")
				assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode, "S3's default code")
				assert.True(t, strings.HasSuffix(resp.Header.Get("Location"), "/new.html"), resp.Header.Get("Location"))
				resp = anonymousGet("other/x")
				assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no rule for it")

				// Refusals, each in S3's words, changing nothing.
				evil := &s3types.WebsiteConfiguration{RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{HostName: aws.String("evil.example.com")}}
				for _, c := range []struct {
					name   string
					client *s3.Client
					code   string
					status int
				}{
					{"wrong secret", sdk("ADMIN", "wrong"), "SignatureDoesNotMatch", 403},
					{"unknown key", sdk("NOBODY", "x"), "InvalidAccessKeyId", 403},
					{"stale date", sdk("ADMIN", "admin-secret", func(o *s3.Options) {
						o.HTTPSignerV4 = skewedSigner{v4.NewSigner(), -20 * time.Minute}
					}), "RequestTimeTooSkewed", 403},
					{"no signature", sdk("", ""), "AccessDenied", 403},
					{"a key scoped to tenant-a-*", sdk("TENANT", "tenant-secret"), "AccessDenied", 403},
				} {
					code, status := s3APICode(put(c.client, evil))
					assert.Equal(t, c.code, code, c.name)
					assert.Equal(t, c.status, status, c.name)
					code, _ = s3APICode(del(c.client))
					assert.Equal(t, c.code, code, c.name+": DELETE")
				}
				_, err = get(sdk("TENANT", "tenant-secret"))
				code, _ = s3APICode(err)
				assert.Equal(t, "AccessDenied", code, "a scoped key can not read another bucket")
				got, err = get(admin)
				require.NoError(t, err)
				assert.Equal(t, rules, websiteOf(got), "nothing changed")

				// The SDK's DELETE, with UNSIGNED-PAYLOAD (it has no body).
				require.NoError(t, del(sdk("ADMIN", "admin-secret", func(o *s3.Options) {
					o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
				})))
				_, err = get(admin)
				code, _ = s3APICode(err)
				assert.Equal(t, "NoSuchWebsiteConfiguration", code)
				resp = anonymousGet("docs/b.txt")
				assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no rules: no redirect")
				require.NoError(t, del(admin), "deleting none is fine")
			})
		}
		require.NoError(t, p.stop(t))
	}
	assert.Equal(t, wantHits, hits.Load())
}
