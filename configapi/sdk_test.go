package configapi

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baidubce/bce-sdk-go/bce"
	"github.com/baidubce/bce-sdk-go/services/bos"
	bosapi "github.com/baidubce/bce-sdk-go/services/bos/api"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/access"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qsconfig "github.com/yunify/qingstor-sdk-go/v3/config"
	qserrors "github.com/yunify/qingstor-sdk-go/v3/request/errors"
	qs "github.com/yunify/qingstor-sdk-go/v3/service"
)

const testCredentials = `{"ADMIN": "admin-secret", "TENANT": {"secret": "tenant-secret", "buckets": ["tenant-a-*"]}}`

// apiServer is a Handler over a DirStore, on loopback (or TLS).
type apiServer struct {
	*httptest.Server
	handler  *Handler
	registry *bucketconfig.Registry
	store    *dirstore.Store
}

func newAPIServer(t *testing.T, tlsOn bool) *apiServer {
	t.Helper()
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	creds, err := access.ParseCredentials([]byte(testCredentials))
	require.NoError(t, err)
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	h := &Handler{Registry: reg, Credentials: creds, Logger: quietLogger}
	s := &apiServer{handler: h, registry: reg, store: store}
	if tlsOn {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

// bosClient is BOS's own Go SDK pointed at the server.
func (s *apiServer) bosClient(t *testing.T, ak, sk string) *bos.Client {
	cfg := bos.NewBosClientConfig(ak, sk, s.URL)
	if s.TLS != nil {
		cfg.HTTPClient = s.Client()
	}
	cfg.PathStyleEnable = true
	// The SDK retries a RequestExpired with back-off; a test wants the
	// first answer.
	cfg = cfg.WithRetryPolicy(bce.NewNoRetryPolicy())
	c, err := bos.NewClientWithConfig(cfg)
	require.NoError(t, err)
	return c
}

// qsBucket is QingStor's own Go SDK, for a bucket in zone pek3b: the SDK
// puts the zone in front of the host, which the test's dialer ignores.
func (s *apiServer) qsBucket(t *testing.T, ak, sk, bucket string) *qs.Bucket {
	conf, err := qsconfig.New(ak, sk)
	require.NoError(t, err)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	conf.Host, conf.Protocol = "gateway.test", "http"
	conf.Port, _ = strconv.Atoi(port)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(host, port))
	}}
	if s.TLS != nil {
		conf.Protocol = "https"
		tr.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		tr.TLSClientConfig.ServerName = "example.com" // what httptest's certificate names
	}
	conf.Connection = &http.Client{Transport: tr}
	svc, err := qs.Init(conf)
	require.NoError(t, err)
	b, err := svc.Bucket(bucket, "pek3b")
	require.NoError(t, err)
	return b
}

func bosCode(err error) string {
	var se *bce.BceServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return "not a service error: " + err.Error()
	}
	return ""
}

func qsCode(err error) string {
	var qe *qserrors.QingStorError
	if errors.As(err, &qe) {
		return qe.Code
	}
	if err != nil {
		return "not a service error: " + err.Error()
	}
	return ""
}

var bosRules = &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
	Mode: "fetch", SourceUrl: "https://origin.example.com/site", Resource: "img/*", PassQueryString: true,
	StorageClass: "STANDARD_IA", CustomHeaders: []bosapi.HeaderPair{{HeaderName: "X-From", HeaderValue: "mirror"}},
}, {
	Mode: "redirect", SourceUrl: "https://cdn.example.com", Resource: "video/*",
}}}

// The real BOS Go SDK configures, reads back and deletes a bucket's
// mirroring, over http and https.
func TestBOSSDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newAPIServer(t, tlsOn)
		c := s.bosClient(t, "ADMIN", "admin-secret")
		require.NoError(t, c.PutBucketMirror("my-bucket", bosRules))

		eng, err := s.registry.Engine(context.Background(), "my-bucket")
		require.NoError(t, err)
		require.NotNil(t, eng, "in force")
		d, err := eng.Resolve(&mirror.Request{Key: "img/a.png", RawQuery: "w=1"})
		require.NoError(t, err)
		assert.Equal(t, []string{"https://origin.example.com/site/img/a.png?w=1"}, d.URLs)

		got, err := c.GetBucketMirror("my-bucket")
		require.NoError(t, err)
		require.Len(t, got.BucketMirroringConfiguration, 2)
		assert.Equal(t, bosRules.BucketMirroringConfiguration, got.BucketMirroringConfiguration, "the document as it was put")

		require.NoError(t, c.DeleteBucketMirror("my-bucket"))
		_, err = c.GetBucketMirror("my-bucket")
		assert.Equal(t, "NoSuchMirroring", bosCode(err))
		require.NoError(t, c.DeleteBucketMirror("my-bucket"), "deleting none is fine")
		eng, _ = s.registry.Engine(context.Background(), "my-bucket")
		assert.Nil(t, eng)
	}
}

// The real QingStor Go SDK sets, reads back and deletes a bucket's
// external mirror, over http and https.
func TestQingStorSDK(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := newAPIServer(t, tlsOn)
		b := s.qsBucket(t, "ADMIN", "admin-secret", "my-bucket")
		out, err := b.PutExternalMirror(&qs.PutBucketExternalMirrorInput{SourceSite: qs.String("https://old.example.com/files")})
		require.NoError(t, err)
		assert.Equal(t, 200, *out.StatusCode)

		eng, err := s.registry.Engine(context.Background(), "my-bucket")
		require.NoError(t, err)
		d, err := eng.Resolve(&mirror.Request{Key: "a/b.txt"})
		require.NoError(t, err)
		assert.Equal(t, []string{"https://old.example.com/files/a/b.txt"}, d.URLs)

		got, err := b.GetExternalMirror()
		require.NoError(t, err)
		require.NotNil(t, got.SourceSite)
		assert.Equal(t, "https://old.example.com/files", *got.SourceSite)

		_, err = b.DeleteExternalMirror()
		require.NoError(t, err)
		_, err = b.GetExternalMirror()
		assert.Equal(t, "mirror_not_exists", qsCode(err))
	}
}

// A bucket has one configuration: a PUT through one API replaces what
// another put, and a GET through another API answers it converted to that
// API's format, or, where that format can not say it, with that API's
// error naming the API that owns it and the first rule it can not say.
func TestOneConfigurationPerBucket(t *testing.T) {
	s := newAPIServer(t, false)
	c := s.bosClient(t, "ADMIN", "admin-secret")
	b := s.qsBucket(t, "ADMIN", "admin-secret", "my-bucket")
	require.NoError(t, c.PutBucketMirror("my-bucket", bosRules))
	_, err := b.GetExternalMirror()
	assert.Equal(t, "invalid_request", qsCode(err), "two rules, one of them a redirect: QingStor can not say them")
	var qe *qserrors.QingStorError
	require.ErrorAs(t, err, &qe)
	assert.Contains(t, qe.Message, "put through BOS PutBucketMirroring")
	assert.Contains(t, qe.Message, "rules: has 2 rules")

	_, err = b.PutExternalMirror(&qs.PutBucketExternalMirrorInput{SourceSite: qs.String("https://old.example.com")})
	require.NoError(t, err)
	got, err := c.GetBucketMirror("my-bucket")
	require.NoError(t, err, "a QingStor source site is a BOS rule")
	require.Len(t, got.BucketMirroringConfiguration, 1)
	assert.Equal(t, "https://old.example.com", got.BucketMirroringConfiguration[0].SourceUrl)
	assert.Equal(t, "*", got.BucketMirroringConfiguration[0].Resource)
}

// A wrong secret, an unknown key, a stale date and a missing signature are
// each refused with the provider's own code, and change nothing; a key
// scoped to tenant-a-* can not read or change another bucket.
func TestSignaturesAndScopes(t *testing.T) {
	s := newAPIServer(t, false)
	admin := s.bosClient(t, "ADMIN", "admin-secret")
	require.NoError(t, admin.PutBucketMirror("my-bucket", bosRules))
	_, err := s.qsBucket(t, "ADMIN", "admin-secret", "qs-bucket").PutExternalMirror(
		&qs.PutBucketExternalMirrorInput{SourceSite: qs.String("https://old.example.com")})
	require.NoError(t, err)
	other := &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
		Mode: "fetch", SourceUrl: "https://evil.example.com", Resource: "*"}}}

	assert.Equal(t, "SignatureDoesNotMatch", bosCode(s.bosClient(t, "ADMIN", "wrong").PutBucketMirror("my-bucket", other)))
	assert.Equal(t, "InvalidAccessKeyId", bosCode(s.bosClient(t, "NOBODY", "x").PutBucketMirror("my-bucket", other)))
	assert.Equal(t, "AccessDenied", bosCode(s.bosClient(t, "TENANT", "tenant-secret").PutBucketMirror("my-bucket", other)))
	_, err = s.bosClient(t, "TENANT", "tenant-secret").GetBucketMirror("my-bucket")
	assert.Equal(t, "AccessDenied", bosCode(err), "a scoped key can not read another bucket")
	assert.Equal(t, "AccessDenied", bosCode(s.bosClient(t, "TENANT", "tenant-secret").DeleteBucketMirror("my-bucket")))
	require.NoError(t, s.bosClient(t, "TENANT", "tenant-secret").PutBucketMirror("tenant-a-photos", other), "in scope")

	q := func(ak, sk, bucket string) error {
		_, err := s.qsBucket(t, ak, sk, bucket).PutExternalMirror(&qs.PutBucketExternalMirrorInput{SourceSite: qs.String("https://evil.example.com")})
		return err
	}
	assert.Equal(t, "signature_not_matched", qsCode(q("ADMIN", "wrong", "qs-bucket")))
	assert.Equal(t, "invalid_access_key_id", qsCode(q("NOBODY", "x", "qs-bucket")))
	assert.Equal(t, "permission_denied", qsCode(q("TENANT", "tenant-secret", "qs-bucket")))

	// A clock an hour off makes every signature stale.
	s.handler.Now = func() time.Time { return time.Now().Add(time.Hour) }
	assert.Equal(t, "RequestExpired", bosCode(admin.PutBucketMirror("my-bucket", other)))
	assert.Equal(t, "request_expired", qsCode(q("ADMIN", "admin-secret", "qs-bucket")))
	s.handler.Now = nil

	// No signature at all.
	for _, u := range []string{s.URL + "/my-bucket?mirroring", s.URL + "/qs-bucket?mirror"} {
		req, _ := http.NewRequest("PUT", u, strings.NewReader(`{"source_site":"https://evil.example.com"}`))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, u)
	}

	// Nothing changed.
	got, err := admin.GetBucketMirror("my-bucket")
	require.NoError(t, err)
	assert.Equal(t, bosRules.BucketMirroringConfiguration, got.BucketMirroringConfiguration)
	out, err := s.qsBucket(t, "ADMIN", "admin-secret", "qs-bucket").GetExternalMirror()
	require.NoError(t, err)
	assert.Equal(t, "https://old.example.com", *out.SourceSite)
}

// A DELETE through any API removes the bucket's one configuration,
// whichever API (or -bucket) put it, counted once under the format it
// removed.
func TestDeleteThroughAnyAPIRemovesTheConfiguration(t *testing.T) {
	nativeDoc := `{"rules":[{"mode":"fetch","sourceUrl":"https://native.example.com","resource":"*"}]}`
	for _, storedBy := range []mirror.Format{mirror.FormatBOS, mirror.FormatQingStor, mirror.FormatNative} {
		for _, deleteBy := range []mirror.Format{mirror.FormatBOS, mirror.FormatQingStor} {
			t.Run(string(storedBy)+" deleted through "+string(deleteBy), func(t *testing.T) {
				s := newAPIServer(t, false)
				var changes []string
				s.registry.ObserveChange = func(bucket string, api mirror.Format, op string) { changes = append(changes, string(api)+" "+op) }
				bosc := s.bosClient(t, "ADMIN", "admin-secret")
				qsb := s.qsBucket(t, "ADMIN", "admin-secret", "my-bucket")
				switch storedBy {
				case mirror.FormatBOS:
					require.NoError(t, bosc.PutBucketMirror("my-bucket", bosRules))
				case mirror.FormatQingStor:
					_, err := qsb.PutExternalMirror(&qs.PutBucketExternalMirrorInput{SourceSite: qs.String("https://old.example.com")})
					require.NoError(t, err)
				case mirror.FormatNative:
					require.NoError(t, s.registry.Put(context.Background(), "my-bucket", mirror.FormatNative, []byte(nativeDoc)))
				}
				changes = nil

				if deleteBy == mirror.FormatBOS {
					require.NoError(t, bosc.DeleteBucketMirror("my-bucket"))
				} else {
					out, err := qsb.DeleteExternalMirror()
					require.NoError(t, err)
					assert.Equal(t, 204, *out.StatusCode)
				}

				_, _, err := s.store.GetConfig(context.Background(), "my-bucket")
				eng, _ := s.registry.Engine(context.Background(), "my-bucket")
				assert.ErrorIs(t, err, fs.ErrNotExist, "removed from the store")
				assert.Nil(t, eng, "and from memory")
				assert.Equal(t, []string{string(storedBy) + " delete"}, changes)
			})
		}
	}
}
