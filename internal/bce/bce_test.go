package bce

import (
	"maps"
	"testing"
	"time"

	bceauth "github.com/baidubce/bce-sdk-go/auth"
	bcehttp "github.com/baidubce/bce-sdk-go/http"
	"github.com/stretchr/testify/assert"
)

// The signature agrees with Baidu's own Go SDK signer.
func TestSignatureAgreesWithTheSDK(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		method, path string
		params       map[string]string
		headers      map[string]string
	}{
		{"GET", "/bucket/a b/ü+x~y", nil, map[string]string{"host": "bj.bcebos.com"}},
		{"PUT", "/my-bucket", map[string]string{"mirroring": ""}, map[string]string{"host": "127.0.0.1:8080",
			"content-type": "application/json", "content-length": "42", "x-bce-date": "2026-11-23T10:00:00Z"}},
		{"DELETE", "/b", map[string]string{"mirroring": "", "a b": "c/d"}, map[string]string{"host": "h", "content-md5": "  abc= "}},
	} {
		req := &bcehttp.Request{}
		req.SetMethod(tt.method)
		req.SetUri(tt.path)
		req.SetParams(tt.params)
		req.SetHeaders(maps.Clone(tt.headers)) // the SDK adds Authorization to the map
		sign := map[string]struct{}{}
		for k := range tt.headers {
			sign[k] = struct{}{}
		}
		cred, _ := bceauth.NewBceCredentials("AK", "SK")
		(&bceauth.BceV1Signer{}).Sign(req, cred, &bceauth.SignOptions{HeadersToSign: sign, Timestamp: ts.Unix(), ExpireSeconds: 300})

		prefix := Prefix("AK", ts, 300)
		canonical, signed := CanonicalHeaders(tt.headers)
		sig := Signature("SK", prefix, tt.method, URIEncode(tt.path, false), CanonicalQuery(tt.params), canonical)
		assert.Equal(t, req.Header("Authorization"), prefix+"/"+signed+"/"+sig, tt.path)
	}
}
