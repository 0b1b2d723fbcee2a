package mirror

import (
	"fmt"
	"net/netip"
	"strings"
)

// origin is a parsed sourceUrl or backSourceUrl: the canonical base every
// origin URL starts with, and what the credential check compares.
type origin struct {
	// base is "scheme://host[:port]/path/", always ending in one "/", with
	// the path already encoded: URLs are base + enc(origin key).
	base string
	// scheme is "http", "https" or "bos".
	scheme string
	// hostport is the canonical host with its port when not the default.
	hostport string
}

// sameParty reports whether a credential meant for o may also reach b.
func (o *origin) sameParty(b *origin) bool {
	return o.scheme == b.scheme && o.hostport == b.hostport
}

// maxFieldLen bounds every URL and string field of a rule.
const maxFieldLen = 1024

// parseOrigin reads an origin URL with the strict grammar of SPEC §5:
// every component has exactly one meaning, so no later step can be fooled
// into a different host, port or path. reason is "" when raw is good.
func parseOrigin(raw string, allowPrivate bool) (o *origin, reason string) {
	if len(raw) > maxFieldLen {
		return nil, "longer than 1024 bytes"
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c == 0x7f:
			return nil, "white space or a control byte is not allowed in a URL"
		case c == '@':
			return nil, "userinfo (@) is not allowed in a URL"
		case c == '?':
			return nil, "a query (?) is not allowed in an origin URL"
		case c == '#':
			return nil, "a fragment (#) is not allowed in a URL"
		case c == '\\':
			return nil, "a backslash is not allowed in a URL"
		}
	}
	scheme, rest := "http", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = strings.ToLower(raw[:i]), raw[i+3:]
		if scheme != "http" && scheme != "https" && scheme != "bos" {
			return nil, fmt.Sprintf("scheme %q is not http, https or bos", raw[:i])
		}
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	host, port, reason := parseAuthority(authority, allowPrivate)
	if reason != "" {
		return nil, reason
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	hostport := host
	if port != "" {
		hostport += ":" + port
	}
	decoded, ok := percentDecode(path)
	if !ok {
		return nil, "a % in the path is not followed by two hex digits"
	}
	if hasDotSegment(decoded) {
		return nil, `the path has a "." or ".." segment`
	}
	for i := 0; i < len(decoded); i++ {
		if c := decoded[i]; c < ' ' || c == 0x7f {
			return nil, "the path decodes to a control byte"
		}
	}
	if scheme == "bos" {
		bucket := strings.TrimLeft(decoded, "/")
		if i := strings.IndexByte(bucket, '/'); i >= 0 {
			bucket = bucket[:i]
		}
		if !validBucket(bucket) {
			if bucket == "" {
				return nil, "a bos:// origin needs a bucket name: bos://endpoint/bucket[/path]"
			}
			return nil, fmt.Sprintf("bucket name %q is not 3-63 of a-z 0-9 - starting and ending with a letter or digit", bucket)
		}
	}
	encPath := strings.TrimRight(string(appendEncoded(nil, decoded)), "/")
	if !strings.HasPrefix(encPath, "/") {
		encPath = "/" + encPath
	}
	if encPath != "/" {
		encPath += "/"
	}
	return &origin{base: scheme + "://" + hostport + encPath, scheme: scheme, hostport: hostport}, ""
}

// parseAuthority splits and checks host[:port]; host comes back canonical.
func parseAuthority(a string, allowPrivate bool) (host, port, reason string) {
	hostPart := a
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", "an IPv6 host has no closing ]"
		}
		hostPart, port = a[:end+1], a[end+1:]
		if port != "" && port[0] != ':' {
			return "", "", fmt.Sprintf("unexpected %q after the IPv6 host", port)
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		hostPart, port = a[:i], a[i:]
	}
	if port != "" {
		port = port[1:]
		if !validPort(port) {
			return "", "", fmt.Sprintf("port %q is not a number from 1 to 65535 without leading zeros", port)
		}
	}
	if hostPart == "" {
		return "", "", "the URL has no host"
	}
	var addr netip.Addr
	if hostPart[0] == '[' {
		ip, err := netip.ParseAddr(hostPart[1 : len(hostPart)-1])
		switch {
		case err != nil || !ip.Is6():
			return "", "", fmt.Sprintf("%s is not an IPv6 address", hostPart)
		case ip.Zone() != "":
			return "", "", fmt.Sprintf("%s has a zone, which an origin can not have", hostPart)
		}
		addr, host = ip, "["+ip.String()+"]"
	} else {
		host = strings.ToLower(hostPart)
		if addr, reason = parseHostName(host); reason != "" {
			return "", "", reason
		}
	}
	if !allowPrivate {
		if r := privateReason(host, addr); r != "" {
			return "", "", r
		}
	}
	return host, port, ""
}

// parseHostName checks a lower-cased host that is not in brackets: a
// dotted-quad IPv4 address (addr is valid) or a DNS name of ASCII labels. The last
// label may not be all digits, which refuses the inet_aton shorthands
// (127.1, 2130706433, 0x7f.1) whose meaning differs between resolvers.
func parseHostName(h string) (addr netip.Addr, reason string) {
	if len(h) > 253 {
		return addr, "the host name is longer than 253 bytes"
	}
	labels := strings.Split(h, ".")
	if last := labels[len(labels)-1]; last != "" && allDigits(last) {
		if len(labels) == 4 && allDigits(labels[0]) && allDigits(labels[1]) && allDigits(labels[2]) {
			for _, l := range labels {
				if len(l) > 1 && l[0] == '0' {
					return addr, fmt.Sprintf("IPv4 address %q has a part with a leading zero", h)
				}
			}
			ip, err := netip.ParseAddr(h)
			if err != nil {
				return addr, fmt.Sprintf("%q is not a valid IPv4 address", h)
			}
			return ip, ""
		}
		return addr, fmt.Sprintf("host %q is neither a DNS name nor a dotted-quad IPv4 address", h)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return addr, fmt.Sprintf("host %q is not a DNS name: labels are 1-63 bytes, not starting or ending with - (IDN hosts are given in punycode)", h)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return addr, fmt.Sprintf("host %q is not a DNS name: only a-z 0-9 - are allowed (IDN hosts are given in punycode)", h)
			}
		}
	}
	return addr, ""
}

// privateRanges are the address blocks an origin may only be in when the
// caller allows private origins: a mirror rule is written by a bucket
// owner, and must not make the storage server fetch from its own network.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("10.0.0.0/8"),     // private
	netip.MustParsePrefix("172.16.0.0/12"),  // private
	netip.MustParsePrefix("192.168.0.0/16"), // private
	netip.MustParsePrefix("100.64.0.0/10"),  // shared (carrier-grade NAT)
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata
	netip.MustParsePrefix("0.0.0.0/8"),      // unspecified
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("fc00::/7"),       // unique local
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64 reaches IPv4 space
}

// privateReason says why host may not be an origin, or "" when it may.
func privateReason(host string, addr netip.Addr) string {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Sprintf("host %q is a loopback name; private origins are not allowed", host)
	}
	if !addr.IsValid() {
		return ""
	}
	ip := addr.Unmap()
	for _, p := range privateRanges {
		if p.Contains(ip) {
			return fmt.Sprintf("address %s is in %s, a loopback, private, link-local or otherwise internal range; private origins are not allowed", host, p)
		}
	}
	return ""
}

func validPort(p string) bool {
	if len(p) == 0 || len(p) > 5 || p[0] == '0' || !allDigits(p) {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// validBucket checks a BOS bucket name: 3-63 of a-z 0-9 -, starting and
// ending with a letter or digit.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// percentDecode decodes every %XX; ok is false for a % not followed by
// two hex digits.
func percentDecode(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return string(b), true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
