package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest is what the string to sign hashes:
//
//	METHOD \n URI \n QUERY \n NAME:VALUE \n ... \n \n SIGNED-HEADERS \n PAYLOAD-HASH
func canonicalRequest(r *http.Request, query url.Values, c claim) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query, c.presigned))
	b.WriteByte('\n')
	for _, name := range c.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(c.signedText)
	b.WriteByte('\n')
	b.WriteString(c.payloadHash)
	return b.String()
}

// canonicalURI is the path as S3 signs it: decoded once (Go's
// r.URL.Path, which is also where the object path reads the key,
// docs/SERVING.md §1) and encoded once, every byte but A-Z a-z 0-9 - . _
// ~ and "/" as %XX. S3 does not encode twice, unlike other AWS services:
// aws-sdk-go-v2's S3 client signs with DisableURIPathEscaping over a path
// it escaped this way, and minio-go and MinIO do the same. So a key
// "a b+c" is signed as "a%20b%2Bc" whether the client sent "+" or "%2B",
// and a key "a%2Fb" (sent "a%252Fb") as "a%252Fb". A client that sends
// "%2F" for "/" signs what S3 would: the key holds a "/".
func canonicalURI(r *http.Request) string {
	if r.URL.Path == "" {
		return "/"
	}
	return encode(r.URL.Path, false)
}

// canonicalQuery is every parameter, name and value encoded, sorted by
// the encoded name and then value (the order aws-sdk-go-v2 and S3 sort
// in), joined by "&", "name=" for an empty value. A presigned URL's
// X-Amz-Signature is left out: it can not sign itself.
func canonicalQuery(query url.Values, presigned bool) string {
	type pair struct{ name, value string }
	pairs := make([]pair, 0, len(query))
	for name, values := range query {
		if presigned && name == qSignature {
			continue
		}
		n := encode(name, true)
		for _, v := range values {
			pairs = append(pairs, pair{n, encode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// headerValue is a signed header's canonical value: each value trimmed,
// runs of spaces made one, several values joined by ",", as aws-sdk-go-v2
// writes them. host is the request's Host (Go keeps it out of r.Header);
// a content-length the server took out of the headers is
// r.ContentLength. A signed header the request lacks is empty: the
// signature can then only match if the signer signed it empty.
func headerValue(r *http.Request, name string) string {
	if name == "host" {
		return trimAll(r.Host)
	}
	values := r.Header.Values(name)
	if len(values) == 0 && name == "content-length" && r.ContentLength > 0 {
		return strconv.FormatInt(r.ContentLength, 10)
	}
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(trimAll(v))
	}
	return b.String()
}

// trimAll trims s and makes each run of spaces one space.
func trimAll(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// encode writes every byte but the unreserved A-Z a-z 0-9 - . _ ~ (and
// "/" unless encodeSlash) as %XX in upper-case hex: RFC 3986's
// percent-encoding, which SigV4 prescribes for the path and the query
// alike (a space is %20, never "+").
func encode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
