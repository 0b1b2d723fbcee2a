package pull

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Moved from s3store: the aws-chunked token names an upload's framing,
// never a coding of the stored bytes.
func TestStripAWSChunked(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"gzip":                   "gzip",
		"gzip,br":                "gzip,br", // untouched: verbatim
		"aws-chunked":            "",
		"AWS-Chunked":            "",
		"aws-chunked,gzip":       "gzip",
		"gzip, aws-chunked":      "gzip",
		"aws-chunked, gzip , br": "gzip, br",
		"aws-chunkedx":           "aws-chunkedx",
	} {
		assert.Equal(t, want, StripAWSChunked(in), "%q", in)
	}
}

// An origin that is an S3-compatible server may send the aws-chunked
// token back: it is never kept, so the miss and every store's hit carry
// the same Content-Encoding (issue 16).
func TestKeptHeadersDropAWSChunked(t *testing.T) {
	h := keptHeaders(http.Header{"Content-Encoding": {"gzip, aws-chunked"}})
	assert.Equal(t, "gzip", h.Get("Content-Encoding"))
	h = keptHeaders(http.Header{"Content-Encoding": {"aws-chunked"}})
	assert.Empty(t, h.Values("Content-Encoding"))
}
