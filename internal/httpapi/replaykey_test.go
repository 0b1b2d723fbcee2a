package httpapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// One signature, however its header spells it, is one replay key; two
// signatures are two (found in review: the header's text was the key).
func TestReplayKeyIsTheSignature(t *testing.T) {
	const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, same := range [][]string{
		{"AWS4-HMAC-SHA256 Credential=AK/20261207/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + hex64,
			"AWS4-HMAC-SHA256 Signature=" + hex64 + ",SignedHeaders=host,   Credential=AK/20261207/us-east-1/s3/aws4_request",
			"AWS4-HMAC-SHA256 Credential=AK/20261207/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
		{"TOS4-HMAC-SHA256 Credential=AK/20261207/cn-beijing/tos/request, SignedHeaders=host;x-tos-date, Signature=" + hex64,
			"TOS4-HMAC-SHA256 SignedHeaders=host;x-tos-date,Signature=" + hex64 + ", Credential=AK/20261207/cn-beijing/tos/request"},
		{"OBS AK:c2lnbmF0dXJlLW9mLXR3ZW50eS1ieXQ=", "AWS AK:c2lnbmF0dXJlLW9mLXR3ZW50eS1ieXQ="},
		{"q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-url-param-list=origin&q-signature=da39a3ee5e6b4b0d3255bfef95601890afd80709",
			"q-ak=AK&q-signature=da39a3ee5e6b4b0d3255bfef95601890afd80709&q-sign-algorithm=sha1&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-url-param-list=origin"},
		{"bce-auth-v1/AK/2026-12-07T00:00:00Z/1800/host;x-bce-date/" + hex64, "bce-auth-v1/AK/2026-12-07T00:00:00Z/1800/x-bce-date;host/" + hex64},
	} {
		for _, other := range same[1:] {
			assert.Equal(t, ReplayKey(same[0]), ReplayKey(other), other)
		}
	}
	assert.NotEqual(t, ReplayKey("OSS AK:c2lnbmF0dXJlLW9mLXR3ZW50eS1ieXQ="), ReplayKey("OSS AK:b3RoZXItc2lnbmF0dXJlLW9mLXR3ZW50eQ=="))
	assert.NotEqual(t, ReplayKey("AWS4-HMAC-SHA256 Signature="+hex64), ReplayKey("AWS4-HMAC-SHA256 Signature=ff"+hex64[2:]))
}
