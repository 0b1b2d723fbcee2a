package sigtext

import (
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/stretchr/testify/assert"
)

func TestLexicalChecks(t *testing.T) {
	assert.True(t, HeaderName("x-amz-date"))
	for _, bad := range []string{"", "X-Amz-Date", "a b", "a:b", "é"} {
		assert.False(t, HeaderName(bad), bad)
	}
	assert.True(t, Hex64(strings.Repeat("0a", 32)))
	for _, bad := range []string{strings.Repeat("0A", 32), strings.Repeat("0", 63), strings.Repeat("g", 64)} {
		assert.False(t, Hex64(bad), bad)
	}
	for s, want := range map[string]bool{"1": true, "604800": true, "604801": false, "0": false, "": false, "+1": false, "1e3": false, "99999999": false} {
		_, ok := Expires(s, 7*24*time.Hour)
		assert.Equal(t, want, ok, s)
	}
}

// A header signature is good 15 minutes either side of its time; a
// presigned URL from 15 minutes before its time to its expiry, no later.
func TestWindow(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	skew := httpapi.MaxClockSkew
	for _, c := range []struct {
		presigned bool
		now       time.Time
		ok        bool
	}{
		{false, at.Add(-skew), true}, {false, at.Add(skew), true},
		{false, at.Add(-skew - time.Second), false}, {false, at.Add(skew + time.Second), false},
		{true, at.Add(-skew), true}, {true, at.Add(time.Hour), true},
		{true, at.Add(time.Hour + time.Second), false}, {true, at.Add(-skew - time.Second), false},
	} {
		e := Window(at, c.presigned, time.Hour, c.now)
		assert.Equal(t, c.ok, e == nil, "presigned %v at %v", c.presigned, c.now.Sub(at))
		if e != nil {
			assert.Equal(t, httpapi.RequestExpired, e.Failure)
		}
	}
}
