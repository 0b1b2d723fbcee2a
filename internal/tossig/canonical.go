package tossig

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest is what the string to sign hashes, as the SDK's
// SignV4.canonicalRequest writes it:
//
//	METHOD \n URI \n QUERY \n NAME:VALUE \n ... \n \n SIGNED-HEADERS \n PAYLOAD-HASH
func canonicalRequest(r *http.Request, query url.Values, c claim) string {
	var b strings.Builder
	b.Grow(256 + len(r.URL.Path) + len(r.URL.RawQuery))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	if r.URL.Path == "" {
		b.WriteByte('/')
	} else {
		encode(&b, r.URL.Path, false)
	}
	b.WriteByte('\n')
	canonicalQuery(&b, query)
	b.WriteByte('\n')
	for _, name := range c.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		headerValue(&b, r, name)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(c.signedText)
	b.WriteByte('\n')
	b.WriteString(c.payloadHash)
	return b.String()
}

// canonicalQuery writes every parameter but X-Tos-Signature (in any
// case: the SDK leaves out every name that lower-cases to
// x-tos-signature), sorted by the decoded name, each value in the order
// it came (the SDK does not sort values), "name=value" encoded, joined by
// "&". The path and query are what Go decoded once (r.URL.Path,
// url.ParseQuery), which is what the SDK encodes: its Request holds them
// decoded.
func canonicalQuery(b *strings.Builder, query url.Values) {
	names := make([]string, 0, len(query))
	for name := range query {
		if !strings.EqualFold(name, qSignature) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	first := true
	for _, name := range names {
		for _, v := range query[name] {
			if !first {
				b.WriteByte('&')
			}
			first = false
			encode(b, name, true)
			b.WriteByte('=')
			encode(b, v, true)
		}
	}
}

// headerValue writes a signed header's canonical value: each value's
// runs of white space made one space and trimmed (strings.Fields, as the
// SDK does), several values joined by ",". host is the request's Host (Go
// keeps it out of r.Header); a content-length the server took out of the
// headers is r.ContentLength. A signed header the request lacks is empty.
func headerValue(b *strings.Builder, r *http.Request, name string) {
	if name == "host" {
		b.WriteString(strings.Join(strings.Fields(r.Host), " "))
		return
	}
	values := r.Header.Values(name)
	if len(values) == 0 && name == "content-length" && r.ContentLength > 0 {
		b.WriteString(strconv.FormatInt(r.ContentLength, 10))
		return
	}
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, f := range strings.Fields(v) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f)
		}
	}
}

// encode writes every byte but A-Z a-z 0-9 - . _ ~ (and "/" unless
// encodeSlash) as %XX in upper-case hex: the SDK's URIEncode.
func encode(b *strings.Builder, s string, encodeSlash bool) {
	const hexDigits = "0123456789ABCDEF"
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
}
