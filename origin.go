package mirror

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// origin is a parsed sourceUrl or backSourceUrl, worked out once at
// compile time: the canonical base every origin URL starts with, and its
// parts, so that a decision hands them out without parsing anything.
type origin struct {
	// raw is the URL as written.
	raw string
	// base is "scheme://host[:port]/path/", always ending in one "/", with
	// the path already encoded: URLs are base + enc(origin key).
	base string
	// scheme is "http", "https", "bos" or "s3".
	scheme string
	// host is canonical: a lower-case DNS name, a dotted quad, or a
	// bracketed IPv6 address in netip's form. port is "" for the scheme's
	// default; hostport is the two joined.
	host, port, hostport string
	// path is base's path, encoded: "/" or "/a%20b/".
	path string
	// bos:// and s3:// only: the bucket, and the decoded text between the
	// bucket and the origin key ("" or "dir/"), which starts every object
	// key.
	bucket, keyPrefix string
}

// signed reports whether o is a bucket of an object store (bos:// or
// s3://): fetched path-style as https://host/bucket/key, signed by the
// serving layer with the gateway bucket's own credentials, and so never
// given a client's query, never a redirect's target.
func (o *origin) signed() bool {
	return o.scheme == "bos" || o.scheme == "s3"
}

// sameParty reports whether a credential meant for o may also reach b.
func (o *origin) sameParty(b *origin) bool {
	return o.scheme == b.scheme && o.hostport == b.hostport
}

// parseOrigin reads an origin URL with the strict grammar of
// docs/SEMANTICS.md §5: every component has exactly one meaning, so no
// later step can be fooled into a different host, port or path. reason is
// "" when raw is good.
func parseOrigin(raw string, allowPrivate bool) (o *origin, reason string) {
	if len(raw) > maxFieldLen {
		return nil, "longer than 1024 bytes"
	}
	if reason := urlCharReason(raw); reason != "" {
		return nil, reason
	}
	scheme, rest := "http", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = toLowerASCII(raw[:i]), raw[i+3:]
		if scheme != "http" && scheme != "https" && scheme != "bos" && scheme != "s3" {
			return nil, fmt.Sprintf("scheme %q is not http, https, bos or s3", raw[:i])
		}
	}
	authority, rawPath := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, rawPath = rest[:i], rest[i:]
	}
	host, port, reason := parseAuthority(authority, allowPrivate)
	if reason != "" {
		return nil, reason
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	o = &origin{raw: raw, scheme: scheme, host: host, port: port, hostport: host}
	if port != "" {
		o.hostport += ":" + port
	}
	decoded, ok := percentDecode(rawPath)
	switch {
	case !ok:
		return nil, "a % in the path is not followed by two hex digits"
	case hasControl(decoded):
		return nil, "the path decodes to a control byte"
	case unsafeSegment(decoded):
		return nil, `the path has a segment made of "." and white space, which an origin may resolve as "." or ".."`
	case scheme == "s3" && !utf8.ValidString(decoded):
		// S3 keys are UTF-8, and Signature V4 signs the path as UTF-8.
		return nil, "the path of an s3:// origin decodes to invalid UTF-8"
	}
	if o.signed() {
		// The bucket is the first segment, as written: "bos://ep//b" and
		// "s3://ep/%62ucket" do not name a bucket.
		seg := strings.TrimPrefix(rawPath, "/")
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg = seg[:i]
		}
		switch {
		case seg == "":
			return nil, fmt.Sprintf("a %s:// origin needs a bucket name as its first path segment: %s://endpoint/bucket[/path]", scheme, scheme)
		case scheme == "bos" && !ValidBucket(seg):
			return nil, fmt.Sprintf("bucket name %q is not 3-63 of a-z 0-9 - starting and ending with a letter or digit", seg)
		case scheme == "s3" && !validS3Bucket(seg):
			return nil, fmt.Sprintf("bucket name %q is not 3-63 of a-z 0-9 . - starting and ending with a letter or digit, without two periods in a row", seg)
		}
		o.bucket = seg
		o.keyPrefix = strings.TrimRight(strings.TrimPrefix(decoded[1+len(seg):], "/"), "/")
		if o.keyPrefix != "" {
			o.keyPrefix += "/"
		}
	}
	o.path = strings.TrimRight(string(appendEncoded(nil, decoded)), "/")
	if !strings.HasPrefix(o.path, "/") {
		o.path = "/" + o.path
	}
	if o.path != "/" {
		o.path += "/"
	}
	o.base = scheme + "://" + o.hostport + o.path
	return o, ""
}

// urlCharReason refuses the characters that have no place in an origin
// URL: anything that could start userinfo, a query or a fragment, and
// white space in any script.
func urlCharReason(raw string) string {
	for i, r := range raw {
		switch {
		case r < ' ' || r == 0x7f:
			return "a control byte is not allowed in a URL"
		case r == utf8.RuneError && !strings.HasPrefix(raw[i:], "\uFFFD"):
			return "the URL is not valid UTF-8"
		case unicode.Is(unicode.White_Space, r):
			return fmt.Sprintf("white space (%U) is not allowed in a URL", r)
		case r == '@':
			return "userinfo (@) is not allowed in a URL"
		case r == '?':
			return "a query (?) is not allowed in an origin URL"
		case r == '#':
			return "a fragment (#) is not allowed in a URL"
		case r == '\\':
			return "a backslash is not allowed in a URL"
		}
	}
	return ""
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
		host = toLowerASCII(hostPart)
		if addr, reason = parseHostName(host); reason != "" {
			return "", "", reason
		}
	}
	if allowPrivate {
		return host, port, ""
	}
	if addr.IsValid() {
		if block, bad := NonRoutable(addr); bad {
			return "", "", fmt.Sprintf("address %s is in %s, which is not publicly routable (loopback, private, link-local, metadata or special-purpose); private origins are not allowed without -allow-private-origins (Compiler.AllowPrivateOrigins)", host, block)
		}
	} else if isLocalName(host) {
		return "", "", fmt.Sprintf("host %q names this machine or its local network; private origins are not allowed without -allow-private-origins (Compiler.AllowPrivateOrigins)", host)
	}
	return host, port, ""
}

// parseHostName checks a lower-cased host that is not in brackets: a
// dotted-quad IPv4 address (addr is valid) or a DNS name of ASCII labels.
//
// A name whose last label some resolver reads as a number (all digits, or
// "0x" and hex digits: WHATWG URL's "ends in a number") is not a DNS name.
// glibc's inet_aton, curl and browsers read 127.1, 2130706433, 0x7f000001
// and 127.0.0.0x1 as IPv4 addresses, so such a host must be a canonical
// dotted quad or it is refused.
func parseHostName(h string) (addr netip.Addr, reason string) {
	if len(h) > 253 {
		return addr, "the host name is longer than 253 bytes"
	}
	labels := strings.Split(h, ".")
	if last := labels[len(labels)-1]; endsInNumber(last) {
		if len(labels) != 4 || !allDigits(labels[0]) || !allDigits(labels[1]) || !allDigits(labels[2]) || !allDigits(last) {
			return addr, fmt.Sprintf("host %q ends in a number but is not a dotted-quad IPv4 address (resolvers read it as an address in ways that differ)", h)
		}
		for _, l := range labels {
			if len(l) > 1 && l[0] == '0' {
				return addr, fmt.Sprintf("IPv4 address %q has a part with a leading zero (resolvers read it as octal)", h)
			}
		}
		ip, err := netip.ParseAddr(h)
		if err != nil {
			return addr, fmt.Sprintf("%q is not a valid IPv4 address", h)
		}
		return ip, ""
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

// endsInNumber: all digits, or "0x" followed by zero or more hex digits.
func endsInNumber(label string) bool {
	if allDigits(label) {
		return true
	}
	if len(label) < 2 || label[0] != '0' || label[1] != 'x' {
		return false
	}
	for i := 2; i < len(label); i++ {
		if !isHex(label[i]) {
			return false
		}
	}
	return true
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

// ValidBucket reports whether b is a BOS bucket name: 3 to 63 of a-z 0-9
// -, starting and ending with a letter or digit. It is the rule of a
// bos:// origin's bucket, and of a gateway's own bucket names.
func ValidBucket(b string) bool {
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

// validS3Bucket reports whether b is an S3 bucket name, as an s3://
// origin's bucket must be: 3 to 63 of a-z 0-9 . -, starting and ending
// with a letter or digit, with no two periods in a row (AWS's rules for
// general purpose buckets).
func validS3Bucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || !isLowerAlnum(b[0]) || !isLowerAlnum(b[len(b)-1]) || strings.Contains(b, "..") {
		return false
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; !isLowerAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
