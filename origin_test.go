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
		{"bos://bj.bcebos.com//bucket", "", "bucket name as its first path segment"},
		{"bos://bj.bcebos.com/%2Fbucket", "", "bucket name"},
		{"bos://bj.bcebos.com/buc%6Bet", "", "bucket name"},
		{"bos://bj.bcebos.com/bucket/%2E%2E%20/x", "", "segment"},
		{"https://[2606:4700:0:0:0:0:0:1111]:443", "https://[2606:4700::1111]/", ""},
		{"http://[2606:4700::1111]:8080/x", "http://[2606:4700::1111]:8080/x/", ""},
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
		{"http://127.1/", "", "ends in a number"},
		{"http://2130706433/", "", "ends in a number"},
		{"http://0x7f.1/", "", "ends in a number"},
		// Revision 3, item 6 (docs/SEMANTICS.md §5): hosts a resolver reads as IPv4.
		{"http://0x7f000001/", "", "ends in a number"},
		{"http://127.0.0.0x1/", "", "ends in a number"},
		{"http://169.254.169.0xfe/", "", "ends in a number"},
		{"http://169.254.169.0XFE/", "", "ends in a number"},
		{"http://a.0x/", "", "ends in a number"},
		{"http://example.0xg/", "http://example.0xg/", ""},
		{"http://0xcafe.example/", "http://0xcafe.example/", ""},
		{"http://1.2.3.4.5/", "", "ends in a number"},
		{"http://example.com/\u00a0", "", "white space"},
		{"http://example.com/\u3000x", "", "white space"},
		{"http://example\u2028.com/", "", "white space"},
		{"http://example.com/\xff", "", "UTF-8"},
		{"http://0177.0.0.1/", "", "leading zero"},
		{"http://1.2.3.256/", "", "IPv4"},
		{"http://example.com/a/../b", "", "segment"},
		{"http://example.com/a/%2e%2E/b", "", "segment"},
		{"http://example.com/a%2F..%2Fb", "", "segment"},
		{"http://example.com/a/%5c..", "", "segment"},
		{"http://example.com/./", "", "segment"},
		{"http://example.com/%zz", "", "%"},
		{"http://example.com/p/..%20/", "", "segment"},
		{"http://example.com/%EF%BC%8E%EF%BC%8E/x", "", "segment"},
		{"http://example.com/.../x", "", "segment"},
		{"http://example.com/%0a", "", "control"},
		{"http://example.com/" + strings.Repeat("a", 1010), "", "1024"},
		// Private and internal addresses.
		{"http://localhost/", "", "names this machine"},
		{"http://metadata.localhost/", "", "names this machine"},
		{"http://LOCALHOST.localdomain/", "", "names this machine"},
		{"http://ip6-localhost/", "", "names this machine"},
		{"http://ip6-loopback/", "", "names this machine"},
		{"http://printer.local/", "", "names this machine"},
		{"http://metadata.google.internal/", "", "names this machine"},
		{"http://nas.home.arpa/", "", "names this machine"},
		{"http://local/", "http://local/", ""},
		{"http://localhost.example.com/", "http://localhost.example.com/", ""},
		// Revision 3, item 9 (docs/SEMANTICS.md §3, §1): the whole table of non-routable blocks.
		{"http://192.0.0.192/", "", "192.0.0.0/24"},
		{"http://192.0.2.1/", "", "192.0.2.0/24"},
		{"http://192.88.99.1/", "", "192.88.99.0/24"},
		{"http://198.18.0.1/", "", "198.18.0.0/15"},
		{"http://198.19.255.255/", "", "198.18.0.0/15"},
		{"http://198.51.100.7/", "", "198.51.100.0/24"},
		{"http://203.0.113.9/", "", "203.0.113.0/24"},
		{"http://224.0.0.1/", "", "224.0.0.0/4"},
		{"http://239.255.255.250/", "", "224.0.0.0/4"},
		{"http://240.0.0.1/", "", "240.0.0.0/4"},
		{"http://255.255.255.255/", "", "240.0.0.0/4"},
		{"http://[::127.0.0.1]/", "", "::/96"},
		{"http://[::8.8.8.8]/", "", "::/96"},
		{"http://[64:ff9b:1::1]/", "", "64:ff9b:1::/48"},
		{"http://[100::1]/", "", "100::/64"},
		{"http://[2001::1]/", "", "2001::/23"},
		{"http://[2001:1ff::1]/", "", "2001::/23"},
		{"http://[2001:db8::1]/", "", "2001:db8::/32"},
		{"http://[2002:7f00:1::1]/", "", "2002::/16"},
		{"http://[3fff::1]/", "", "3fff::/20"},
		{"http://[5f00::1]/", "", "5f00::/16"},
		{"http://[fec0::1]/", "", "fec0::/10"},
		{"http://[ff02::1]/", "", "ff00::/8"},
		{"http://[2001:200::1]/", "http://[2001:200::1]/", ""},
		{"http://[2001:4860:4860::8888]/", "http://[2001:4860:4860::8888]/", ""},
		{"http://198.20.0.1/", "http://198.20.0.1/", ""},
		{"http://223.255.255.255/", "http://223.255.255.255/", ""},
		{"http://127.0.0.1:8080/", "", "not publicly routable"},
		{"http://10.0.0.1/", "", "not publicly routable"},
		{"http://172.16.0.1/", "", "not publicly routable"},
		{"http://172.32.0.1/", "http://172.32.0.1/", ""},
		{"http://192.168.1.1/", "", "not publicly routable"},
		{"http://100.64.0.1/", "", "not publicly routable"},
		{"http://169.254.169.254/latest/", "", "not publicly routable"},
		{"http://0.0.0.0/", "", "not publicly routable"},
		{"http://[::1]/", "", "not publicly routable"},
		{"http://[::]/", "", "not publicly routable"},
		{"http://[fc00::1]/", "", "not publicly routable"},
		{"http://[fe80::1]/", "", "not publicly routable"},
		{"http://[::ffff:127.0.0.1]/", "", "not publicly routable"},
		{"http://[::ffff:8.8.8.8]/", "http://[::ffff:8.8.8.8]/", ""},
		{"http://[64:ff9b::808:808]/", "", "not publicly routable"},
		{"bos://10.0.0.1/bucket", "", "not publicly routable"},
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
