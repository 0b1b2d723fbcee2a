package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Huawei OBS's SetBucketMirrorBackToSource, GetBucketMirrorBackToSource
// and DeleteBucketMirrorBackToSource through `mirror serve` as a process,
// driven by huaweicloud-sdk-go-obs, signed both ways the SDK signs: "OBS
// AK:SIG" (obs.SignatureObs, which the SDK sends virtual-host style only,
// so the gateway serves -domain gateway.test) and "AWS AK:SIG" (the SDK's
// default, path-style).

// obsReplies keeps the bodies of the answers the SDK reads: its
// GetBucketMirrorBackToSource never hands the body to its caller
// (huaweicloud-sdk-go-obs v3.25.4 fills its Rules only for a type named
// "GetBucketMirrorBackToSourceOuput"), so the test reads the document
// here, as the SDK received it.
type obsReplies struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
}

func (o *obsReplies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	o.mu.Lock()
	o.last = body
	o.mu.Unlock()
	return resp, nil
}

func (o *obsReplies) lastBody() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// obsSDK is the OBS SDK for the gateway at base: with the OBS signature it
// addresses BUCKET.gateway.test, which its dialer takes to the gateway;
// with the AWS signature the gateway's address, path-style.
func obsSDK(t *testing.T, base string, obsSignature bool, ak, sk string, tlsConfig *tls.Config) (*obs.ObsClient, *obsReplies) {
	scheme, addr, _ := strings.Cut(base, "://")
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	if scheme == "https" {
		tr.TLSClientConfig = tlsConfig.Clone()
		tr.TLSClientConfig.ServerName = "gateway.test" // BUCKET.gateway.test is served under gateway.test's certificate
	}
	replies := &obsReplies{base: tr}
	hc := &http.Client{Transport: replies}
	var c *obs.ObsClient
	var err error
	if obsSignature {
		c, err = obs.New(ak, sk, scheme+"://gateway.test:"+port, obs.WithSignature(obs.SignatureObs),
			obs.WithHttpClient(hc), obs.WithMaxRetryCount(0))
	} else {
		c, err = obs.New(ak, sk, base, obs.WithHttpClient(hc), obs.WithMaxRetryCount(0))
	}
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c, replies
}

// obsCode is the status and OBS code of an SDK error.
func obsCode(err error) (int, string) {
	var oe obs.ObsError
	if errors.As(err, &oe) {
		return oe.StatusCode, oe.Code
	}
	if err != nil {
		return 0, "not a service error: " + err.Error()
	}
	return 0, ""
}

// sameJSON says whether two documents mean the same JSON.
func sameJSON(t *testing.T, a, b []byte) bool {
	var x, y any
	require.NoError(t, json.Unmarshal(a, &x), string(a))
	require.NoError(t, json.Unmarshal(b, &y), string(b))
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// The OBS SDK puts a bucket's rules through the gateway, reads them back,
// and deletes them, over http and https, signed both ways; an anonymous
// read of a missing object (the bucket public-read by -acl) mirrors it as
// the rules say. A wrong secret, an unknown key, a stale date, no
// signature and a key outside its scope each get OBS's code and change
// nothing.
func TestOBSSDKConfiguresTheGateway(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	certFile, keyFile, tlsConfig := selfSigned(t)
	for _, tlsOn := range []bool{false, true} {
		args := []string{"-data", t.TempDir(), "-credentials", creds, "-allow-private-origins", "-domain", "gateway.test",
			"-acl", "obs-signed=public-read", "-acl", "aws-signed=public-read"}
		client := http.DefaultClient
		if tlsOn {
			args = append(args, "-tls-cert", certFile, "-tls-key", keyFile)
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
		}
		p := startServe(t, args...)
		require.Equal(t, tlsOn, strings.HasPrefix(p.url, "https://"), p.url)

		for _, obsSignature := range []bool{true, false} {
			bucket := map[bool]string{true: "obs-signed", false: "aws-signed"}[obsSignature]
			what := p.url + " " + bucket
			c, replies := obsSDK(t, p.url, obsSignature, "ADMIN", "admin-secret", tlsConfig)
			doc := `{"rules": [{"id": "site", "condition": {"httpErrorCodeReturnedEquals": 404, "objectKeyPrefixEquals": "m/"},` +
				` "redirect": {"agency": "mirror-agency", "publicSource": {"sourceEndpoint": {"master": ["` + origin.URL + `/obs"]}}}}]}`
			out, err := c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: bucket, Rules: doc})
			require.NoError(t, err, what)
			assert.Equal(t, 200, out.StatusCode, what)

			got, body := getBody(t, client, p.url+"/"+bucket+"/m/a.txt")
			assert.Equal(t, 200, got, what)
			assert.Equal(t, "origin:/obs/m/a.txt", body, "%s: the bucket mirrors with the rules the SDK put", what)

			stored := func() []byte {
				out, err := c.GetBucketMirrorBackToSource(bucket)
				require.NoError(t, err, what)
				assert.Equal(t, 200, out.StatusCode)
				assert.Empty(t, out.Rules, "the SDK's Get never fills Rules (v3.25.4): if it does now, read it here")
				return replies.lastBody()
			}
			assert.True(t, sameJSON(t, []byte(doc), stored()), "%s: read back equal in meaning", what)

			evil := &obs.SetBucketMirrorBackToSourceInput{Bucket: bucket,
				Rules: strings.ReplaceAll(doc, origin.URL+"/obs", "https://evil.example.com")}
			sdk := func(ak, sk string) *obs.ObsClient {
				c, _ := obsSDK(t, p.url, obsSignature, ak, sk, tlsConfig)
				return c
			}
			stale := obs.WithCustomHeader("Date", time.Now().Add(-20*time.Minute).UTC().Format(http.TimeFormat))
			for _, r := range []struct {
				name string
				err  error
				code string
			}{
				{"wrong secret", second(sdk("ADMIN", "wrong").SetBucketMirrorBackToSource(evil)), "SignatureDoesNotMatch"},
				{"unknown key", second(sdk("NOBODY", "x").SetBucketMirrorBackToSource(evil)), "InvalidAccessKeyId"},
				{"stale date", second(c.SetBucketMirrorBackToSource(evil, stale)), "RequestTimeTooSkewed"},
				{"no signature", second(sdk("", "").SetBucketMirrorBackToSource(evil)), "AccessDenied"},
				{"outside its scope", second(sdk("TENANT", "tenant-secret").SetBucketMirrorBackToSource(evil)), "AccessDenied"},
				{"wrong secret, delete", second(sdk("ADMIN", "wrong").DeleteBucketMirrorBackToSource(bucket)), "SignatureDoesNotMatch"},
				{"stale date, delete", second(c.DeleteBucketMirrorBackToSource(bucket, stale)), "RequestTimeTooSkewed"},
				{"outside its scope, delete", second(sdk("TENANT", "tenant-secret").DeleteBucketMirrorBackToSource(bucket)), "AccessDenied"},
			} {
				status, code := obsCode(r.err)
				assert.Equal(t, 403, status, "%s: %s", what, r.name)
				assert.Equal(t, r.code, code, "%s: %s", what, r.name)
			}
			assert.True(t, sameJSON(t, []byte(doc), stored()), "%s: the refused requests changed nothing", what)

			del, err := c.DeleteBucketMirrorBackToSource(bucket)
			require.NoError(t, err, what)
			assert.Equal(t, 204, del.StatusCode, what)
			_, err = c.GetBucketMirrorBackToSource(bucket)
			status, code := obsCode(err)
			assert.Equal(t, 404, status, what)
			assert.Equal(t, "NoSuchMirrorBackToSource", code, what)
			got, _ = getBody(t, client, p.url+"/"+bucket+"/m/b.txt")
			assert.Equal(t, 404, got, "%s: no rules: nothing mirrored", what)
		}
		require.NoError(t, p.stop(t))
	}
	assert.Equal(t, int64(4), hits.Load(), "one fetch per signature, per scheme")
}

// second is the error of a call's two results.
func second[T any](_ T, err error) error { return err }
