package mirror

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	ossv2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"
	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// The bodies the providers' own Go SDKs send, captured by a loopback
// server and fed to the importers.

// captureBody starts a server that keeps the body of the first PUT and
// answers 200.
func captureBody(t *testing.T) (string, func() []byte) {
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.Method == http.MethodPut && body == nil {
			body = b
		}
		mu.Unlock()
		w.Header().Set("x-oss-request-id", "1")
		w.Header().Set("x-cos-request-id", "1")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []byte {
		mu.Lock()
		defer mu.Unlock()
		require.NotNil(t, body, "the SDK sent no PUT")
		return body
	}
}

func TestImportOSSFromSDK(t *testing.T) {
	endpoint, body := captureBody(t)
	cfg := ossv2.NewConfig().WithRegion("cn-hangzhou").WithEndpoint(endpoint).WithUsePathStyle(true).
		WithCredentialsProvider(osscred.NewStaticCredentialsProvider("ak", "sk"))
	client := ossv2.NewClient(cfg)
	_, err := client.PutBucketWebsite(context.Background(), &ossv2.PutBucketWebsiteRequest{
		Bucket: ossv2.Ptr("bucket"),
		WebsiteConfiguration: &ossv2.WebsiteConfiguration{
			IndexDocument: &ossv2.IndexDocument{Suffix: ossv2.Ptr("index.html")},
			RoutingRules: &ossv2.RoutingRules{RoutingRules: []ossv2.RoutingRule{
				{
					RuleNumber: ossv2.Ptr(int64(2)),
					Condition:  &ossv2.RoutingRuleCondition{KeyPrefixEquals: ossv2.Ptr("abc/"), HttpErrorCodeReturnedEquals: ossv2.Ptr(int64(404))},
					Redirect: &ossv2.RoutingRuleRedirect{
						RedirectType: ossv2.Ptr("Mirror"), MirrorURL: ossv2.Ptr("https://origin.example.com/"),
						MirrorURLSlave: ossv2.Ptr("https://backup.example.com/"), MirrorSwitchAllErrors: ossv2.Ptr(false),
						EnableReplacePrefix: ossv2.Ptr(true), ReplaceKeyPrefixWith: ossv2.Ptr("def/"),
						MirrorPassQueryString: ossv2.Ptr(true), MirrorFollowRedirect: ossv2.Ptr(false),
						MirrorHeaders: &ossv2.MirrorHeaders{Passes: []string{"x-a"}, Sets: []ossv2.MirrorHeadersSet{{Key: ossv2.Ptr("x-b"), Value: ossv2.Ptr("1")}}},
					},
				},
				{
					RuleNumber: ossv2.Ptr(int64(1)),
					Condition:  &ossv2.RoutingRuleCondition{KeySuffixEquals: ossv2.Ptr(".png"), HttpErrorCodeReturnedEquals: ossv2.Ptr(int64(403))},
					Redirect: &ossv2.RoutingRuleRedirect{RedirectType: ossv2.Ptr("External"), HostName: ossv2.Ptr("img.example.com"),
						Protocol: ossv2.Ptr("https"), ReplaceKeyWith: ossv2.Ptr("x/${key}")},
				},
			}},
		},
	})
	require.NoError(t, err)
	out, err := importOSS(body())
	require.NoError(t, err, string(body()))
	assertSameJSON(t, []byte(`{"rules":[
	 {"mode":"redirect","match":{"suffix":".png"},"on":[403],"rewrite":{"key":"x/${key}"},
	  "redirect":{"host":"img.example.com","scheme":"https","code":301},"passQuerystring":false},
	 {"mode":"fetch","match":{"prefix":"abc/","methods":["GET"]},"on":"miss",
	  "sourceUrls":["https://origin.example.com/"],"backSourceUrls":["https://backup.example.com/"],"failoverOn":["5xx","timeout"],
	  "rewrite":{"replacePrefix":{"from":"abc/","to":"def/","join":"concat"}},"passQuerystring":true,
	  "passHeaders":["x-a"],"customHeaders":[{"headerName":"x-b","headerValue":"1"}],
	  "fetch":{"followRedirects":0,"checkMd5":false,"store":true,"saveMeta":false,"lastModified":"fetched"}}]}`), out)
}

func TestImportS3FromSDK(t *testing.T) {
	endpoint, body := captureBody(t)
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "ak", SecretAccessKey: "sk"}, nil
		}),
	})
	_, err := client.PutBucketWebsite(context.Background(), &s3.PutBucketWebsiteInput{
		Bucket: aws.String("bucket"),
		WebsiteConfiguration: &s3types.WebsiteConfiguration{
			IndexDocument: &s3types.IndexDocument{Suffix: aws.String("index.html")},
			ErrorDocument: &s3types.ErrorDocument{Key: aws.String("error.html")},
			RoutingRules: []s3types.RoutingRule{
				{Condition: &s3types.Condition{KeyPrefixEquals: aws.String("docs/")},
					Redirect: &s3types.Redirect{ReplaceKeyPrefixWith: aws.String("documents/")}},
				{Condition: &s3types.Condition{HttpErrorCodeReturnedEquals: aws.String("404")},
					Redirect: &s3types.Redirect{HostName: aws.String("ec2-11-22-333-44.compute-1.amazonaws.com"),
						Protocol: s3types.ProtocolHttps, HttpRedirectCode: aws.String("307"), ReplaceKeyWith: aws.String("404.html")}},
			},
		},
	})
	require.NoError(t, err)
	out, err := importS3(body())
	require.NoError(t, err, string(body()))
	assertSameJSON(t, []byte(`{"rules":[
	 {"mode":"redirect","match":{"prefix":"docs/"},"on":"always",
	  "rewrite":{"replacePrefix":{"from":"docs/","to":"documents/","join":"concat"}},"redirect":{"code":301},"passQuerystring":false},
	 {"mode":"redirect","resource":"*","on":[404],"rewrite":{"key":"404.html"},
	  "redirect":{"host":"ec2-11-22-333-44.compute-1.amazonaws.com","scheme":"https","code":307},"passQuerystring":false}]}`), out)
}

func TestImportCOSFromSDK(t *testing.T) {
	endpoint, body := captureBody(t)
	u, err := url.Parse(endpoint)
	require.NoError(t, err)
	client := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{})
	follow := false
	_, err = client.Bucket.PutOrigin(context.Background(), &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{{
		RulePriority:    1,
		OriginType:      "Mirror",
		OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: "img/"},
		OriginParameter: &cos.BucketOriginParameter{
			Protocol: "HTTPS", FollowRedirection: &follow,
			HttpHeader: &cos.BucketOriginHttpHeader{
				NewHttpHeaders:      []cos.OriginHttpHeader{{Key: "x-cos-meta-a", Value: "1"}},
				ForbidFollowHeaders: []cos.OriginHttpHeader{{Key: "Cookie"}},
			},
		},
		OriginInfo: &cos.BucketOriginInfo{
			HostInfo: &cos.BucketOriginHostInfo{HostName: "origin.example.com", Weight: 5,
				StandbyHostName_N: []string{"standby1.example.com", "standby2.example.com"}},
			FileInfo: &cos.BucketOriginFileInfo{PrefixConfiguration: &cos.OriginPrefixConfiguration{Prefix: "mirror/"}},
		},
	}}})
	require.NoError(t, err)
	out, err := importCOS(body())
	require.NoError(t, err, string(body()))
	assertSameJSON(t, []byte(`{"rules":[
	 {"mode":"fetch","match":{"prefix":"img/"},"on":"miss","sourceUrls":["https://origin.example.com"],
	  "backSourceUrls":["https://standby1.example.com","https://standby2.example.com"],"failoverOn":["5xx"],
	  "rewrite":{"addPrefix":"mirror/"},"passQuerystring":true,"ignoreHeaders":["Cookie"],
	  "customHeaders":[{"headerName":"x-cos-meta-a","headerValue":"1"}],
	  "fetch":{"followRedirects":0,"checkMd5":false,"store":true,"saveMeta":true,"lastModified":"fetched"}}]}`), out)
}
