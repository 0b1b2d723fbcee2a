package access

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Moved from configapi/api_test.go with Credentials.
// Credentials fail closed: a scoped key's misspelt or empty scope is
// refused, never read as "every bucket".
func TestParseCredentials(t *testing.T) {
	for _, c := range []struct {
		name, file string
		allowed    map[string]bool // bucket: may key T configure it
		err        string          // what the refusal says, besides the key id
	}{
		{"plain secret", `{"T": "s"}`, map[string]bool{"any-bucket": true}, ""},
		{"scoped", `{"T": {"secret": "s", "buckets": ["tenant-a-*", "shared"]}}`,
			map[string]bool{"tenant-a-x": true, "shared": true, "tenant-b-x": false, "other-bucket": false}, ""},
		{"no scope member: every bucket", `{"T": {"secret": "s"}}`, map[string]bool{"any-bucket": true}, ""},
		{"empty scope", `{"T": {"secret": "s", "buckets": []}}`, nil, "non-empty list"},
		{"null scope", `{"T": {"secret": "s", "buckets": null}}`, nil, "non-empty list"},
		{"scope not a list", `{"T": {"secret": "s", "buckets": "tenant-a-*"}}`, nil, "non-empty list"},
		{"misspelt scope", `{"T": {"secret": "s", "bucket": ["tenant-a-*"]}}`, nil, `unknown field "bucket"`},
		{"unknown member", `{"T": {"secret": "s", "buckets": ["a-*"], "admin": true}}`, nil, `unknown field "admin"`},
		{"bad glob", `{"T": {"secret": "s", "buckets": ["tenant-["]}}`, nil, "bad bucket glob"},
		{"empty glob", `{"T": {"secret": "s", "buckets": [""]}}`, nil, "bad bucket glob"},
		{"no secret", `{"T": {"buckets": ["a-*"]}}`, nil, "no secret"},
		{"empty secret", `{"T": ""}`, nil, "no secret"},
		{"secret not a string", `{"T": {"secret": 5}}`, nil, "want a secret"},
		{"neither", `{"T": 5}`, nil, "want a secret"},
		{"bad access", `{"T": {"secret": "s", "access": "write"}}`, nil, `"access" must be "read" or "configure"`},
		{"access not a string", `{"T": {"secret": "s", "access": 1}}`, nil, "want a secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			creds, err := ParseCredentials([]byte(c.file))
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `key "T"`)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			for bucket, want := range c.allowed {
				assert.Equal(t, want, creds.MayConfigure("T", bucket), bucket)
				assert.Equal(t, want, creds.MayRead("T", bucket), bucket)
			}
		})
	}
	_, err := ParseCredentials([]byte(`["T"]`))
	assert.Error(t, err)
}

// A read key reads and does not configure; a configure key does both,
// each within its scope; an unknown key does neither.
func TestAccessLevels(t *testing.T) {
	creds, err := ParseCredentials([]byte(`{"R": {"secret": "r", "buckets": ["a-*"], "access": "read"},
		"C": {"secret": "c", "buckets": ["a-*"], "access": "configure"}, "P": "p"}`))
	require.NoError(t, err)
	for _, c := range []struct {
		key, bucket        string
		read, mayConfigure bool
	}{
		{"R", "a-1", true, false}, {"R", "b-1", false, false},
		{"C", "a-1", true, true}, {"C", "b-1", false, false},
		{"P", "b-1", true, true}, {"X", "a-1", false, false},
	} {
		assert.Equal(t, c.read, creds.MayRead(c.key, c.bucket), "%+v", c)
		assert.Equal(t, c.mayConfigure, creds.MayConfigure(c.key, c.bucket), "%+v", c)
	}
	var none *Credentials
	assert.False(t, none.MayRead("R", "a-1"))
	assert.True(t, none.Empty())
}

// Replace puts another file's keys in force in the Credentials handlers
// hold: the old keys are gone at once, the new ones known, and an empty
// set refuses every key.
func TestReplaceSwapsTheKeys(t *testing.T) {
	c, err := ParseCredentials([]byte(`{"OLD": "old-secret"}`))
	require.NoError(t, err)
	next, err := ParseCredentials([]byte(`{"NEW": {"secret": "new-secret", "buckets": ["tenant-*"], "access": "read"}}`))
	require.NoError(t, err)
	c.Replace(next)
	_, ok := c.Secret("OLD")
	assert.False(t, ok)
	secret, ok := c.Secret("NEW")
	assert.True(t, ok)
	assert.Equal(t, "new-secret", secret)
	assert.True(t, c.MayRead("NEW", "tenant-a"))
	assert.False(t, c.MayConfigure("NEW", "tenant-a"))
	assert.False(t, c.MayRead("NEW", "other"))
	c.Replace(nil)
	assert.True(t, c.Empty())
	var zero Credentials
	assert.True(t, zero.Empty(), "the zero value holds no key")
}
