package osssig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The V4 presigned URL, computed here: signer.SignerV4 signs a URL only
// for the wall clock's instant (its test hook for another one is not
// exported), so it can not re-sign one made earlier. The algorithm is
// the SDK's (oss/signer/v4.go), step for step; TestV4QueryAgreesWithTheSDK
// holds it to the SDK's own presigned URLs.
//
//	canonical request = METHOD "\n" URI "\n" QUERY "\n" HEADERS "\n" ADDITIONAL "\n" PAYLOAD
//	string to sign    = "OSS4-HMAC-SHA256\n" x-oss-date "\n" SCOPE "\n" hex(sha256(canonical request))
//	signing key       = HMAC(HMAC(HMAC(HMAC("aliyun_v4" SK, DATE), REGION), "oss"), "aliyun_v4_request")
//	x-oss-signature   = hex(HMAC(signing key, string to sign))

// v4Query checks a V4 presigned URL.
func (v *verification) v4Query() (string, *httpapi.Error) {
	var p [5]string
	for i, name := range []string{qV4Version, qV4Credential, qV4Date, qV4Expires, qV4Signature} {
		if p[i] = v.query.Get(name); p[i] == "" {
			return malformed("a V4 presigned URL carries x-oss-signature-version, x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature")
		}
	}
	for name := range v.query {
		for _, want := range []string{qV4Version, qV4Credential, qV4Signature} {
			if strings.EqualFold(name, want) && name != want {
				return malformed(want + " is spelt in another case")
			}
		}
	}
	version, credText, datetime, expiresText, sig := p[0], p[1], p[2], p[3], p[4]
	if version != AlgorithmV4 {
		return malformed("x-oss-signature-version is not OSS4-HMAC-SHA256")
	}
	date, err := time.Parse(v4TimeFormat, datetime)
	if err != nil || date.Format(v4TimeFormat) != datetime {
		return malformed("x-oss-date is not YYYYMMDDThhmmssZ")
	}
	expires, err := strconv.Atoi(expiresText)
	if err != nil || expires <= 0 || time.Duration(expires)*time.Second > MaxExpires || strconv.Itoa(expires) != expiresText {
		return malformed("x-oss-expires is not 1 to 604800 seconds")
	}
	cred, ok := parseCredential(credText, datetime)
	if !ok {
		return malformed("the credential is not AK/DATE/REGION/oss/aliyun_v4_request with DATE the day of x-oss-date")
	}
	if _, there := v.query[qV4Additional]; there && v.query.Get(qV4Additional) == "" {
		return malformed("x-oss-additional-headers is empty")
	}
	if h := v.r.Header.Values("X-Oss-Content-Sha256"); len(h) > 0 && (len(h) > 1 || h[0] != unsignedPayload) {
		return malformed("x-oss-content-sha256 must be UNSIGNED-PAYLOAD")
	}
	sk, known := v.secret(cred.ak)
	if !known {
		return unknownKey()
	}
	switch {
	case v.now.Before(date.Add(-httpapi.MaxClockSkew)):
		return expired("is not valid yet: its x-oss-date is " + datetime)
	case v.now.After(date.Add(time.Duration(expires) * time.Second)):
		return expired("has expired")
	}
	if !v.matches(func(res resource) bool { return same(v.v4QuerySignature(res, sk, cred, datetime), sig) }) {
		return "", errMismatch
	}
	return cred.ak, nil
}

// v4QuerySignature is the signature of a V4 presigned URL for a
// resource.
func (v *verification) v4QuerySignature(res resource, sk string, cred v4Credential, datetime string) string {
	var additional []string
	if list := v.query.Get(qV4Additional); list != "" && strings.Count(list, ";") <= len(v.r.Header) {
		additional = commonAdditionalHeaders(v.r, strings.Split(list, ";"))
	} else if list != "" {
		// More names than the request has headers (and a Host): the
		// signer would have left the absent ones out.
		return ""
	}
	var b strings.Builder
	b.WriteString(v.r.Method)
	b.WriteByte('\n')
	uri := "/"
	if res.bucket != nil {
		uri += *res.bucket + "/"
	}
	if res.key != nil {
		uri += *res.key
	}
	b.WriteString(escapePath(uri))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(v.r.URL.RawQuery))
	b.WriteByte('\n')
	writeCanonicalHeaders(&b, v.r, additional)
	b.WriteByte('\n')
	b.WriteString(strings.Join(additional, ";"))
	b.WriteByte('\n')
	payload := unsignedPayload
	if h := v.r.Header.Get("X-Oss-Content-Sha256"); h != "" {
		payload = h
	}
	b.WriteString(payload)

	hash := sha256.Sum256([]byte(b.String()))
	scope := cred.date + "/" + cred.region + "/" + Product + "/aliyun_v4_request"
	toSign := AlgorithmV4 + "\n" + datetime + "\n" + scope + "\n" + hex.EncodeToString(hash[:])
	key := []byte("aliyun_v4" + sk)
	for _, part := range []string{cred.date, cred.region, Product, "aliyun_v4_request", toSign} {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(part))
		key = mac.Sum(nil)
	}
	return hex.EncodeToString(key)
}

// defaultSigned says whether V4 signs a header whatever the additional
// headers say: the x-oss- headers, Content-Type and Content-MD5.
func defaultSigned(lower string) bool {
	return strings.HasPrefix(lower, "x-oss-") || lower == "content-type" || lower == "content-md5"
}

// commonAdditionalHeaders is the SDK's getCommonAdditionalHeaders: the
// listed names, lower-cased, that are not signed anyway and that the
// request carries, sorted.
func commonAdditionalHeaders(r *http.Request, names []string) []string {
	var keep []string
	for _, n := range names {
		low := strings.ToLower(n)
		if !defaultSigned(low) && headerValue(r, low) != "" {
			keep = append(keep, low)
		}
	}
	slices.Sort(keep)
	return keep
}

// headerValue is a header's first value; "host" is the request's Host.
func headerValue(r *http.Request, lower string) string {
	if lower == "host" {
		return r.Host
	}
	return r.Header.Get(lower)
}

// headerValues are a header's values; "host" is the request's Host.
func headerValues(r *http.Request, lower string) []string {
	if lower == "host" {
		if r.Host == "" {
			return nil
		}
		return []string{r.Host}
	}
	return r.Header.Values(lower)
}

// writeCanonicalHeaders writes "name:value\n" for each signed header,
// sorted by name, values trimmed and joined with ",".
func writeCanonicalHeaders(b *strings.Builder, r *http.Request, additional []string) {
	var names []string
	for name := range r.Header {
		if low := strings.ToLower(name); defaultSigned(low) || slices.Contains(additional, low) {
			names = append(names, low)
		}
	}
	for _, a := range additional {
		if a == "host" && !slices.Contains(names, "host") {
			names = append(names, "host")
		}
	}
	slices.Sort(names)
	for _, name := range names {
		values := headerValues(r, name)
		b.WriteString(name)
		b.WriteByte(':')
		for i, value := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(value))
		}
		b.WriteByte('\n')
	}
}

// canonicalQuery is the SDK's canonical query: the raw query with "+"
// read as "%20", split at "&", x-oss-signature left out, sorted by raw
// name, "name=value" or the bare name when the value is empty. (The SDK
// signs before it adds x-oss-signature.)
func canonicalQuery(raw string) string {
	raw = strings.ReplaceAll(raw, "+", "%20")
	type pair struct{ name, value string }
	var pairs []pair
	for raw != "" {
		var p string
		p, raw, _ = strings.Cut(raw, "&")
		if p == "" {
			continue
		}
		name, value, _ := strings.Cut(p, "=")
		if name == qV4Signature {
			continue
		}
		pairs = append(pairs, pair{name, value})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	for _, p := range pairs {
		if b.Len() > 0 { // as the SDK: a pair without a name adds nothing
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		if p.value != "" {
			b.WriteByte('=')
			b.WriteString(p.value)
		}
	}
	return b.String()
}

// escapePath is the SDK's escapePath: every byte but A-Z a-z 0-9 - . _ ~
// and "/" percent-encoded, in capitals.
func escapePath(path string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
