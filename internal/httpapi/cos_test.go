package httpapi

import (
	"encoding/xml"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// COS's dialect is COS's XML error, naming the Host and path, with the
// request id in x-cos-request-id, RequestId and TraceId.
func TestCOSDialect(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/?origin", nil)
	r.Host = "examplebucket-1250000000.cos.test"
	rp := COS.Start(rec, r)
	rp.Failf(NoSuchConfiguration, "none")
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/xml", rec.Header().Get("Content-Type"))
	var e COSError
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, COSError{XMLName: e.XMLName, Code: "OriginConfigurationNotFoundError", Message: "none",
		Resource: "examplebucket-1250000000.cos.test/", RequestID: rp.ID, TraceID: rp.ID}, e)
	assert.Equal(t, rp.ID, rec.Header().Get("X-Cos-Request-Id"))
	for f, want := range map[Failure]Answer{
		SignatureDoesNotMatch:  {403, "SignatureDoesNotMatch"},
		InvalidAccessKeyID:     {403, "InvalidAccessKeyId"},
		RequestExpired:         {403, "RequestTimeTooSkewed"},
		AccessDenied:           {403, "AccessDenied"},
		MalformedAuthorization: {400, "InvalidArgument"},
		MirrorFailed:           {424, "MirrorFailed"},
	} {
		assert.Equal(t, want, COS.Answer(f))
	}
}
