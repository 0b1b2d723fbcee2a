package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mirror serve -cors stores a bucket's CORS rules at start: a page may
// then preflight and read a private bucket's objects, the rules read back
// through S3's and BOS's SDKs, and deleting them through one closes the
// door.
func TestServeWithCORS(t *testing.T) {
	origin, hits := countingOrigin(t)
	creds := writeFile(t, "credentials.json", `{"ADMIN": "admin-secret"}`)
	rules := writeFile(t, "rules.json", `{"rules":[{"mode":"fetch","sourceUrl":"`+origin.URL+`/site","resource":"*",
		"customHeaders":[{"headerName":"Authorization","headerValue":"Bearer origin-token"}]}]}`)
	cors := writeFile(t, "cors.xml", `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>
		<AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>`)
	p := startServe(t, "-data", t.TempDir(), "-credentials", creds, "-allow-private-origins",
		"-bucket", "priv-bucket="+rules, "-cors", "priv-bucket="+cors)

	preflight := func() *http.Response {
		req, err := http.NewRequest("OPTIONS", p.url+"/priv-bucket/a.txt", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization, x-amz-date")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := preflight()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "unsigned, of a private bucket")
	assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "authorization, x-amz-date", resp.Header.Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "60", resp.Header.Get("Access-Control-Max-Age"))

	req, err := http.NewRequest("GET", p.url+"/priv-bucket/a.txt", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the read itself must still be signed")
	assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "Origin", resp.Header.Get("Vary"))
	assert.Zero(t, hits.Load())

	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}, nil
		})})
	got, err := s3c.GetBucketCors(context.Background(), &s3.GetBucketCorsInput{Bucket: aws.String("priv-bucket")})
	require.NoError(t, err)
	require.Len(t, got.CORSRules, 1)
	assert.Equal(t, []string{"https://app.example.com"}, got.CORSRules[0].AllowedOrigins)
	assert.Equal(t, int32(60), *got.CORSRules[0].MaxAgeSeconds)

	bc := bosSDK(t, p.url, "ADMIN", "admin-secret", http.DefaultClient)
	bosRules, err := bc.GetBucketCors("priv-bucket")
	require.NoError(t, err)
	require.Len(t, bosRules.CorsConfiguration, 1)
	assert.Equal(t, []string{"*"}, bosRules.CorsConfiguration[0].AllowedHeaders)
	require.NoError(t, bc.DeleteBucketCors("priv-bucket"))
	assert.Equal(t, http.StatusForbidden, preflight().StatusCode, "no rules, no preflight")
	require.NoError(t, p.stop(t))
}

// A -cors file that is not valid stops the command, every problem named.
func TestServeRefusesABadCORSFile(t *testing.T) {
	bad := writeFile(t, "cors.json", `{"corsConfiguration":[{"allowedOrigins":["*.*"],"allowedMethods":["get"]}]}`)
	code, _, errOut := runCmd(t, "", "serve", "-data", t.TempDir(), "-listen", "127.0.0.1:0", "-cors", "bkt="+bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `corsConfiguration[0].allowedOrigins[0]: "*.*" has more than one *`)
	assert.Contains(t, errOut, `corsConfiguration[0].allowedMethods[0]: "get"`)
	code, _, errOut = runCmd(t, "", "serve", "-data", t.TempDir(), "-listen", "127.0.0.1:0", "-cors", "Bad_Bucket="+bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want NAME=FILE")
}
