package mirror

import "strings"

// Byte-level helpers shared by every stage. They work on ASCII only, on
// purpose: names, schemes, hosts and tokens are compared the way HTTP
// compares them, never with Unicode case folding (docs/SEMANTICS.md §6).
// The percent-encoding is here too, beside its decoding: origin.go
// encodes an origin's path with it when a rule is compiled, and rewrite.go
// every origin key, so that both are written the same way.

// hasControl reports whether s holds a C0 control byte or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldASCII compares s and t with ASCII case folding only: the
// Kelvin sign is not a "k" here, as it is for strings.EqualFold.
func equalFoldASCII(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != lower(t[i]) {
			return false
		}
	}
	return true
}

// toLowerASCII lower-cases ASCII letters and leaves every other byte.
func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
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

const upperHex = "0123456789ABCDEF"

// byteSet is a membership table over all 256 byte values.
type byteSet [256]bool

func newByteSet(s string) (t byteSet) {
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return t
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

// unreserved marks the bytes appendEncoded keeps: A-Z a-z 0-9 - . _ ~ and "/"
// (AWS SigV4 UriEncode with "/" kept).
var unreserved = newByteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")

// appendEncoded appends s with every byte but A-Z a-z 0-9 - . _ ~ / as
// %XX, upper-case.
func appendEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		run := i
		for run < len(s) && unreserved[s[run]] {
			run++
		}
		dst = append(dst, s[i:run]...)
		if run == len(s) {
			break
		}
		c := s[run]
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		i = run + 1
	}
	return dst
}

// commonPrefixLen is the length of the longest common prefix of a and b.
func commonPrefixLen(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func reverse(s string) string {
	if len(s) < 2 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := len(s) - 1; i >= 0; i-- {
		b.WriteByte(s[i])
	}
	return b.String()
}
