package main

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/baidubce/bce-sdk-go/bce"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	qsconfig "github.com/yunify/qingstor-sdk-go/v3/config"
	qsrequest "github.com/yunify/qingstor-sdk-go/v3/request"
	"github.com/yunify/qingstor-sdk-go/v3/request/builder"
	qserrors "github.com/yunify/qingstor-sdk-go/v3/request/errors"
	qs "github.com/yunify/qingstor-sdk-go/v3/service"
)

// The object path of `mirror serve`, as a process, driven by the SDKs
// that read through it (docs/SERVING.md §1): minio-go, aws-sdk-go-v2 (and
// its transfer manager), bce-sdk-go and qingstor-sdk-go. Each reads a key
// not yet stored (one origin request), a stored key (none), and a key the
// origin lacks: a GET hears the SDK's NoSuchKey, a HEAD its not-found.

// sdkCredentials are the keys of the signed rows: READER may only read.
const sdkCredentials = `{"READER": {"secret": "reader-secret", "access": "read"}}`

// bigObject is larger than -small-object's default (256 KiB): its miss
// streams, without an ETag unless the origin sends a Content-MD5.
const bigObject = 300 << 10

// sdkOrigin is the loopback origin of the matrix. Under /files/ a key
// ending in ".big" is bigObject bytes, one ending in ".bigmd5" the same
// with a Content-MD5, any other key a short text; a key holding "missing"
// is the origin's 404; one under "hold/" is answered after holdFor, so
// that the requests for it overlap. It counts its requests per path.
type sdkOrigin struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

const holdFor = 500 * time.Millisecond

func newSDKOrigin(t *testing.T) *sdkOrigin {
	o := &sdkOrigin{hits: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		o.mu.Unlock()
		key, ok := strings.CutPrefix(r.URL.Path, "/files/")
		if !ok || strings.Contains(key, "missing") {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(key, "hold/") {
			time.Sleep(holdFor)
		}
		body := originBody(key)
		if strings.HasSuffix(key, ".bigmd5") {
			sum := md5.Sum(body)
			w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		}
		if strings.HasSuffix(key, ".txt") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(o.Close)
	return o
}

// originBody is what the origin holds at key.
func originBody(key string) []byte {
	if strings.HasSuffix(key, ".big") || strings.HasSuffix(key, ".bigmd5") {
		b := make([]byte, 0, bigObject+len(key)+16)
		for i := 0; len(b) < bigObject; i++ {
			b = append(b, key...)
			b = strconv.AppendInt(append(b, ' '), int64(i), 10)
			b = append(b, '\n')
		}
		return b[:bigObject]
	}
	return []byte("origin bytes of " + key + "\n")
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// requests is how many requests for key the origin has had.
func (o *sdkOrigin) requests(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits["/files/"+key]
}

// startSDKGateway is `mirror serve` with bucket my-bucket mirroring the
// origin's /files/ (a public-read bucket: the origin is plain http and
// gets no credentials), READER's key in -credentials, and extra flags.
func startSDKGateway(t *testing.T, o *sdkOrigin, extra ...string) *gatewayProcess {
	t.Helper()
	rules := writeFile(t, "rules.json", `{"source_site":"`+o.URL+`/files"}`)
	creds := writeFile(t, "credentials.json", sdkCredentials)
	args := append([]string{"-data", t.TempDir(), "-bucket", "my-bucket=" + rules, "-allow-private-origins",
		"-credentials", creds}, extra...)
	p := startServe(t, args...)
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
			t.Logf("gateway stderr, the last lines:\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	})
	return p
}

// readResult is what one SDK call told of an object.
type readResult struct {
	body   []byte // a GET's bytes; nil for a HEAD
	size   int64  // the Content-Length the SDK reports (-1: not told)
	etag   string // without quotes; "" when the answer had none
	noETag bool   // the call does not expose the ETag at all
}

// sdkCalls is one SDK's GET and HEAD of a key of my-bucket, and what its
// not-found looks like for each.
type sdkCalls struct {
	get, head                 func(t *testing.T, key string) (readResult, error)
	getNotFound, headNotFound func(t *testing.T, err error)
}

// objectKinds are the objects of every row: a small miss is answered once
// stored, ETag and all; a big one streams, and has an ETag on its miss
// only when the origin sent a Content-MD5 (docs/SERVING.md §1).
var objectKinds = []struct {
	ext        string
	etagOnMiss bool
}{
	{".txt", true},
	{".big", false},
	{".bigmd5", true},
}

// exerciseObjectPath drives c through every case under prefix and returns
// the keys it left stored.
func exerciseObjectPath(t *testing.T, o *sdkOrigin, c sdkCalls, prefix string) (stored []string) {
	t.Helper()
	check := func(what, key string, r readResult, err error, hitsWant int, etagWant bool, isGet bool) {
		t.Helper()
		require.NoError(t, err, "%s %s", what, key)
		want := originBody(key)
		if isGet {
			assert.Equal(t, len(want), len(r.body), "%s %s: length", what, key)
			assert.True(t, string(want) == string(r.body), "%s %s: the origin's bytes", what, key)
		}
		if r.size >= 0 {
			assert.Equal(t, int64(len(want)), r.size, "%s %s: Content-Length", what, key)
		}
		if !r.noETag {
			if etagWant || r.etag != "" {
				// A streamed miss has none; a client that asked a HEAD
				// first (which waits for the commit) reads a hit.
				assert.Equal(t, md5Hex(want), r.etag, "%s %s: ETag", what, key)
			}
		}
		assert.Equal(t, hitsWant, o.requests(key), "%s %s: origin requests", what, key)
	}
	for _, kind := range objectKinds {
		// (a) a HEAD of a key not yet stored fetches it; the GET after it
		// joins that fetch or hits.
		key := prefix + "head-first" + kind.ext
		r, err := c.head(t, key)
		check("HEAD (miss)", key, r, err, 1, true, false) // it waits for the commit (-head-wait)
		r, err = c.get(t, key)
		check("GET after HEAD", key, r, err, 1, r.etag != "" || kind.etagOnMiss, true)

		// (a) a GET of a key not yet stored.
		key = prefix + "get-first" + kind.ext
		r, err = c.get(t, key)
		check("GET (miss)", key, r, err, 1, kind.etagOnMiss, true)
		// (b) the stored key: from the store, with its ETag, no origin.
		r, err = c.head(t, key)
		check("HEAD (stored)", key, r, err, 1, true, false)
		r, err = c.get(t, key)
		check("GET (stored)", key, r, err, 1, true, true)
		stored = append(stored, prefix+"head-first"+kind.ext, key)
	}
	// (c) a key the origin lacks.
	key := prefix + "missing.txt"
	_, err := c.get(t, key)
	require.Error(t, err, "GET %s", key)
	c.getNotFound(t, err)
	_, err = c.head(t, key)
	require.Error(t, err, "HEAD %s", key)
	c.headNotFound(t, err)
	assert.GreaterOrEqual(t, o.requests(key), 1, "the origin was asked")
	slices.Sort(stored)
	return stored
}

// listed is a listing's keys, sizes and ETags, to compare with stored.
type listed struct {
	key  string
	size int64
	etag string
}

func wantListing(keys []string) []listed {
	var l []listed
	for _, k := range keys {
		b := originBody(k)
		l = append(l, listed{k, int64(len(b)), md5Hex(b)})
	}
	return l
}

// checkListing lists until the stored keys are all there (a streamed
// miss may commit a moment after its last byte); an error fails at once.
func checkListing(t *testing.T, stored []string, list func() ([]listed, error)) {
	t.Helper()
	want := wantListing(stored)
	var got []listed
	deadline := time.Now().Add(3 * time.Second)
	for {
		var err error
		got, err = list()
		require.NoError(t, err, "listing")
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, want, got, "the listing holds exactly the stored keys, with their sizes and ETags")
}

// minio-go with its default options: no region (it asks the bucket's
// location first), the endpoint's own addressing, anonymous.
func TestSDKMatrixMinioGo(t *testing.T) {
	o := newSDKOrigin(t)
	p := startSDKGateway(t, o)
	c, err := minio.New(strings.TrimPrefix(p.url, "http://"), &minio.Options{
		Creds:      credentials.NewStaticV4("", "", ""),
		MaxRetries: 1, // fail fast
	})
	require.NoError(t, err)
	ctx := context.Background()
	dir := t.TempDir()
	notFound := func(t *testing.T, err error) {
		t.Helper()
		er := minio.ToErrorResponse(err)
		assert.Equal(t, "NoSuchKey", er.Code, "%v", err)
		assert.Equal(t, http.StatusNotFound, er.StatusCode)
		assert.NotEmpty(t, er.RequestID)
	}
	var stored []string
	t.Run("FGetObject+StatObject", func(t *testing.T) {
		stored = exerciseObjectPath(t, o, sdkCalls{
			get: func(t *testing.T, key string) (readResult, error) {
				file := filepath.Join(dir, strings.ReplaceAll(key, "/", "_"))
				if err := c.FGetObject(ctx, "my-bucket", key, file, minio.GetObjectOptions{}); err != nil {
					return readResult{}, err
				}
				b, err := os.ReadFile(file)
				return readResult{body: b, size: -1, noETag: true}, err
			},
			head: func(t *testing.T, key string) (readResult, error) {
				info, err := c.StatObject(ctx, "my-bucket", key, minio.StatObjectOptions{})
				return readResult{size: info.Size, etag: info.ETag}, err
			},
			getNotFound:  notFound, // FGetObject asks StatObject first
			headNotFound: notFound,
		}, "minio/")
	})
	t.Run("ListObjects", func(t *testing.T) {
		checkListing(t, stored, func() ([]listed, error) {
			var l []listed
			for obj := range c.ListObjects(ctx, "my-bucket", minio.ListObjectsOptions{Prefix: "minio/", Recursive: true}) {
				if obj.Err != nil {
					return nil, obj.Err
				}
				l = append(l, listed{obj.Key, obj.Size, strings.Trim(obj.ETag, `"`)})
			}
			return l, nil
		})
	})
	require.NoError(t, p.stop(t))
}

// aws-sdk-go-v2's S3 client, path-style, anonymous and signed with a key
// of -credentials; its GetObject, the transfer manager's DownloadObject
// and GetObject, HeadObject and ListObjectsV2.
func TestSDKMatrixAWS(t *testing.T) {
	o := newSDKOrigin(t)
	p := startSDKGateway(t, o)
	ctx := context.Background()
	for _, row := range []struct {
		name  string
		creds aws.CredentialsProvider
	}{
		{"anonymous", aws.AnonymousCredentials{}},
		{"signed", aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "READER", SecretAccessKey: "reader-secret"}, nil
		})},
	} {
		t.Run(row.name, func(t *testing.T) {
			client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), UsePathStyle: true,
				Credentials: row.creds, Retryer: aws.NopRetryer{}})
			tm := transfermanager.New(client)
			// By ranges of 64 KiB, three at a time: ranged GETs of a miss
			// while it is fetched.
			tmRanges := transfermanager.New(client, func(o *transfermanager.Options) {
				o.GetObjectType, o.PartSizeBytes, o.Concurrency = tmtypes.GetObjectRanges, 64<<10, 3
			})
			download := func(tm *transfermanager.Client) func(t *testing.T, key string) (readResult, error) {
				return func(t *testing.T, key string) (readResult, error) {
					f, err := os.Create(filepath.Join(t.TempDir(), "download"))
					require.NoError(t, err)
					defer f.Close()
					out, err := tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{
						Bucket: aws.String("my-bucket"), Key: aws.String(key), WriterAt: f})
					if err != nil {
						return readResult{}, err
					}
					b, err := os.ReadFile(f.Name())
					return readResult{body: b, size: aws.ToInt64(out.ContentLength), etag: strings.Trim(aws.ToString(out.ETag), `"`)}, err
				}
			}
			head := func(t *testing.T, key string) (readResult, error) {
				out, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("my-bucket"), Key: aws.String(key)})
				if err != nil {
					return readResult{}, err
				}
				return readResult{size: aws.ToInt64(out.ContentLength), etag: strings.Trim(aws.ToString(out.ETag), `"`)}, nil
			}
			noSuchKey := func(t *testing.T, err error) {
				t.Helper()
				var nsk *s3types.NoSuchKey
				assert.True(t, errors.As(err, &nsk), "a *types.NoSuchKey: %v", err)
				assertS3RequestID(t, err)
			}
			notFound := func(t *testing.T, err error) {
				t.Helper()
				var nf *s3types.NotFound
				assert.True(t, errors.As(err, &nf), "a *types.NotFound: %v", err)
				assertS3RequestID(t, err)
			}
			gets := []struct {
				name     string
				get      func(t *testing.T, key string) (readResult, error)
				notFound func(t *testing.T, err error)
			}{
				{"GetObject", func(t *testing.T, key string) (readResult, error) {
					out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("my-bucket"), Key: aws.String(key)})
					if err != nil {
						return readResult{}, err
					}
					defer out.Body.Close()
					b, err := io.ReadAll(out.Body)
					return readResult{body: b, size: aws.ToInt64(out.ContentLength), etag: strings.Trim(aws.ToString(out.ETag), `"`)}, err
				}, noSuchKey},
				{"transfermanager.DownloadObject", download(tm), noSuchKey},
				{"transfermanager.DownloadObject-ranges", download(tmRanges), noSuchKey},
				// The transfer manager's GetObject asks HeadObject first (for
				// the size of its parts): its not-found is the HEAD's.
				{"transfermanager.GetObject", func(t *testing.T, key string) (readResult, error) {
					out, err := tm.GetObject(ctx, &transfermanager.GetObjectInput{Bucket: aws.String("my-bucket"), Key: aws.String(key)})
					if err != nil {
						return readResult{}, err
					}
					b, err := io.ReadAll(out.Body)
					return readResult{body: b, size: aws.ToInt64(out.ContentLength), etag: strings.Trim(aws.ToString(out.ETag), `"`)}, err
				}, notFound},
			}
			var stored []string
			for _, g := range gets {
				t.Run(g.name, func(t *testing.T) {
					stored = append(stored, exerciseObjectPath(t, o, sdkCalls{get: g.get, head: head,
						getNotFound: g.notFound, headNotFound: notFound}, "aws-"+row.name+"/"+g.name+"/")...)
				})
			}
			slices.Sort(stored)
			t.Run("ListObjectsV2", func(t *testing.T) {
				checkListing(t, stored, func() ([]listed, error) {
					var l []listed
					pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("my-bucket"),
						Prefix: aws.String("aws-" + row.name + "/"), MaxKeys: aws.Int32(5)})
					for pages.HasMorePages() {
						page, err := pages.NextPage(ctx)
						if err != nil {
							return nil, err
						}
						for _, obj := range page.Contents {
							l = append(l, listed{aws.ToString(obj.Key), aws.ToInt64(obj.Size), strings.Trim(aws.ToString(obj.ETag), `"`)})
						}
					}
					return l, nil
				})
			})
		})
	}
	require.NoError(t, p.stop(t))
}

// assertS3RequestID checks that an S3 error carries the request id.
func assertS3RequestID(t *testing.T, err error) {
	t.Helper()
	var withID interface{ ServiceRequestID() string }
	if assert.True(t, errors.As(err, &withID), "%v", err) {
		assert.NotEmpty(t, withID.ServiceRequestID(), "x-amz-request-id")
	}
}

// bce-sdk-go: GetObjectMeta and GetObject, signed with READER's key.
func TestSDKMatrixBOS(t *testing.T) {
	o := newSDKOrigin(t)
	p := startSDKGateway(t, o)
	c := bosSDK(t, p.url, "READER", "reader-secret", http.DefaultClient)
	exerciseObjectPath(t, o, sdkCalls{
		get: func(t *testing.T, key string) (readResult, error) {
			out, err := c.GetObject("my-bucket", key, nil)
			if err != nil {
				return readResult{}, err
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			return readResult{body: b, size: out.ContentLength, etag: strings.Trim(out.ETag, `"`)}, err
		},
		head: func(t *testing.T, key string) (readResult, error) {
			out, err := c.GetObjectMeta("my-bucket", key)
			if err != nil {
				return readResult{}, err
			}
			return readResult{size: out.ContentLength, etag: strings.Trim(out.ETag, `"`)}, nil
		},
		getNotFound: func(t *testing.T, err error) {
			t.Helper()
			var se *bce.BceServiceError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, "NoSuchKey", se.Code)
			assert.Equal(t, http.StatusNotFound, se.StatusCode)
			assert.NotEmpty(t, se.RequestId)
		},
		headNotFound: func(t *testing.T, err error) {
			t.Helper()
			// A HEAD has no body: the SDK makes its code of the status.
			var se *bce.BceServiceError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, http.StatusNotFound, se.StatusCode)
			assert.Equal(t, "NotFound", se.Code)
			assert.NotEmpty(t, se.RequestId)
		},
	}, "bos/")
	require.NoError(t, p.stop(t))
}

// qsBucketAt is qingstor-sdk-go's my-bucket in zone pek3b of the gateway
// at base, with host as the SDK's host: requests go to pek3b.HOST:PORT.
// Its dialer takes HOST and every name under it to the gateway, and
// records the addresses the SDK asked for. ak "" makes an anonymous
// client (see qsSend).
func qsBucketAt(t *testing.T, base, host, ak, sk string, dialed *sync.Map) *qs.Bucket {
	conf, err := qsconfig.New(ak, sk)
	require.NoError(t, err)
	addr := strings.TrimPrefix(base, "http://")
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	conf.Host, conf.Protocol = host, "http"
	conf.Port, _ = strconv.Atoi(port)
	conf.Connection = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			h, _, err := net.SplitHostPort(a)
			if err != nil || (h != host && !strings.HasSuffix(h, "."+host)) {
				return nil, errors.New("the test dials only " + host + " and names under it, not " + a)
			}
			dialed.Store(a, true)
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}}
	svc, err := qs.Init(conf)
	require.NoError(t, err)
	b, err := svc.Bucket("my-bucket", "pek3b")
	require.NoError(t, err)
	return b
}

// qsSend sends a request the SDK built, as its own methods do; with no
// access key it is sent unsigned (the SDK's Send refuses a request without
// one, and has no anonymous mode of its own).
func qsSend(r *qsrequest.Request, anonymous bool) error {
	if !anonymous {
		return r.Send()
	}
	hr, err := (&builder.Builder{}).BuildHTTPRequest(r.Operation, r.Input)
	if err != nil {
		return err
	}
	r.HTTPRequest = hr
	return r.Do()
}

// qingstor-sdk-go: HeadObject and GetObject, signed and anonymous, with
// the request id (X-QS-Request-ID) read back from every answer and the
// ETag where the gateway promises one; through a gateway without -domain,
// and one with -domain localhost, where the SDK's host is localhost and
// its requests go to pek3b.localhost:PORT. Both gateways keep -errors at
// its default (s3): an unsigned request of the SDK, which sends no x-qs-
// header, must still be answered in QingStor's dialect.
func TestSDKMatrixQingStor(t *testing.T) {
	o := newSDKOrigin(t)
	plain := startSDKGateway(t, o)
	domain := startSDKGateway(t, o, "-domain", "localhost")
	for _, row := range []struct {
		name      string
		gw        *gatewayProcess
		host      string
		anonymous bool
	}{
		{"path-style/signed", plain, "gateway.test", false},
		{"path-style/anonymous", plain, "gateway.test", true},
		{"domain/signed", domain, "localhost", false},
		// Unsigned under -domain localhost, the Host pek3b.localhost must
		// not be taken for bucket "pek3b".
		{"domain/anonymous", domain, "localhost", true},
	} {
		t.Run(row.name, func(t *testing.T) {
			ak, sk := "READER", "reader-secret"
			if row.anonymous {
				ak, sk = "", ""
			}
			var dialed sync.Map
			b := qsBucketAt(t, row.gw.url, row.host, ak, sk, &dialed)
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(row.gw.url, "http://"))
			exerciseObjectPath(t, o, sdkCalls{
				get: func(t *testing.T, key string) (readResult, error) {
					r, out, err := b.GetObjectRequest(key, nil)
					require.NoError(t, err)
					if err := qsSend(r, row.anonymous); err != nil {
						return readResult{}, err
					}
					defer out.Body.Close()
					body, err := io.ReadAll(out.Body)
					assert.NotEmpty(t, r.HTTPResponse.Header.Get("X-QS-Request-ID"), "GET %s: X-QS-Request-ID", key)
					return readResult{body: body, size: aws.ToInt64(out.ContentLength), etag: strings.Trim(aws.ToString(out.ETag), `"`)}, err
				},
				head: func(t *testing.T, key string) (readResult, error) {
					r, out, err := b.HeadObjectRequest(key, nil)
					require.NoError(t, err)
					if err := qsSend(r, row.anonymous); err != nil {
						return readResult{}, err
					}
					assert.NotEmpty(t, r.HTTPResponse.Header.Get("X-QS-Request-ID"), "HEAD %s: X-QS-Request-ID", key)
					return readResult{size: aws.ToInt64(out.ContentLength), etag: strings.Trim(aws.ToString(out.ETag), `"`)}, nil
				},
				getNotFound: func(t *testing.T, err error) {
					t.Helper()
					var qe *qserrors.QingStorError
					require.True(t, errors.As(err, &qe), "%v", err)
					assert.Equal(t, "object_not_exists", qe.Code)
					assert.Equal(t, http.StatusNotFound, qe.StatusCode)
					assert.NotEmpty(t, qe.RequestID)
				},
				headNotFound: func(t *testing.T, err error) {
					t.Helper()
					// A HEAD has no body: the SDK's error has the status and
					// the request id, no code.
					var qe *qserrors.QingStorError
					require.True(t, errors.As(err, &qe), "%v", err)
					assert.Equal(t, http.StatusNotFound, qe.StatusCode)
					assert.NotEmpty(t, qe.RequestID)
				},
			}, "qs-"+strings.ReplaceAll(row.name, "/", "-")+"/")
			_, went := dialed.Load("pek3b." + row.host + ":" + port)
			assert.True(t, went, "the SDK put its zone before the host")
		})
	}
	require.NoError(t, plain.stop(t))
	require.NoError(t, domain.stop(t))
}

// A hundred HEADs and GETs at once of one key not yet stored: one origin
// request, every answer 200 with the object's length and bytes.
func TestSDKMatrixOneFetchForManyReaders(t *testing.T) {
	o := newSDKOrigin(t)
	p := startSDKGateway(t, o)
	const key = "hold/shared.big"
	want := originBody(key)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	defer client.CloseIdleConnections()
	type answer struct {
		method       string
		status       int
		length, body string
		err          error
	}
	answers := make([]answer, 100)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodHead
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a := &answers[i]
			a.method = method
			req, err := http.NewRequest(method, p.url+"/my-bucket/"+key, nil)
			if err != nil {
				a.err = err
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				a.err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			a.status, a.length, a.body, a.err = resp.StatusCode, resp.Header.Get("Content-Length"), string(b), err
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	assert.Less(t, time.Since(began), 10*time.Second)
	for i, a := range answers {
		require.NoError(t, a.err, "request %d (%s)", i, a.method)
		assert.Equal(t, http.StatusOK, a.status, "request %d (%s)", i, a.method)
		assert.Equal(t, strconv.Itoa(len(want)), a.length, "request %d (%s): Content-Length", i, a.method)
		if a.method == http.MethodGet {
			assert.True(t, a.body == string(want), "request %d: the origin's bytes (got %d bytes)", i, len(a.body))
		} else {
			assert.Empty(t, a.body, "request %d: a HEAD has no body", i)
		}
	}
	assert.Equal(t, 1, o.requests(key), "one origin request for all of them")
	require.NoError(t, p.stop(t))
}
