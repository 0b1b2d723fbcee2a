package sigv4

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
)

// Hostile requests are refused without a panic or a hang. Their cost is
// BenchmarkHostileInput's to show (each takes milliseconds): a timed test
// on a shared machine under -race only flakes, so the bound here is a hang
// guard, not a measure.
func TestHostileInput(t *testing.T) {
	for _, c := range hostileCases() {
		r := c.request(t)
		start := time.Now()
		_, e := Verify(r, secrets, at)
		assert.Less(t, time.Since(start), 30*time.Second, "%s: a hang", c.name)
		assert.Equal(t, c.want, failure(e), "%s: %v", c.name, e)
		if e != nil {
			assert.Less(t, len(e.Message), 200, c.name)
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

// hostileCase is a request built to cost a verifier much, and how it is
// refused.
type hostileCase struct {
	name, auth, query string
	want              httpapi.Failure
}

func (c hostileCase) request(t testing.TB) *http.Request {
	r := received(t, "GET", "http://gw.test/bucket/k", http.Header{
		"X-Amz-Date": {"20261123T100000Z"}, "X-Amz-Content-Sha256": {unsignedPayload},
	})
	if c.auth != "" {
		r.Header.Set("Authorization", c.auth)
	}
	r.URL.RawQuery = c.query
	return r
}

func hostileCases() []hostileCase {
	names := make([]string, 0, 100_002)
	for i := range 100_000 {
		names = append(names, fmt.Sprintf("a%07d", i))
	}
	names = append(names, "host", "x-amz-date")
	manyHeaders := Algorithm + " Credential=" + testAK + "/20261123/us-east-1/s3/aws4_request, SignedHeaders=" +
		strings.Join(names, ";") + ", Signature=" + strings.Repeat("0", 64)
	var manyParams, tooManyParams strings.Builder
	for i := range 9_000 {
		fmt.Fprintf(&manyParams, "p%d=%d&", 9_000-i, i)
	}
	for i := range 20_000 {
		fmt.Fprintf(&tooManyParams, "X-Amz-Signature=%d&", i)
	}
	presigned := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + testAK + "%2F20261123%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20261123T100000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + strings.Repeat("0", 64)
	return []hostileCase{
		{"100000 signed headers", manyHeaders, "", httpapi.SignatureDoesNotMatch},
		{"a megabyte of commas", Algorithm + " " + strings.Repeat(",", 1<<20), "", httpapi.MalformedAuthorization},
		{"a megabyte of slashes", Algorithm + " Credential=" + strings.Repeat("/", 1<<20) + ", SignedHeaders=host, Signature=x", "", httpapi.MalformedAuthorization},
		{"a megabyte of semicolons", Algorithm + " Credential=" + testAK + "/20261123/us-east-1/s3/aws4_request, SignedHeaders=" +
			strings.Repeat(";", 1<<20) + ", Signature=x", "", httpapi.MalformedAuthorization},
		{"9000 signed parameters", "", manyParams.String() + presigned, httpapi.SignatureDoesNotMatch},
		{"20000 parameters", "", tooManyParams.String(), httpapi.MalformedAuthorization},
		{"a megabyte of a parameter", "", strings.Repeat("%41", 1<<18) + "=1&" + presigned, httpapi.SignatureDoesNotMatch},
	}
}
