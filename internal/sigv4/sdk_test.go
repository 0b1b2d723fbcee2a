package sigv4

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	miniosigner "github.com/minio/minio-go/v7/pkg/signer"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Keys whose paths every encoder has an opinion on.
var hardKeys = []string{
	"a b.txt", "日本/語+x", "a%2Fb", "~user/x", "k?", "x=1&y=2", "plus+and space", "semi;colon,comma",
	"(paren)*star!'quote'", "percent%25twice", "emoji😀/ü", "trailing/", "a//b", "tab\there",
}

// Every key, path and virtual-host style, header-signed (UNSIGNED-PAYLOAD
// and the empty body's hash) and presigned, with a query of its own,
// verifies as aws-sdk-go-v2's signer signed it.
func TestAgreesWithTheSDKSigner(t *testing.T) {
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, key := range hardKeys {
		for _, style := range []struct{ host, path string }{
			{"gw.test:8080", "/bucket/" + key},
			{"bucket.gw.test", "/" + key},
		} {
			for _, method := range []string{"GET", "HEAD"} {
				r := clientRequest(t, method, style.host, style.path)
				r.URL.RawQuery = "response-content-type=text%2Fplain&versionId=&x-id=GetObject"
				r.Header.Set("Range", "bytes=0-  9")
				signHeader(t, r, unsignedPayload, at, testSK)
				ak, e := Verify(serverSide(t, r), secrets, at.Add(time.Minute))
				assert.Nil(t, e, "%s %s %s: %v", method, style.host, style.path, e)
				assert.Equal(t, testAK, ak)

				r = clientRequest(t, method, style.host, style.path)
				signHeader(t, r, emptySHA, at, testSK)
				_, e = Verify(serverSide(t, r), secrets, at.Add(-time.Minute))
				assert.Nil(t, e, "%s %s %s sha256: %v", method, style.host, style.path, e)

				r = clientRequest(t, method, style.host, style.path)
				r.URL.RawQuery = "response-content-disposition=attachment%3B%20filename%3D%22a%20b%22"
				u := presign(t, r, "3600", at)
				ak, e = Verify(received(t, method, u, nil), secrets, at.Add(59*time.Minute))
				assert.Nil(t, e, "%s presigned %s: %v", method, u, e)
				assert.Equal(t, testAK, ak)
			}
		}
	}
}

// The same with minio-go's signer, which the gateway's S3 store uses: it
// escapes paths with s3utils.EncodePath and signs them as they are.
func TestAgreesWithMinioGo(t *testing.T) {
	request := func(key string) *http.Request {
		r, err := http.NewRequest("GET", "http://gw.test:9000/", nil)
		require.NoError(t, err)
		r.URL.Path = "/bucket/" + key
		r.URL.RawPath = s3utils.EncodePath(r.URL.Path)
		return r
	}
	for _, key := range hardKeys {
		// The signer shares the request's URL and headers: a fresh
		// request each time.
		r := request(key)
		r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		signed := miniosigner.SignV4(*r, testAK, testSK, "", "cn-north-1")
		ak, e := Verify(serverSide(t, signed), secrets, time.Now())
		assert.Nil(t, e, "%s: %v", key, e)
		assert.Equal(t, testAK, ak)

		presigned := miniosigner.PreSignV4(*request(key), testAK, testSK, "", "cn-north-1", 600)
		_, e = Verify(received(t, "GET", presigned.URL.String(), nil), secrets, time.Now())
		assert.Nil(t, e, "%s presigned: %v", key, e)
	}
}

// aws-sdk-go-v2's S3 client itself, GetObject and HeadObject over the
// wire, path and virtual-host style, and its presign client, reach a
// server that verifies them.
func TestTheS3ClientEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got []*httpapi.Error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, e := Verify(r, secrets, time.Now())
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		w.Header().Set("Content-Length", "2")
		w.Header().Set("ETag", `"x"`)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	// Every host, gw.test or BUCKET.gw.test, reaches the server.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, pathStyle := range []bool{true, false} {
		client := s3.New(s3.Options{
			BaseEndpoint: aws.String("http://gw.test:" + port), UsePathStyle: pathStyle, Region: "ap-east-1",
			Credentials:      aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
			HTTPClient:       &http.Client{Transport: &http.Transport{DialContext: dial}},
			RetryMaxAttempts: 1,
		})
		for _, key := range hardKeys {
			_, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
			require.NoError(t, err)
			_, err = client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
			require.NoError(t, err)
			p, err := s3.NewPresignClient(client).PresignGetObject(context.Background(),
				&s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), ResponseContentType: aws.String("text/plain; a=b")},
				s3.WithPresignExpires(7*24*time.Hour))
			require.NoError(t, err)
			assert.Contains(t, p.URL, "X-Amz-Expires=604800")
			resp, err := (&http.Client{Transport: &http.Transport{DialContext: dial}}).Get(p.URL)
			require.NoError(t, err)
			resp.Body.Close()
		}
	}
	require.Len(t, got, 3*2*len(hardKeys))
	for i, e := range got {
		assert.Nil(t, e, "request %d: %v", i, e)
	}
}

// A presigned URL is good from X-Amz-Date less the skew until X-Amz-Date
// + X-Amz-Expires, inclusive, and no longer.
func TestPresignedWindow(t *testing.T) {
	u := presign(t, clientRequest(t, "GET", "gw.test", "/bucket/k"), "600", at)
	for _, c := range []struct {
		now  time.Time
		want httpapi.Failure
	}{
		{at.Add(-httpapi.MaxClockSkew), -1},
		{at.Add(-httpapi.MaxClockSkew - time.Second), httpapi.RequestExpired},
		{at.Add(600 * time.Second), -1},
		{at.Add(601 * time.Second), httpapi.RequestExpired},
	} {
		_, e := Verify(received(t, "GET", u, nil), secrets, c.now)
		assert.Equal(t, c.want, failure(e), "%s: %v", c.now, e)
	}
	// The longest a URL may live, and a second more.
	u = presign(t, clientRequest(t, "GET", "gw.test", "/bucket/k"), "604800", at)
	_, e := Verify(received(t, "GET", u, nil), secrets, at.Add(MaxExpires))
	assert.Nil(t, e)
	u = presign(t, clientRequest(t, "GET", "gw.test", "/bucket/k"), "604801", at)
	_, e = Verify(received(t, "GET", u, nil), secrets, at)
	assert.Equal(t, httpapi.MalformedAuthorization, failure(e))
	assert.True(t, strings.Contains(e.Message, "604800"))
}

// The header form's time may be 15 minutes either side of the gateway's.
func TestHeaderWindow(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want httpapi.Failure
	}{
		{at.Add(httpapi.MaxClockSkew), -1},
		{at.Add(-httpapi.MaxClockSkew), -1},
		{at.Add(httpapi.MaxClockSkew + time.Second), httpapi.RequestExpired},
		{at.Add(-httpapi.MaxClockSkew - time.Second), httpapi.RequestExpired},
	} {
		r := clientRequest(t, "GET", "gw.test", "/bucket/k")
		signHeader(t, r, unsignedPayload, at, testSK)
		_, e := Verify(serverSide(t, r), secrets, c.now)
		assert.Equal(t, c.want, failure(e), "%s: %v", c.now, e)
	}
}
