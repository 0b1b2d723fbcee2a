package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TOS's dialect is flat JSON with TOS's member names, the id in
// X-Tos-Request-Id and the Host as HostId, as ve-tos-golang-sdk reads
// them.
func TestTOSDialect(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "http://b.gw.test:8080/?mirror", nil)
	rp := TOS.Start(rec, r)
	rp.Failf(NoSuchConfiguration, "the bucket has no mirror configuration")
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, rp.ID, rec.Header().Get("X-Tos-Request-Id"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, map[string]string{"Code": "NoSuchMirrorConfiguration", "Message": "the bucket has no mirror configuration",
		"RequestId": rp.ID, "HostId": "b.gw.test:8080"}, body)
	for f, want := range map[Failure]Answer{
		RequestExpired:        {403, "RequestTimeTooSkewed"},
		SignatureDoesNotMatch: {403, "SignatureDoesNotMatch"},
		InvalidAccessKeyID:    {403, "InvalidAccessKeyId"},
		AccessDenied:          {403, "AccessDenied"},
		MalformedJSON:         {400, "MalformedBody"},
		SlowDown:              {429, "TooManyRequests"},
	} {
		assert.Equal(t, want, TOS.Answer(f), "failure %d", f)
	}
}
