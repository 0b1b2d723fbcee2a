package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baidubce/bce-sdk-go/bce"
	"github.com/baidubce/bce-sdk-go/services/bos"
	bosapi "github.com/baidubce/bce-sdk-go/services/bos/api"
	"github.com/mirrorkit/mirror/internal/s3test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qsconfig "github.com/yunify/qingstor-sdk-go/v3/config"
	qserrors "github.com/yunify/qingstor-sdk-go/v3/request/errors"
	qs "github.com/yunify/qingstor-sdk-go/v3/service"
)

// The configuration APIs through `mirror serve` itself, as a process,
// driven by the providers' real Go SDKs (docs/SERVING.md §4).

const gatewayCredentials = `{"ADMIN": "admin-secret", "TENANT": {"secret": "tenant-secret", "buckets": ["tenant-a-*"]}}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// countingOrigin is a loopback origin that answers "origin:PATH" and
// counts its requests.
func countingOrigin(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "origin:"+r.URL.Path)
	}))
	t.Cleanup(o.Close)
	return o, &hits
}

func bosSDK(t *testing.T, endpoint, ak, sk string, client *http.Client) *bos.Client {
	cfg := bos.NewBosClientConfig(ak, sk, endpoint)
	cfg.PathStyleEnable = true
	cfg.HTTPClient = client
	cfg = cfg.WithRetryPolicy(bce.NewNoRetryPolicy())
	c, err := bos.NewClientWithConfig(cfg)
	require.NoError(t, err)
	return c
}

// qsSDK is the QingStor SDK for a bucket in zone pek3b of the gateway at
// base; its dialer ignores the zone label the SDK puts before the host.
func qsSDK(t *testing.T, base, ak, sk, bucket string, tlsConfig *tls.Config) *qs.Bucket {
	conf, err := qsconfig.New(ak, sk)
	require.NoError(t, err)
	scheme, addr, _ := strings.Cut(base, "://")
	_, port, _ := net.SplitHostPort(addr)
	conf.Host, conf.Protocol = "gateway.test", scheme
	conf.Port, _ = strconv.Atoi(port)
	conf.Connection = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: tlsConfig,
	}}
	svc, err := qs.Init(conf)
	require.NoError(t, err)
	b, err := svc.Bucket(bucket, "pek3b")
	require.NoError(t, err)
	return b
}

func getBody(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// selfSigned makes a certificate for gateway.test and 127.0.0.1, and the
// TLS configuration of a client that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, client *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"gateway.test", "pek3b.gateway.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile = writeFile(t, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, &tls.Config{RootCAs: pool}
}

// Both SDKs configure, read back and delete a bucket's mirroring through
// the gateway, which then mirrors with the new rules; over http and https.
func TestSDKsConfigureTheGateway(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	certFile, keyFile, tlsConfig := selfSigned(t)
	for _, tlsOn := range []bool{false, true} {
		args := []string{"-data", t.TempDir(), "-credentials", creds, "-allow-private-origins"}
		client := http.DefaultClient
		if tlsOn {
			args = append(args, "-tls-cert", certFile, "-tls-key", keyFile)
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
		}
		p := startServe(t, args...)
		require.Equal(t, tlsOn, strings.HasPrefix(p.url, "https://"), p.url)

		// BOS.
		c := bosSDK(t, p.url, "ADMIN", "admin-secret", client)
		require.NoError(t, c.PutBucketMirror("my-bucket", &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
			Mode: "fetch", SourceUrl: origin.URL + "/site", Resource: "*", Prefix: "m/"}}}))
		code, body := getBody(t, client, p.url+"/my-bucket/a.txt")
		assert.Equal(t, 200, code)
		assert.Equal(t, "origin:/site/m/a.txt", body, "the bucket mirrors with the rules the SDK put")
		got, err := c.GetBucketMirror("my-bucket")
		require.NoError(t, err)
		assert.Equal(t, origin.URL+"/site", got.BucketMirroringConfiguration[0].SourceUrl)
		var se *bce.BceServiceError
		err = bosSDK(t, p.url, "ADMIN", "wrong", client).DeleteBucketMirror("my-bucket")
		require.True(t, errors.As(err, &se))
		assert.Equal(t, "SignatureDoesNotMatch", se.Code)
		require.NoError(t, c.DeleteBucketMirror("my-bucket"))
		_, err = c.GetBucketMirror("my-bucket")
		require.True(t, errors.As(err, &se))
		assert.Equal(t, "NoSuchMirroring", se.Code)
		code, _ = getBody(t, client, p.url+"/my-bucket/b.txt")
		assert.Equal(t, 404, code, "no rules: nothing mirrored")

		// QingStor.
		b := qsSDK(t, p.url, "ADMIN", "admin-secret", "qs-bucket", tlsConfig)
		out, err := b.PutExternalMirror(&qs.PutBucketExternalMirrorInput{SourceSite: qs.String(origin.URL + "/qs")})
		require.NoError(t, err)
		assert.Equal(t, 200, *out.StatusCode)
		code, body = getBody(t, client, p.url+"/qs-bucket/x/y.txt")
		assert.Equal(t, 200, code)
		assert.Equal(t, "origin:/qs/x/y.txt", body)
		mirror, err := b.GetExternalMirror()
		require.NoError(t, err)
		assert.Equal(t, origin.URL+"/qs", *mirror.SourceSite)
		_, err = qsSDK(t, p.url, "TENANT", "tenant-secret", "qs-bucket", tlsConfig).DeleteExternalMirror()
		var qe *qserrors.QingStorError
		require.True(t, errors.As(err, &qe))
		assert.Equal(t, "permission_denied", qe.Code, "a key scoped to tenant-a-*")
		_, err = b.DeleteExternalMirror()
		require.NoError(t, err)
		_, err = b.GetExternalMirror()
		require.True(t, errors.As(err, &qe))
		assert.Equal(t, "mirror_not_exists", qe.Code)

		require.NoError(t, p.stop(t))
	}
	assert.Equal(t, int64(4), hits.Load())
}

// Two gateways on one S3 store share one state: a configuration put
// through one is in force on the other within -config-ttl, and an object
// fetched by one is served by the other without a second origin request.
func TestTwoGatewaysShareAnS3Store(t *testing.T) {
	endpoint := s3test.Endpoint(t)
	origin, hits := countingOrigin(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	data := fmt.Sprintf("s3://mirror-shared-%d/gateways", os.Getpid())
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	args := []string{"-data", data, "-s3-endpoint", endpoint, "-credentials", creds, "-allow-private-origins", "-config-ttl", "300ms"}
	one := startServe(t, args...)
	two := startServe(t, args...)

	code, _ := getBody(t, http.DefaultClient, two.url+"/shared-bucket/k.txt")
	require.Equal(t, 404, code, "two has looked: none set")
	c := bosSDK(t, one.url, "ADMIN", "admin-secret", http.DefaultClient)
	require.NoError(t, c.PutBucketMirror("shared-bucket", &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
		Mode: "fetch", SourceUrl: origin.URL, Resource: "*"}}}))
	start := time.Now()
	require.Eventually(t, func() bool {
		code, _ := getBody(t, http.DefaultClient, two.url+"/shared-bucket/k.txt")
		return code == 200
	}, 5*time.Second, 20*time.Millisecond, "the configuration reaches gateway two")
	assert.Less(t, time.Since(start), 2*time.Second, "within -config-ttl, plus a poll")
	got, err := bosSDK(t, two.url, "ADMIN", "admin-secret", http.DefaultClient).GetBucketMirror("shared-bucket")
	require.NoError(t, err)
	assert.Equal(t, origin.URL, got.BucketMirroringConfiguration[0].SourceUrl)

	before := hits.Load()
	code, body := getBody(t, http.DefaultClient, one.url+"/shared-bucket/big/object.bin")
	require.Equal(t, 200, code)
	code, body2 := getBody(t, http.DefaultClient, two.url+"/shared-bucket/big/object.bin")
	require.Equal(t, 200, code)
	assert.Equal(t, body, body2)
	assert.Equal(t, before+1, hits.Load(), "fetched by one, served by the other from the store")

	// A restart loses nothing that was committed.
	require.NoError(t, one.stop(t))
	one = startServe(t, args...)
	code, body = getBody(t, http.DefaultClient, one.url+"/shared-bucket/big/object.bin")
	assert.Equal(t, 200, code)
	assert.Equal(t, "origin:/big/object.bin", body)
	assert.Equal(t, before+1, hits.Load())
	require.NoError(t, one.stop(t))
	require.NoError(t, two.stop(t))
}

// /metrics shows fetch outcomes, bytes, joined requests and origin
// latency.
func TestMetrics(t *testing.T) {
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "6")
		_, _ = io.WriteString(w, "abc")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "def")
	}))
	defer origin.Close()
	rules := writeFile(t, "rules.json", `{"source_site":"`+origin.URL+`"}`)
	p := startServe(t, "-data", t.TempDir(), "-bucket", "my-bucket="+rules, "-allow-private-origins", "-metrics", "127.0.0.1:0")
	var metricsURL string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`url=(http://\S+/metrics)`).FindStringSubmatch(p.stderr.String())
		if m != nil {
			metricsURL = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond)

	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			getBody(t, http.DefaultClient, p.url+"/my-bucket/shared")
		}()
	}
	time.Sleep(300 * time.Millisecond)
	close(release)
	wg.Wait()
	getBody(t, http.DefaultClient, p.url+"/my-bucket/shared") // a hit
	getBody(t, http.DefaultClient, p.url+"/my-bucket/missing")

	_, text := getBody(t, http.DefaultClient, metricsURL)
	for _, want := range []string{
		`mirror_fetches_total{outcome="stored"} 1`,
		`mirror_fetches_total{outcome="not_found"} 1`,
		`mirror_fetch_bytes_total 6`,
		`mirror_fetch_joined_total 2`,
		`mirror_origin_request_duration_seconds_count{status="200"} 1`,
		`mirror_origin_request_duration_seconds_count{status="404"} 1`,
		`mirror_fetches_in_flight 0`,
		`mirror_store_lookups_total{result="hit"} 1`,
		`mirror_store_lookups_total{result="miss"} 4`,
		`mirror_config_changes_total{api="qingstor",op="put"} 1`,
	} {
		assert.Contains(t, text, want)
	}
	require.NoError(t, p.stop(t))
}

// A DELETE through any API removes the bucket's one configuration,
// whichever API (or -bucket) put it, and a DELETE that removed nothing is
// not counted in mirror_config_changes_total.
func TestDeletesThatRemoveNothingAreNotCounted(t *testing.T) {
	origin, _ := countingOrigin(t)
	rules := writeFile(t, "rules.json", `{"source_site":"`+origin.URL+`"}`)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	p := startServe(t, "-data", t.TempDir(), "-credentials", creds, "-bucket", "qs-bucket="+rules,
		"-allow-private-origins", "-metrics", "127.0.0.1:0")
	var metricsURL string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`url=(http://\S+/metrics)`).FindStringSubmatch(p.stderr.String())
		if m != nil {
			metricsURL = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond)

	code, body := getBody(t, http.DefaultClient, p.url+"/qs-bucket/a.txt")
	assert.Equal(t, 200, code, "the -bucket configuration is in force")
	assert.Equal(t, "origin:/a.txt", body)
	c := bosSDK(t, p.url, "ADMIN", "admin-secret", http.DefaultClient)
	require.NoError(t, c.DeleteBucketMirror("qs-bucket"), "BOS's DELETE removes the QingStor configuration")
	require.NoError(t, c.DeleteBucketMirror("empty-bucket"))
	code, _ = getBody(t, http.DefaultClient, p.url+"/qs-bucket/b.txt")
	assert.Equal(t, 404, code, "removed")

	b := qsSDK(t, p.url, "ADMIN", "admin-secret", "qs-bucket", nil)
	_, err := b.DeleteExternalMirror()
	require.NoError(t, err, "deleting none is fine")

	_, text := getBody(t, http.DefaultClient, metricsURL)
	var changes []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "mirror_config_changes_total{") {
			changes = append(changes, line)
		}
	}
	assert.Equal(t, []string{
		`mirror_config_changes_total{api="qingstor",op="delete"} 1`,
		`mirror_config_changes_total{api="qingstor",op="put"} 1`,
	}, changes, "the -bucket put and the one DELETE that removed it, under the format removed")
	require.NoError(t, p.stop(t))
}

// Through an S3 store, an object's Content-Encoding is the origin's on the
// fetch and on every hit: never the aws-chunked of minio-go's streaming
// upload over http.
func TestS3StoreKeepsTheOriginsContentEncoding(t *testing.T) {
	endpoint := s3test.Endpoint(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, "hello gzip")
	require.NoError(t, zw.Close())
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".gzc") {
			// An origin that is itself an S3-compatible server may send
			// the aws-chunked token back.
			w.Header().Set("Content-Encoding", "gzip, aws-chunked")
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(gz.Bytes())
			return
		}
		if strings.HasSuffix(r.URL.Path, ".gz") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(gz.Bytes())
			return
		}
		_, _ = io.WriteString(w, "plain")
	}))
	defer origin.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	rules := writeFile(t, "rules.json", `{"source_site":"`+origin.URL+`"}`)
	data := fmt.Sprintf("s3://mirror-encoding-%d/p", os.Getpid())
	p := startServe(t, "-data", data, "-s3-endpoint", endpoint, "-bucket", "my-bucket="+rules, "-allow-private-origins")
	// Issue 16, finding 6: "gzip, aws-chunked" was "gzip, aws-chunked" on
	// the miss and "gzip" on the hit; it is "gzip" on both.
	for key, want := range map[string]string{"a.txt": "", "b.gz": "gzip", "c.gzc": "gzip"} {
		for _, from := range []string{"fetch", "store"} {
			req, err := http.NewRequest("GET", p.url+"/my-bucket/"+key, nil)
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", "identity")
			resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode, "%s from the %s", key, from)
			assert.Equal(t, want, strings.Join(resp.Header.Values("Content-Encoding"), ","), "%s from the %s", key, from)
			if want == "gzip" {
				assert.Equal(t, gz.Bytes(), b, "the origin's bytes")
			}
		}
	}
	require.NoError(t, p.stop(t))
}
