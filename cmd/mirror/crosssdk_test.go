package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/baidubce/bce-sdk-go/bce"
	bosapi "github.com/baidubce/bce-sdk-go/services/bos/api"
	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tencentyun/cos-go-sdk-v5"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos"
	"github.com/volcengine/ve-tos-golang-sdk/v2/tos/enum"
	qserrors "github.com/yunify/qingstor-sdk-go/v3/request/errors"
	qs "github.com/yunify/qingstor-sdk-go/v3/service"
)

// One configuration per bucket, every API (docs/SERVING.md §4.6), through
// `mirror serve` as a process: a configuration one provider's SDK put is
// read with every other provider's SDK, converted where that provider's
// format can say it, refused with that provider's own code where not.
// A converted document is put back through the reader's SDK, and the
// bucket then behaves exactly as before (an anonymous GET of each probe
// key: the same status, Location and body), so "converted" means "equal
// in meaning", not merely "parsed".
//
// The SDKs: aws-sdk-go-v2 (S3 PutBucketWebsite), bce-sdk-go (BOS
// PutBucketMirroring), qingstor-sdk-go (QingStor External Mirror),
// alibabacloud-oss-go-sdk-v2 (OSS PutBucketWebsite, signature V4; its
// clients from osssdk_test.go), huaweicloud-sdk-go-obs (OBS
// SetBucketMirrorBackToSource, its default "AWS" signature, path-style;
// obssdk_test.go), cos-go-sdk-v5 (COS PutBucketOrigin;
// cossdk_test.go) and ve-tos-golang-sdk (TOS PutBucketMirrorBack;
// tossdk_test.go). Every SDK names the one bucket crossBucket, COS's
// BUCKETNAME-APPID form.

// crossBucket is the bucket every SDK configures.
const crossBucket = "cross-1250000000"

// crossReaders are the SDKs, in the order each document is read.
var crossReaders = []string{"s3", "bos", "qingstor", "oss", "obs", "cos", "tos"}

// sameJSONText says whether two JSON texts hold the same value.
func sameJSONText(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// crossSDK is one provider's configuration calls through its own SDK.
// A document is the SDK's own type (what its put takes and its get
// returns).
type crossSDK struct {
	name string
	put  func(t *testing.T, doc any) error
	get  func(t *testing.T) (any, error)
	del  func(t *testing.T) error
	// code is an error's code and message, as the SDK reports them.
	code func(err error) (code, message string)
	// refusal is the code this API answers for a configuration its
	// format can not say (NotConvertible).
	refusal string
	// same says whether two documents are the same (nil: equal values).
	same func(a, b any) bool
}

// crossDoc is a configuration put through one SDK, with the keys whose
// answers show what it means, and which SDKs can not read it.
type crossDoc struct {
	name  string
	owner string
	doc   any
	keys  []string
	// refusedBy are the SDKs whose format can not say doc.
	refusedBy []string
}

// newSecond returns a function that waits, when needed, until the
// second after the last call's: BCE and QingStor signatures carry the
// time in seconds and no nonce, so two writes of one SDK in one second
// share a signature, and the gateway takes a signature once
// (docs/SERVING.md §4.3): the second write would be refused, or, with
// the same body, answered as done without being made.
func newSecond() func() {
	var last time.Time
	return func() {
		if d := time.Until(last.Truncate(time.Second).Add(time.Second)); d > 0 {
			time.Sleep(d)
		}
		last = time.Now()
	}
}

func crossSDKs(t *testing.T, base string) map[string]*crossSDK {
	ctx := context.Background()
	bosWrite, qsWrite, ossWrite, obsWrite := newSecond(), newSecond(), newSecond(), newSecond()
	cosWrite, tosWrite := newSecond(), newSecond()
	aws3 := websiteSDK(t, base, "ADMIN", "admin-secret", true, nil)
	bosc := bosSDK(t, base, "ADMIN", "admin-secret", http.DefaultClient)
	qsb := qsSDK(t, base, "ADMIN", "admin-secret", crossBucket, nil)
	ossc := ossSDK(t, base, "ADMIN", "admin-secret", oss.SignatureVersionV4, true, nil)
	obsc, obsReplies := obsSDK(t, base, false, "ADMIN", "admin-secret", nil)
	cosc := newCOSGateway(base, nil).signed(t, "ADMIN", "admin-secret", crossBucket)
	tosc := tosSDK(t, base, "", "ADMIN", "admin-secret", nil, nil)
	sdks := map[string]*crossSDK{
		"s3": {
			name: "S3 PutBucketWebsite", refusal: "InvalidRequest",
			put: func(t *testing.T, doc any) error {
				_, err := aws3.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String(crossBucket),
					WebsiteConfiguration: doc.(*s3types.WebsiteConfiguration)})
				return err
			},
			get: func(t *testing.T) (any, error) {
				out, err := aws3.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String(crossBucket)})
				if err != nil {
					return nil, err
				}
				return websiteOf(out), nil
			},
			del: func(t *testing.T) error {
				_, err := aws3.DeleteBucketWebsite(ctx, &s3.DeleteBucketWebsiteInput{Bucket: aws.String(crossBucket)})
				return err
			},
			code: func(err error) (string, string) {
				var ae smithy.APIError
				if errors.As(err, &ae) {
					return ae.ErrorCode(), ae.ErrorMessage()
				}
				return "not a service error", errString(err)
			},
		},
		"bos": {
			name: "BOS PutBucketMirroring", refusal: "InvalidRequest",
			put: func(t *testing.T, doc any) error {
				bosWrite()
				return bosc.PutBucketMirror(crossBucket, doc.(*bosapi.PutBucketMirrorArgs))
			},
			get: func(t *testing.T) (any, error) {
				out, err := bosc.GetBucketMirror(crossBucket)
				if err != nil {
					return nil, err
				}
				return &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: out.BucketMirroringConfiguration}, nil
			},
			del: func(t *testing.T) error { bosWrite(); return bosc.DeleteBucketMirror(crossBucket) },
			code: func(err error) (string, string) {
				var se *bce.BceServiceError
				if errors.As(err, &se) {
					return se.Code, se.Message
				}
				return "not a service error", errString(err)
			},
		},
		"qingstor": {
			name: "QingStor PUT Bucket External Mirror", refusal: "invalid_request",
			put: func(t *testing.T, doc any) error {
				qsWrite()
				_, err := qsb.PutExternalMirror(doc.(*qs.PutBucketExternalMirrorInput))
				return err
			},
			get: func(t *testing.T) (any, error) {
				out, err := qsb.GetExternalMirror()
				if err != nil {
					return nil, err
				}
				return &qs.PutBucketExternalMirrorInput{SourceSite: out.SourceSite}, nil
			},
			del: func(t *testing.T) error { qsWrite(); _, err := qsb.DeleteExternalMirror(); return err },
			code: func(err error) (string, string) {
				var qe *qserrors.QingStorError
				if errors.As(err, &qe) {
					return qe.Code, qe.Message
				}
				return "not a service error", errString(err)
			},
		},
		"oss": {
			name: "OSS PutBucketWebsite", refusal: "InvalidRequest",
			put: func(t *testing.T, doc any) error {
				ossWrite()
				_, err := ossc.PutBucketWebsite(ctx, &oss.PutBucketWebsiteRequest{Bucket: oss.Ptr(crossBucket),
					WebsiteConfiguration: doc.(*oss.WebsiteConfiguration)})
				return err
			},
			get: func(t *testing.T) (any, error) {
				out, err := ossc.GetBucketWebsite(ctx, &oss.GetBucketWebsiteRequest{Bucket: oss.Ptr(crossBucket)})
				if err != nil {
					return nil, err
				}
				return out.WebsiteConfiguration, nil
			},
			del: func(t *testing.T) error {
				ossWrite()
				_, err := ossc.DeleteBucketWebsite(ctx, &oss.DeleteBucketWebsiteRequest{Bucket: oss.Ptr(crossBucket)})
				return err
			},
			code: func(err error) (string, string) {
				var se *oss.ServiceError
				if errors.As(err, &se) {
					return se.Code, se.Message
				}
				return "not a service error", errString(err)
			},
		},
		"obs": {
			name: "OBS SetBucketMirrorBackToSource", refusal: "InvalidRequest",
			put: func(t *testing.T, doc any) error {
				obsWrite()
				_, err := obsc.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: crossBucket, Rules: doc.(string)})
				return err
			},
			get: func(t *testing.T) (any, error) {
				// The SDK reads the document but never hands it over
				// (obssdk_test.go): it is taken as the SDK received it.
				if _, err := obsc.GetBucketMirrorBackToSource(crossBucket); err != nil {
					return nil, err
				}
				return string(obsReplies.lastBody()), nil
			},
			del: func(t *testing.T) error {
				obsWrite()
				_, err := obsc.DeleteBucketMirrorBackToSource(crossBucket)
				return err
			},
			code: func(err error) (string, string) {
				var oe obs.ObsError
				if errors.As(err, &oe) {
					return oe.Code, oe.Message
				}
				return "not a service error", errString(err)
			},
			same: func(a, b any) bool { return sameJSONText(a.(string), b.(string)) },
		},
		"cos": {
			name: "COS PutBucketOrigin", refusal: "InvalidRequest",
			put: func(t *testing.T, doc any) error {
				cosWrite()
				_, err := cosc.Bucket.PutOrigin(ctx, doc.(*cos.BucketPutOriginOptions))
				return err
			},
			get: func(t *testing.T) (any, error) {
				out, _, err := cosc.Bucket.GetOrigin(ctx)
				if err != nil {
					return nil, err
				}
				return &cos.BucketPutOriginOptions{Rule: out.Rule}, nil
			},
			del: func(t *testing.T) error { cosWrite(); _, err := cosc.Bucket.DeleteOrigin(ctx); return err },
			code: func(err error) (string, string) {
				var ce *cos.ErrorResponse
				if errors.As(err, &ce) {
					return ce.Code, ce.Message
				}
				return "not a service error", errString(err)
			},
		},
		"tos": {
			name: "TOS PutBucketMirrorBack", refusal: "InvalidRequest",
			put: func(t *testing.T, doc any) error {
				tosWrite()
				_, err := tosc.PutBucketMirrorBack(ctx, &tos.PutBucketMirrorBackInput{Bucket: crossBucket, Rules: doc.([]tos.MirrorBackRule)})
				return err
			},
			get: func(t *testing.T) (any, error) {
				out, err := tosc.GetBucketMirrorBack(ctx, &tos.GetBucketMirrorBackInput{Bucket: crossBucket})
				if err != nil {
					return nil, err
				}
				return out.Rules, nil
			},
			del: func(t *testing.T) error {
				tosWrite()
				_, err := tosc.DeleteBucketMirrorBack(ctx, &tos.DeleteBucketMirrorBackInput{Bucket: crossBucket})
				return err
			},
			code: func(err error) (string, string) {
				var se *tos.TosServerError
				if errors.As(err, &se) {
					return se.Code, se.Message
				}
				return "not a service error", errString(err)
			},
		},
	}
	for _, sdk := range sdks {
		if sdk.same == nil {
			sdk.same = func(a, b any) bool { return reflect.DeepEqual(a, b) }
		}
	}
	return sdks
}

func crossDocs(originURL string) []crossDoc {
	host := strings.TrimPrefix(originURL, "http://")
	follow := true
	return []crossDoc{{
		name: "S3 routing rules replacing a prefix", owner: "s3",
		doc: &s3types.WebsiteConfiguration{RoutingRules: []s3types.RoutingRule{{
			Condition: &s3types.Condition{KeyPrefixEquals: aws.String("docs/"), HttpErrorCodeReturnedEquals: aws.String("404")},
			Redirect: &s3types.Redirect{Protocol: s3types.ProtocolHttp, HostName: aws.String(host),
				ReplaceKeyPrefixWith: aws.String("documents/"), HttpRedirectCode: aws.String("307")},
		}}},
		keys: []string{"docs/a.txt", "other/b.txt"},
		// BOS and QingStor have no redirect on a status, nor to a host of
		// the rule's own; OBS rules only fetch; COS can not replace a key
		// prefix; TOS redirects to its origins only. OSS says it (an
		// External rule).
		refusedBy: []string{"bos", "qingstor", "obs", "cos", "tos"},
	}, {
		name: "an S3 redirect on a miss", owner: "s3",
		doc: &s3types.WebsiteConfiguration{RoutingRules: []s3types.RoutingRule{{
			Condition: &s3types.Condition{KeyPrefixEquals: aws.String("docs/"), HttpErrorCodeReturnedEquals: aws.String("404")},
			Redirect:  &s3types.Redirect{Protocol: s3types.ProtocolHttp, HostName: aws.String(host), HttpRedirectCode: aws.String("302")},
		}}},
		keys: []string{"docs/a.txt", "other/b.txt"},
		// OSS and COS say it (an External rule, a Redirect rule).
		refusedBy: []string{"bos", "qingstor", "obs", "tos"},
	}, {
		name: "one BOS fetch rule for every key", owner: "bos",
		doc: &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
			Mode: "fetch", SourceUrl: originURL + "/bos", Resource: "*"}}},
		keys: []string{"docs/a.txt", "x/y.txt"},
		// S3's routing rules only redirect; a COS origin has no path; a
		// BOS rule says neither the methods OSS and TOS name nor the
		// failover TOS names.
		refusedBy: []string{"s3", "oss", "obs", "cos", "tos"},
	}, {
		name: "two BOS rules", owner: "bos",
		doc: &bosapi.PutBucketMirrorArgs{BucketMirroringConfiguration: []bosapi.MirrorConfigurationRule{{
			Mode: "fetch", SourceUrl: originURL + "/img", Resource: "img/*"}, {
			Mode: "fetch", SourceUrl: originURL + "/doc", Resource: "doc/*"}}},
		keys:      []string{"img/a.png", "doc/b.txt", "c.txt"},
		refusedBy: []string{"s3", "qingstor", "oss", "obs", "cos", "tos"},
	}, {
		name: "a QingStor source site", owner: "qingstor",
		doc:       &qs.PutBucketExternalMirrorInput{SourceSite: qs.String(originURL + "/qs")},
		keys:      []string{"docs/a.txt", "c.txt"},
		refusedBy: []string{"s3", "oss", "obs", "cos", "tos"},
	}, {
		name: "an OSS mirror rule", owner: "oss",
		doc:  ossMirrorSite(originURL + "/site/"),
		keys: []string{"m/a.txt", "n/b.txt"},
		// OSS dates a mirrored object from the fetch, which BOS,
		// QingStor, OBS and TOS rules do not say; S3 only redirects; a
		// COS origin has no path.
		refusedBy: []string{"s3", "bos", "qingstor", "obs", "cos", "tos"},
	}, {
		name: "an OBS mirror rule", owner: "obs",
		doc: `{"rules": [{"id": "site", "condition": {"httpErrorCodeReturnedEquals": 404, "objectKeyPrefixEquals": "m/"},` +
			` "redirect": {"agency": "mirror-agency", "publicSource": {"sourceEndpoint": {"master": ["` + originURL + `/obs"]}}}}]}`,
		keys: []string{"m/a.txt", "n/b.txt"},
		// OBS names when it fails over, which BOS, QingStor and OSS (with
		// one origin) do not say; S3 only redirects; COS has no method
		// conditions. TOS says it all.
		refusedBy: []string{"s3", "bos", "qingstor", "oss", "cos"},
	}, {
		name: "a COS mirror rule", owner: "cos",
		doc: &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{{
			RulePriority: 1, OriginType: "Mirror",
			OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: "m/"},
			OriginParameter: &cos.BucketOriginParameter{Protocol: "HTTP", FollowRedirection: &follow},
			OriginInfo:      &cos.BucketOriginInfo{HostInfo: &cos.BucketOriginHostInfo{HostName: host}},
		}}},
		keys: []string{"m/a.txt", "n/b.txt"},
		// The rule keeps the origin's metadata and dates the object from
		// the fetch, which BOS, QingStor and OBS rules do not say; it
		// answers every method, where OSS and TOS rules name GET and HEAD.
		refusedBy: []string{"s3", "bos", "qingstor", "oss", "obs", "tos"},
	}, {
		name: "a TOS mirror rule", owner: "tos",
		doc: []tos.MirrorBackRule{{
			ID:        "1",
			Condition: tos.Condition{HttpCode: 404, KeyPrefix: "m/"},
			Redirect: tos.Redirect{RedirectType: enum.RedirectTypeMirror, PassQuery: true,
				PublicSource: tos.PublicSource{SourceEndpoint: tos.SourceEndpoint{Primary: []string{originURL + "/site/"}}}},
		}},
		keys: []string{"m/a.txt", "n/b.txt"},
		// TOS picks among its primaries and names the methods and the
		// failover, which BOS, QingStor and COS rules do not say; OSS
		// tries its origins in order. OBS says it all.
		refusedBy: []string{"s3", "bos", "qingstor", "oss", "cos"},
	}}
}

// TestCrossSDK puts each document through its owner's SDK and reads it
// through every SDK. Converted: S3 to OSS and COS, BOS to QingStor,
// QingStor to BOS, OBS to TOS, TOS to OBS; every other pair is refused,
// naming the API that put the configuration.
func TestCrossSDK(t *testing.T) {
	origin, _ := countingOrigin(t)
	creds := writeFile(t, "credentials.json", gatewayCredentials)
	p := startServe(t, "-data", t.TempDir(), "-credentials", creds, "-allow-private-origins", "-acl", crossBucket+"=public-read",
		"-domain", "cos.test") // COS names the bucket in the Host only
	sdks := crossSDKs(t, p.url)
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	round := 0
	// behaviour is what an anonymous GET of each key answers, each key
	// new to the store (a suffix of its own per round, taken out again).
	behaviour := func(t *testing.T, keys []string) []string {
		t.Helper()
		round++
		suffix := "-r" + strconv.Itoa(round)
		strip := regexp.MustCompile(regexp.QuoteMeta(suffix) + `\b`)
		var out []string
		for _, k := range keys {
			dot := strings.LastIndexByte(k, '.')
			resp, err := noRedirects.Get(p.url + "/" + crossBucket + "/" + k[:dot] + suffix + k[dot:])
			require.NoError(t, err)
			var body []byte
			if resp.StatusCode == 200 {
				body, err = io.ReadAll(resp.Body)
				require.NoError(t, err)
			}
			resp.Body.Close()
			out = append(out, k+": "+strconv.Itoa(resp.StatusCode)+" "+strip.ReplaceAllString(resp.Header.Get("Location"), "")+
				" "+strip.ReplaceAllString(string(body), ""))
		}
		return out
	}
	for _, d := range crossDocs(origin.URL) {
		t.Run(d.name, func(t *testing.T) {
			owner := sdks[d.owner]
			require.NoError(t, owner.put(t, d.doc))
			want := behaviour(t, d.keys)
			t.Logf("put through %s: %q", owner.name, want)
			for _, readerName := range crossReaders {
				reader := sdks[readerName]
				got, err := reader.get(t)
				refused := slices.Contains(d.refusedBy, readerName)
				if refused {
					code, message := reader.code(err)
					assert.Equal(t, reader.refusal, code, "%s reads it: %v", readerName, err)
					assert.Contains(t, message, "put through "+owner.name, "%s names the owner", readerName)
					continue
				}
				require.NoError(t, err, "%s reads it", readerName)
				if readerName == d.owner {
					assert.True(t, owner.same(d.doc, got), "the owner reads it back as put: %#v", got)
					continue
				}
				// Put back through the reader, the rules mean the same.
				require.NoError(t, reader.put(t, got), "%s puts back what it read", readerName)
				assert.Equal(t, want, behaviour(t, d.keys), "put back through %s, the bucket behaves the same", readerName)
				// And the owner reads them back: its own document, or,
				// where the reader's format drops what has no effect here
				// (an OBS agency, a TOS rule ID), one that means the same.
				back, err := owner.get(t)
				require.NoError(t, err, "%s reads what %s put", d.owner, readerName)
				if !owner.same(d.doc, back) {
					t.Logf("%s reads back, through %s: %#v", d.owner, readerName, back)
					require.NoError(t, owner.put(t, back))
					assert.Equal(t, want, behaviour(t, d.keys), "%s's reading of %s's document means the same", d.owner, readerName)
				}
				require.NoError(t, owner.put(t, d.doc))
			}
			require.NoError(t, sdks[d.owner].del(t))
		})
	}
	require.NoError(t, p.stop(t))
}
