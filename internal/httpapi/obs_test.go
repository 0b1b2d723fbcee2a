package httpapi

import (
	"encoding/xml"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OBS's dialect is OBS's XML error, with the id in x-obs-request-id, and
// OBS's codes where they differ from S3's.
func TestOBSDialect(t *testing.T) {
	rec := httptest.NewRecorder()
	rp := OBS.Start(rec, httptest.NewRequest("GET", "/b?mirrorBackToSource", nil))
	rp.Failf(NoSuchConfiguration, "the bucket has no mirror back-to-source rules")
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/xml", rec.Header().Get("Content-Type"))
	assert.Equal(t, rp.ID, rec.Header().Get("X-Obs-Request-Id"))
	var e OBSError
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, OBSError{XMLName: e.XMLName, Code: "NoSuchMirrorBackToSource",
		Message: "the bucket has no mirror back-to-source rules", Resource: "/b", RequestID: rp.ID}, e)
	assert.Contains(t, rec.Body.String(), "<HostId></HostId>")
	for f, want := range map[Failure]Answer{
		RequestExpired:         {403, "RequestTimeTooSkewed"},
		SignatureDoesNotMatch:  {403, "SignatureDoesNotMatch"},
		InvalidAccessKeyID:     {403, "InvalidAccessKeyId"},
		AccessDenied:           {403, "AccessDenied"},
		MalformedAuthorization: {400, "InvalidArgument"},
		BadDigest:              {400, "BadDigest"},
	} {
		assert.Equal(t, want, OBS.Answer(f), "failure %d", f)
	}
}
