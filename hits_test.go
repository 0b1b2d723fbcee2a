package mirror

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FiresOnHits is true exactly when a rule's "on" takes a 200: the
// serving layer asks the engine about hits only then.
func TestFiresOnHits(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*"}]}`, false},
		{`{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"*","on":"miss"}]}`, false},
		{`{"rules":[{"mode":"redirect","sourceUrl":"http://o.example.com","resource":"*","on":[403,"5xx"]}]}`, false},
		{`{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","match":{"suffix":".jpg"}}]}`, false},
		{`{"rules":[{"mode":"fetch","sourceUrl":"http://o.example.com","resource":"a*"},` +
			`{"mode":"redirect","sourceUrl":"http://o.example.com","resource":"b*","on":"always"}]}`, true},
		{`{"rules":[{"mode":"redirect","sourceUrl":"http://o.example.com","resource":"*","on":[200]}]}`, true},
	} {
		eng, err := Load([]byte(c.doc), FormatNative)
		require.NoError(t, err, c.doc)
		assert.Equal(t, c.want, eng.FiresOnHits(), c.doc)
	}
	// S3's website rules without HttpErrorCodeReturnedEquals apply to keys
	// that exist; with it, to that status only.
	always, err := Load([]byte(`<WebsiteConfiguration><RoutingRules><RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>`+
		`<Redirect><HostName>www.example.com</HostName></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>`), FormatS3)
	require.NoError(t, err)
	assert.True(t, always.FiresOnHits())
	onError, err := Load([]byte(`<WebsiteConfiguration><RoutingRules><RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>`+
		`<Redirect><HostName>www.example.com</HostName></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>`), FormatS3)
	require.NoError(t, err)
	assert.False(t, onError.FiresOnHits())
}
