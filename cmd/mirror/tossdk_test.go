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
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos/enum"
)

// tosSDK is Volcengine TOS's own Go SDK for the gateway at base (its URL,
// 127.0.0.1:PORT), with ak and sk (none: anonymous), retries off. With
// domain set it is pointed at http(s)://DOMAIN:PORT, so it names buckets
// virtual-host style (BUCKET.DOMAIN:PORT, the SDK's default), and its
// dialer sends every connection to the gateway; with an IP endpoint the
// SDK goes path style. edit, when set, changes each request on its way.
func tosSDK(t *testing.T, base, domain, ak, sk string, tlsConfig *tls.Config, edit func(*http.Request)) *tos.ClientV2 {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	endpoint := base
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, u.Host)
	}}
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
	}
	if domain != "" {
		endpoint = u.Scheme + "://" + domain + ":" + u.Port()
		if tr.TLSClientConfig != nil {
			tr.TLSClientConfig.ServerName = domain // the certificate's name; the Host is BUCKET.DOMAIN
		}
	}
	opts := []tos.ClientOption{tos.WithRegion("cn-beijing"), tos.WithMaxRetryCount(0),
		tos.WithHTTPTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if edit != nil {
				r = r.Clone(r.Context())
				edit(r)
			}
			return tr.RoundTrip(r)
		}))}
	if ak != "" {
		opts = append(opts, tos.WithCredentials(tos.NewStaticCredentials(ak, sk)))
	}
	c, err := tos.NewClientV2(endpoint, opts...)
	require.NoError(t, err)
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// tosErr is the TOS SDK's error: its code and status.
func tosErr(err error) (string, int) {
	var se *tos.TosServerError
	if errors.As(err, &se) {
		return se.Code, se.StatusCode
	}
	if err != nil {
		return "not a service error: " + err.Error(), 0
	}
	return "", 0
}

// The TOS SDK configures `mirror serve`, as a process, over http and
// https, path style and virtual-host style (-domain): it puts rules, reads
// them back equal, a plain anonymous GET of a missing object is then
// mirrored as the rules say (the bucket is -acl public-read), refused
// requests (a wrong secret, an unknown key, a stale date, a missing
// signature, a key outside its scope) get TOS's codes and change nothing,
// and the SDK deletes the rules.
func TestTOSSDKConfiguresTheGateway(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	certFile, keyFile, tlsConfig := selfSigned(t)
	ctx := context.Background()
	want := int64(0)
	for _, tlsOn := range []bool{false, true} {
		args := []string{"-data", t.TempDir(), "-credentials", creds, "-allow-private-origins", "-domain", "gateway.test",
			"-acl", "tos-path=public-read", "-acl", "tos-vhost=public-read"}
		client := http.DefaultClient
		var clientTLS *tls.Config
		if tlsOn {
			args = append(args, "-tls-cert", certFile, "-tls-key", keyFile)
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
			clientTLS = tlsConfig
		}
		p := startServe(t, args...)
		require.Equal(t, tlsOn, strings.HasPrefix(p.url, "https://"), p.url)

		for _, style := range []struct{ bucket, domain string }{{"tos-path", ""}, {"tos-vhost", "gateway.test"}} {
			name := p.url + " " + style.bucket
			sdk := func(ak, sk string, edit func(*http.Request)) *tos.ClientV2 {
				return tosSDK(t, p.url, style.domain, ak, sk, clientTLS, edit)
			}
			admin := sdk("ADMIN", "admin-secret", nil)
			var hosts []string
			recording := sdk("ADMIN", "admin-secret", func(r *http.Request) { hosts = append(hosts, r.Host+r.URL.Path) })
			rules := []tos.MirrorBackRule{{
				ID:        "1",
				Condition: tos.Condition{HttpCode: 404, KeyPrefix: "m/"},
				Redirect: tos.Redirect{RedirectType: enum.RedirectTypeMirror, PassQuery: true,
					PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{Primary: []string{origin.URL + "/site/"}}},
					Transform:    tos.Transform{WithKeyPrefix: "t/"}},
			}}
			_, err := recording.PutBucketMirrorBack(ctx, &tos.PutBucketMirrorBackInput{Bucket: style.bucket, Rules: rules})
			require.NoError(t, err, name)
			if style.domain != "" {
				assert.Equal(t, []string{style.bucket + ".gateway.test:" + portOf(t, p.url) + "/"}, hosts, "virtual-host style")
			} else {
				assert.Equal(t, []string{"127.0.0.1:" + portOf(t, p.url) + "/" + style.bucket}, hosts, "path style")
			}
			got, err := admin.GetBucketMirrorBack(ctx, &tos.GetBucketMirrorBackInput{Bucket: style.bucket})
			require.NoError(t, err, name)
			assert.Equal(t, rules, got.Rules, "read back equal")
			assert.NotEmpty(t, got.RequestID, "x-tos-request-id")

			status, body := getBody(t, client, p.url+"/"+style.bucket+"/m/a.txt")
			assert.Equal(t, 200, status, name)
			assert.Equal(t, "origin:/site/t/m/a.txt", body, "mirrored as the rules say")
			want++
			status, _ = getBody(t, client, p.url+"/"+style.bucket+"/other/a.txt")
			assert.Equal(t, 404, status, "outside the rule's prefix: not mirrored")

			other := []tos.MirrorBackRule{{ID: "evil", Condition: tos.Condition{HttpCode: 404}, Redirect: tos.Redirect{
				RedirectType: enum.RedirectTypeMirror,
				PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{Primary: []string{"https://evil.example.com/"}}}}}}
			put := func(c *tos.ClientV2) error {
				_, err := c.PutBucketMirrorBack(ctx, &tos.PutBucketMirrorBackInput{Bucket: style.bucket, Rules: other})
				return err
			}
			stale := func(r *http.Request) {
				// The SDK signs at its own clock only: its request's time
				// moved an hour back on the way, as a client whose clock
				// is an hour slow would send it.
				now := time.Now().UTC()
				old := now.Add(-time.Hour).Format("20060102T150405Z")
				r.Header.Set("X-Tos-Date", old)
				r.Header.Set("Date", old)
				// The scope's day is that clock's too: in the first hour
				// of a UTC day it is yesterday (else the request is
				// malformed, not stale).
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"),
					"/"+now.Format("20060102")+"/", "/"+old[:8]+"/", 1))
			}
			for _, c := range []struct {
				what   string
				client *tos.ClientV2
				code   string
				status int
			}{
				{"a wrong secret", sdk("ADMIN", "wrong", nil), "SignatureDoesNotMatch", 403},
				{"an unknown key", sdk("NOBODY", "x", nil), "InvalidAccessKeyId", 403},
				{"a stale date", sdk("ADMIN", "admin-secret", stale), "RequestTimeTooSkewed", 403},
				{"a missing signature", sdk("ADMIN", "admin-secret", func(r *http.Request) { r.Header.Del("Authorization") }), "AccessDenied", 403},
				{"a key outside its scope", sdk("TENANT", "tenant-secret", nil), "AccessDenied", 403},
			} {
				code, status := tosErr(put(c.client))
				assert.Equal(t, c.code, code, "%s: %s", name, c.what)
				assert.Equal(t, c.status, status, "%s: %s", name, c.what)
			}
			got, err = admin.GetBucketMirrorBack(ctx, &tos.GetBucketMirrorBackInput{Bucket: style.bucket})
			require.NoError(t, err)
			assert.Equal(t, rules, got.Rules, "nothing changed")

			_, err = admin.DeleteBucketMirrorBack(ctx, &tos.DeleteBucketMirrorBackInput{Bucket: style.bucket})
			require.NoError(t, err, name)
			_, err = admin.GetBucketMirrorBack(ctx, &tos.GetBucketMirrorBackInput{Bucket: style.bucket})
			code, status := tosErr(err)
			assert.Equal(t, "NoSuchMirrorConfiguration", code)
			assert.Equal(t, 404, status)
			status, _ = getBody(t, client, p.url+"/"+style.bucket+"/m/b.txt")
			assert.Equal(t, 404, status, "no rules: nothing mirrored")
		}
		require.NoError(t, p.stop(t))
	}
	assert.Equal(t, want, hits.Load(), "one origin request per mirrored object")
}

func portOf(t *testing.T, base string) string {
	u, err := url.Parse(base)
	require.NoError(t, err)
	return u.Port()
}
