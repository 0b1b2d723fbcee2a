package mirror

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		raw  string
		base string // "" when refused
		why  string // a part of the reason, when refused
	}{
		{"http://example.com", "http://example.com/", ""},
		{"example.com:8080/p", "http://example.com:8080/p/", ""},
		{"HTTPS://Cdn.Example.COM:443", "https://cdn.example.com/", ""},
		{"http://example.com:80/image", "http://example.com/image/", ""},
		{"https://example.com:80/", "https://example.com:80/", ""},
		{"http://example.com/a//", "http://example.com/a/", ""},
		{"http://example.com/a b", "", "white space"},
		{"http://example.com/%E5%9B%BE/", "http://example.com/%E5%9B%BE/", ""},
		{"http://example.com/%7euser/a+b", "http://example.com/~user/a%2Bb/", ""},
		{"http://example.com/é", "http://example.com/%C3%A9/", ""},
		{"bos://bj.bcebos.com/bucket", "bos://bj.bcebos.com/bucket/", ""},
		{"bos://bj.bcebos.com/bucket/dir", "bos://bj.bcebos.com/bucket/dir/", ""},
		{"bos://bj.bcebos.com", "", "bucket name"},
		{"bos://bj.bcebos.com/Bucket", "", "bucket name"},
		{"bos://bj.bcebos.com/ab", "", "bucket name"},
		{"https://[2001:DB8:0:0:0:0:0:1]:443", "https://[2001:db8::1]/", ""},
		{"http://[2001:db8::1]:8080/x", "http://[2001:db8::1]:8080/x/", ""},
		{"http://[fe80::1%25eth0]/", "", "zone"},
		{"http://[1.2.3.4]/", "", "IPv6"},
		{"http://[2001:db8::1/", "", "]"},
		{"http://8.8.8.8/", "http://8.8.8.8/", ""},
		{"ftp://example.com", "", `scheme "ftp"`},
		{"file:///etc/passwd", "", `scheme "file"`},
		{"gopher://example.com/", "", `scheme "gopher"`},
		{"://example.com", "", "scheme"},
		{"http://user:pw@example.com", "", "userinfo"},
		{"http://example.com/?a=1", "", "query"},
		{"http://example.com/#f", "", "fragment"},
		{`http://example.com\@evil.com`, "", "backslash"},
		{`http://example.com\x`, "", "backslash"},
		{"http://example.com/\x00", "", "control"},
		{"http://", "", "no host"},
		{"http://:80/", "", "no host"},
		{"http://example.com:/", "", "port"},
		{"http://example.com:0/", "", "port"},
		{"http://example.com:080/", "", "port"},
		{"http://example.com:65536/", "", "port"},
		{"http://example.com:123456/", "", "port"},
		{"http://example.com:8a/", "", "port"},
		{"http://example.com./", "", "DNS name"},
		{"http://-a.example.com/", "", "DNS name"},
		{"http://a_b.example.com/", "", "DNS name"},
		{"http://bücher.example/", "", "punycode"},
		{"http://" + strings.Repeat("a", 64) + ".com/", "", "DNS name"},
		{"http://127.1/", "", "neither a DNS name"},
		{"http://2130706433/", "", "neither a DNS name"},
		{"http://0x7f.1/", "", "neither a DNS name"},
		{"http://0177.0.0.1/", "", "leading zero"},
		{"http://1.2.3.256/", "", "IPv4"},
		{"http://example.com/a/../b", "", "segment"},
		{"http://example.com/a/%2e%2E/b", "", "segment"},
		{"http://example.com/a%2F..%2Fb", "", "segment"},
		{"http://example.com/a/%5c..", "", "segment"},
		{"http://example.com/./", "", "segment"},
		{"http://example.com/%zz", "", "%"},
		{"http://example.com/%0a", "", "control"},
		{"http://example.com/" + strings.Repeat("a", 1010), "", "1024"},
		// Private and internal addresses.
		{"http://localhost/", "", "loopback"},
		{"http://metadata.localhost/", "", "loopback"},
		{"http://127.0.0.1:8080/", "", "private"},
		{"http://10.0.0.1/", "", "private"},
		{"http://172.16.0.1/", "", "private"},
		{"http://172.32.0.1/", "http://172.32.0.1/", ""},
		{"http://192.168.1.1/", "", "private"},
		{"http://100.64.0.1/", "", "private"},
		{"http://169.254.169.254/latest/", "", "private"},
		{"http://0.0.0.0/", "", "private"},
		{"http://[::1]/", "", "private"},
		{"http://[::]/", "", "private"},
		{"http://[fc00::1]/", "", "private"},
		{"http://[fe80::1]/", "", "private"},
		{"http://[::ffff:127.0.0.1]/", "", "private"},
		{"http://[::ffff:8.8.8.8]/", "http://[::ffff:8.8.8.8]/", ""},
		{"http://[64:ff9b::808:808]/", "", "private"},
		{"bos://10.0.0.1/bucket", "", "private"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			o, reason := parseOrigin(tt.raw, false)
			if tt.base == "" {
				assert.Nil(t, o)
				assert.Contains(t, reason, tt.why)
				return
			}
			if assert.Empty(t, reason) {
				assert.Equal(t, tt.base, o.base)
			}
		})
	}
}

func TestParseOriginAllowPrivate(t *testing.T) {
	for raw, base := range map[string]string{
		"http://127.0.0.1:8080/":     "http://127.0.0.1:8080/",
		"localhost:9000":             "http://localhost:9000/",
		"http://[::ffff:127.0.0.1]/": "http://[::ffff:127.0.0.1]/",
	} {
		o, reason := parseOrigin(raw, true)
		if assert.Empty(t, reason, raw) {
			assert.Equal(t, base, o.base)
		}
	}
	// Allowing private origins does not loosen the grammar.
	for _, raw := range []string{"http://127.1/", "http://0177.0.0.1/", "http://[fe80::1%25lo]/"} {
		o, reason := parseOrigin(raw, true)
		assert.Nil(t, o, raw)
		assert.NotEmpty(t, reason, raw)
	}
}
