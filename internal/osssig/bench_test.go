package osssig

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
)

// BenchmarkVerify measures one verification of each form, accepted.
func BenchmarkVerify(b *testing.B) {
	v4q, v4At := presigned(b, oss.SignatureVersionV4, true, "a b.txt")
	for _, c := range []struct {
		name string
		r    *http.Request
		now  time.Time
	}{
		{"v1-header", websitePut(b, &signer.SignerV1{}, at), at},
		{"v4-header", websitePut(b, &signer.SignerV4{}, at), at},
		{"v1-query", objectGet(b, &signer.SignerV1{}, "a b.txt", at.Add(time.Hour), true), at},
		{"v4-query", v4q, v4At},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, e := Verify(c.r, secrets, c.now); e != nil {
				b.Fatal(e)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Verify(c.r, secrets, c.now)
			}
		})
	}
}

// hostileCase is a request built to cost a verifier much, and how it is
// refused.
type hostileCase struct {
	name, auth, query string
	header            http.Header
	want              httpapi.Failure
}

func hostileCases() []hostileCase {
	names := make([]string, 100_000)
	for i := range names {
		names[i] = fmt.Sprintf("a%07d", i)
	}
	many := http.Header{"X-Oss-Date": {"20261123T100000Z"}, "X-Oss-Content-Sha256": {unsignedPayload}}
	for i := range 1000 {
		many.Set(fmt.Sprintf("X-Oss-Meta-%d", i), strings.Repeat("v", 100))
	}
	var params strings.Builder
	for i := range 9000 {
		fmt.Fprintf(&params, "p%d=%d&", 9000-i, i)
	}
	scope := "Credential=" + testAK + "/20261123/cn-hangzhou/oss/aliyun_v4_request"
	return []hostileCase{
		{"100000 additional headers", AlgorithmV4 + " " + scope + ",AdditionalHeaders=" + strings.Join(names, ";") + ",Signature=00", "website", many, httpapi.SignatureDoesNotMatch},
		{"a megabyte of commas", AlgorithmV4 + " " + strings.Repeat(",", 1<<20), "website", many, httpapi.MalformedAuthorization},
		{"a megabyte of slashes", AlgorithmV4 + " Credential=" + strings.Repeat("/", 1<<20) + ",Signature=00", "website", many, httpapi.MalformedAuthorization},
		{"a megabyte of colons", "OSS " + testAK + ":" + strings.Repeat(":", 1<<20), "website", http.Header{"Date": {at.Format(http.TimeFormat)}}, httpapi.SignatureDoesNotMatch},
		{"9000 signed parameters", AlgorithmV4 + " " + scope + ",Signature=00", params.String() + "website", many, httpapi.SignatureDoesNotMatch},
		{"9000 parameters, V1", "OSS " + testAK + ":x", params.String() + "website", http.Header{"Date": {at.Format(http.TimeFormat)}}, httpapi.SignatureDoesNotMatch},
		{"20000 parameters", "", strings.Repeat("x-oss-signature=1&", 20000), nil, httpapi.MalformedAuthorization},
	}
}

func (c hostileCase) request(t testing.TB) *http.Request {
	r := signedAt(t, &signer.SignerV1{}, "GET", "http://gw.test/bucket/k", "bucket", "k", nil, at, false)
	r.Header = c.header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if c.auth != "" {
		r.Header.Set("Authorization", c.auth)
	}
	r.URL.RawQuery = c.query
	return r
}

// Hostile requests are refused without a panic or a hang; what each
// costs is BenchmarkHostileInput's to show.
func TestHostileInput(t *testing.T) {
	for _, c := range hostileCases() {
		r := c.request(t)
		start := time.Now()
		_, e := Verify(r, secrets, at)
		assert.Less(t, time.Since(start), 30*time.Second, "%s: a hang", c.name)
		assert.Equal(t, c.want, failure(e), "%s: %v", c.name, e)
		if e != nil {
			assert.Less(t, len(e.Message), 300, c.name)
		}
	}
}

// BenchmarkHostileInput measures what refusing each hostile request costs.
func BenchmarkHostileInput(b *testing.B) {
	for _, c := range hostileCases() {
		b.Run(strings.ReplaceAll(c.name, " ", "-"), func(b *testing.B) {
			r := c.request(b)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Verify(r, secrets, at)
			}
		})
	}
}
