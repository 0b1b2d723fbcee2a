package mirror

import (
	"fmt"
	"strings"
)

// The query rules of docs/SEMANTICS.md §5: a query is forwarded only when
// the rule says so, only if every byte of it means one thing, and never
// with the client's own credentials for the bucket.

// queryBytes are the bytes a forwarded query may hold (with "%" only
// before two hex digits): RFC 3986 query characters less ";".
var queryBytes = newByteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/?%")

// Query limits.
const (
	maxQueryLen    = 8192
	maxQueryPieces = 1000
)

// queryReason says why a raw query can not be forwarded, or "".
func queryReason(q string) string {
	if len(q) > maxQueryLen {
		return fmt.Sprintf("the query is %d bytes, more than %d", len(q), maxQueryLen)
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		if !queryBytes[c] {
			return fmt.Sprintf("the query holds byte %q at offset %d", c, i)
		}
		if c == '%' && (i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2])) {
			return fmt.Sprintf("the %% at offset %d is not followed by two hex digits", i)
		}
	}
	// More than 1000 non-empty pieces need at least 2001 bytes.
	if len(q) > 2*maxQueryPieces {
		pieces := 0
		for i := 0; i < len(q); i++ {
			if q[i] != '&' && (i == 0 || q[i-1] == '&') {
				pieces++
			}
		}
		if pieces > maxQueryPieces {
			return fmt.Sprintf("the query has %d parameters, more than %d", pieces, maxQueryPieces)
		}
	}
	return ""
}

// appendQuery appends "?" and the query's pieces that may reach an
// origin, in order, byte for byte; nothing when none is left.
func appendQuery(dst []byte, q string) []byte {
	sep := byte('?')
	for q != "" {
		piece := q
		if i := strings.IndexByte(q, '&'); i >= 0 {
			piece, q = q[:i], q[i+1:]
		} else {
			q = ""
		}
		if piece == "" || credentialParam(piece) {
			continue
		}
		dst = append(dst, sep)
		dst = append(dst, piece...)
		sep = '&'
	}
	return dst
}

// credentialParamPrefixes are the vendors' signed-URL namespaces;
// credentialParam holds the full names. None of it may reach an origin.
var credentialParamPrefixes = []string{"x-amz-", "x-bce-", "x-oss-", "x-cos-", "x-obs-", "x-tos-",
	"x-goog-", "x-ms-", "x-qs-"}

// credentialParam reports whether a piece's name, percent-decoded and
// lower-cased, carries the client's credentials for the bucket. The query
// was validated, so every "%" has two hex digits, and they lie within the
// name.
func credentialParam(piece string) bool {
	// Every credential name starts with a, s, o, g, q or x: most
	// parameters are let through on their first byte.
	switch piece[0] | 0x20 {
	case 'a', 's', 'o', 'g', 'q', 'x', '%':
	default:
		return false
	}
	end := strings.IndexByte(piece, '=')
	if end < 0 {
		end = len(piece)
	}
	var buf [32]byte
	n, full := 0, 0
	for i := 0; i < end; i++ {
		c := piece[i]
		if c == '%' {
			c = unhex(piece[i+1])<<4 | unhex(piece[i+2])
			i += 2
		}
		if n < len(buf) {
			buf[n] = lower(c)
			n++
		}
		full++
	}
	d := buf[:n]
	if full == n {
		switch string(d) {
		case "authorization", "signature", "awsaccesskeyid", "ossaccesskeyid", "accesskeyid", "access_key_id",
			"googleaccessid", "security-token", "q-ak", "q-signature", "q-sign-algorithm", "q-sign-time",
			"q-key-time", "q-header-list", "q-url-param-list", "sig", "sign", "access_token":
			return true
		}
	}
	if len(d) < 5 || d[0] != 'x' || d[1] != '-' {
		return false
	}
	for _, p := range credentialParamPrefixes {
		if len(d) >= len(p) && string(d[:len(p)]) == p {
			return true
		}
	}
	return false
}
