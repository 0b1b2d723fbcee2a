// Package bce is Baidu Cloud's request signature, BCE auth v1, as
// github.com/baidubce/bce-sdk-go's auth package computes it: the origin
// pull signs bos:// fetches with it, the configuration API checks the BOS
// SDK's requests with it (Verify: the Authorization header only), and the
// object path checks BOS clients' reads with it (VerifyRequest: the header
// or a presigned URL).
//
//	authorization = "bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE"
//	signing key   = hex(HMAC-SHA256(SK, "bce-auth-v1/AK/TIMESTAMP/EXPIRE"))
//	signature     = hex(HMAC-SHA256(signing key, METHOD "\n" URI "\n" QUERY "\n" HEADERS))
package bce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Version is the auth string's first part.
const Version = "bce-auth-v1"

// TimeFormat is the auth string's timestamp.
const TimeFormat = "2006-01-02T15:04:05Z"

// Prefix is "bce-auth-v1/AK/TIMESTAMP/EXPIRE".
func Prefix(accessKeyID string, t time.Time, expireSeconds int) string {
	return fmt.Sprintf("%s/%s/%s/%d", Version, accessKeyID, t.UTC().Format(TimeFormat), expireSeconds)
}

// Signature is the hex signature of a canonical request under secret and
// the auth string's prefix.
func Signature(secret, prefix, method, canonicalURI, canonicalQuery, canonicalHeaders string) string {
	key := hmacHex(secret, prefix)
	return hmacHex(key, method+"\n"+canonicalURI+"\n"+canonicalQuery+"\n"+canonicalHeaders)
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// CanonicalHeaders gives the signed headers' canonical form and their
// names, both sorted: each "uriencode(lower(name)):uriencode(trim(value))".
// headers maps lower-case names to one value each.
func CanonicalHeaders(headers map[string]string) (canonical, signed string) {
	lines := make([]string, 0, len(headers))
	names := make([]string, 0, len(headers))
	for name, v := range headers {
		lines = append(lines, URIEncode(name, true)+":"+URIEncode(strings.TrimSpace(v), true))
		names = append(names, name)
	}
	slices.Sort(lines)
	slices.Sort(names)
	return strings.Join(lines, "\n"), strings.Join(names, ";")
}

// CanonicalQuery gives a query's canonical form: each name=value pair
// URI-encoded ("name=" when the value is empty), authorization left out,
// sorted, joined by "&".
func CanonicalQuery(params map[string]string) string {
	items := make([]string, 0, len(params))
	for k, v := range params {
		if strings.EqualFold(k, "authorization") {
			continue
		}
		items = append(items, URIEncode(k, true)+"="+URIEncode(v, true))
	}
	slices.Sort(items)
	return strings.Join(items, "&")
}

// URIEncode keeps A-Z a-z 0-9 - _ . ~ (and "/" unless encodeSlash) and
// writes every other byte as %XX, upper case.
func URIEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~',
			c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
