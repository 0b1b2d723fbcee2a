package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/baidubce/bce-sdk-go/bce"
	bosapi "github.com/baidubce/bce-sdk-go/services/bos/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 16, finding 1: the object path had no authentication, and a rule
// naming a bos:// origin (or sending an origin credentials) made the
// private source public. Now a bucket whose rules do that is private
// unless its policy says public-read: an anonymous read gets 403 and
// reaches no origin; a read signed by each provider's SDK, with a key that
// may read the bucket, gets the object; a read-only key can not
// configure; a key scoped to one bucket can not read another.
func TestPrivateBucketsNeedASignedRead(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", `{"ADMIN": "admin-secret",
		"READER": {"secret": "reader-secret", "buckets": ["priv-*"], "access": "read"},
		"OTHER": {"secret": "other-secret", "buckets": ["other-*"]}}`)
	// The rules send the origin a token: the bucket is private by default.
	rules := writeFile(t, "rules.json", `{"rules":[{"mode":"fetch","sourceUrl":"`+origin.URL+`/site","resource":"*",
		"customHeaders":[{"headerName":"Authorization","headerValue":"Bearer origin-token"}]}]}`)
	p := startServe(t, "-data", t.TempDir(), "-credentials", creds, "-allow-private-origins",
		"-bucket", "priv-bucket="+rules, "-bucket", "open-bucket="+rules, "-acl", "open-bucket=public-read")

	code, _ := getBody(t, http.DefaultClient, p.url+"/priv-bucket/a.txt")
	assert.Equal(t, 403, code, "anonymous")
	resp, err := http.Head(p.url + "/priv-bucket/a.txt")
	require.NoError(t, err)
	assert.Equal(t, 403, resp.StatusCode, "anonymous HEAD")
	assert.Zero(t, hits.Load(), "no origin request")

	// aws-sdk-go-v2's S3 client.
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "READER", SecretAccessKey: "reader-secret"}, nil
		})})
	out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("priv-bucket"), Key: aws.String("dir/a b.txt")})
	require.NoError(t, err)
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	assert.Equal(t, "origin:/site/dir/a b.txt", string(b))

	// bce-sdk-go: GetObject and a presigned URL.
	bc := bosSDK(t, p.url, "READER", "reader-secret", http.DefaultClient)
	obj, err := bc.BasicGetObject("priv-bucket", "dir/a b.txt")
	require.NoError(t, err)
	b, _ = io.ReadAll(obj.Body)
	obj.Body.Close()
	assert.Equal(t, "origin:/site/dir/a b.txt", string(b))
	code, body := getBody(t, http.DefaultClient, bc.BasicGeneratePresignedUrl("priv-bucket", "c.txt", 600))
	assert.Equal(t, 200, code, body)
	assert.Equal(t, "origin:/site/c.txt", body)

	// qingstor-sdk-go.
	qo, err := qsSDK(t, p.url, "READER", "reader-secret", "priv-bucket", nil).GetObject("d.txt", nil)
	require.NoError(t, err)
	b, _ = io.ReadAll(qo.Body)
	qo.Body.Close()
	assert.Equal(t, "origin:/site/d.txt", string(b))

	// A read-only key can not configure.
	var se *bce.BceServiceError
	err = bosSDK(t, p.url, "READER", "reader-secret", http.DefaultClient).PutBucketMirror("priv-bucket",
		&bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
			Mode: "fetch", SourceUrl: "https://evil.example.org", Resource: "*"}}})
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, "AccessDenied", se.Code)
	// A key scoped to other buckets can not read this one, nor can a
	// wrong secret.
	_, err = bosSDK(t, p.url, "OTHER", "other-secret", http.DefaultClient).BasicGetObject("priv-bucket", "dir/a b.txt")
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, 403, se.StatusCode)
	_, err = bosSDK(t, p.url, "READER", "wrong", http.DefaultClient).BasicGetObject("priv-bucket", "dir/a b.txt")
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, 403, se.StatusCode)

	// -acl made the same rules public-read elsewhere.
	code, body = getBody(t, http.DefaultClient, p.url+"/open-bucket/e.txt")
	assert.Equal(t, 200, code)
	assert.Equal(t, "origin:/site/e.txt", body)

	// PUT ?acl with x-bce-acl, signed by a key that may configure, opens
	// the private bucket; its configuration is untouched.
	admin := bosSDK(t, p.url, "ADMIN", "admin-secret", http.DefaultClient)
	require.NoError(t, admin.PutBucketAclFromCanned("priv-bucket", "public-read"))
	code, body = getBody(t, http.DefaultClient, p.url+"/priv-bucket/a.txt")
	assert.Equal(t, 200, code, "public-read now")
	assert.Equal(t, "origin:/site/a.txt", body, "and its rules still in force")
	require.NoError(t, admin.PutBucketAclFromCanned("priv-bucket", "private"))
	code, _ = getBody(t, http.DefaultClient, p.url+"/priv-bucket/f.txt")
	assert.Equal(t, 403, code, "private again")
	require.NoError(t, p.stop(t))
}
