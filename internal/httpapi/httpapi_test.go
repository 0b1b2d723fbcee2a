package httpapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every dialect's table names every failure: a failure added without a
// row would otherwise answer 0 with no code.
func TestEveryTableNamesEveryFailure(t *testing.T) {
	for _, d := range []*Dialect{Gateway, OSS, BOS, QingStor, S3, TOS, COS, OBS, S3Website} {
		for f := Failure(0); f < numFailures; f++ {
			a := d.Answer(f)
			assert.GreaterOrEqual(t, a.Status, 400, "%s failure %d", d.Name, f)
			assert.NotEmpty(t, a.Code, "%s failure %d", d.Name, f)
		}
	}
}

// One request id form on every API: 16 hex digits.
func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{16}$`), id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

func TestReplies(t *testing.T) {
	for _, c := range []struct {
		d              *Dialect
		method         string
		status         int
		code, idHeader string
		newline        bool
	}{
		{Gateway, "GET", 503, "SlowDown", "X-Request-Id", true},
		{BOS, "PUT", 503, "SlowDown", "X-Bce-Request-Id", false},
		{QingStor, "GET", 401, "signature_not_matched", "X-QS-Request-ID", false},
		{Gateway, "HEAD", 503, "SlowDown", "X-Request-Id", false},
	} {
		f := SlowDown
		if c.d == QingStor {
			f = SignatureDoesNotMatch
		}
		rec := httptest.NewRecorder()
		rp := c.d.Start(rec, httptest.NewRequest(c.method, "/b/k", nil))
		rp.Failf(f, "try later")
		assert.Equal(t, c.status, rec.Code)
		id := rec.Header().Get(c.idHeader)
		assert.Equal(t, rp.ID, id)
		assert.Equal(t, c.d.ContentType, rec.Header().Get("Content-Type"))
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		if c.method == http.MethodHead {
			assert.Empty(t, rec.Body.String())
			continue
		}
		var body struct {
			Code, Message string
			RequestID     string `json:"requestId"`
			RequestID2    string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.Equal(t, c.code, body.Code)
		assert.Equal(t, "try later", body.Message)
		assert.Equal(t, id, body.RequestID+body.RequestID2)
		assert.Equal(t, c.newline, rec.Body.Bytes()[rec.Body.Len()-1] == '\n')
		assert.Equal(t, rec.Header().Get("Content-Length"), itoa(rec.Body.Len()))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestRoute(t *testing.T) {
	for _, c := range []struct {
		domain, host, path string
		bucket, key        string
	}{
		{"", "gw:8080", "/b/k/x", "b", "k/x"},
		{"", "gw", "/b", "b", ""},
		{"", "gw", "/b/", "b", ""},
		{"", "b.mirror.test", "/k", "k", ""},
		{"mirror.test", "B.Mirror.Test:8080", "/k/x", "b", "k/x"},
		{"mirror.test", "mirror.test", "/b/k", "b", "k"},
		{"mirror.test", "b.mirror.test", "/", "b", ""},
		{"mirror.test", "other.example", "/b/a%2Fb", "b", "a/b"},
	} {
		r := httptest.NewRequest("GET", "http://"+c.host+c.path, nil)
		b, k := Router{Domain: c.domain}.Route(r)
		assert.Equal(t, c.bucket, b, "%+v", c)
		assert.Equal(t, c.key, k, "%+v", c)
	}
}

// S3's dialect is S3's XML, naming the resource.
func TestS3Dialect(t *testing.T) {
	rec := httptest.NewRecorder()
	rp := S3.Start(rec, httptest.NewRequest("GET", "/b/k%20x", nil))
	rp.Failf(NoSuchKey, "no such object")
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/xml", rec.Header().Get("Content-Type"))
	var e S3Error
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, S3Error{XMLName: e.XMLName, Code: "NoSuchKey", Message: "no such object", Resource: "/b/k x", RequestID: rp.ID}, e)
	assert.Equal(t, rp.ID, rec.Header().Get("X-Amz-Request-Id"))
	assert.Equal(t, 503, S3.Answer(MirrorFailed).Status, "S3 SDKs retry it")
}
