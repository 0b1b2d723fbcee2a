package osssig

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// A fuzzBase is a request signed by the SDK, the instant to verify it at,
// and what its form signs.
type fuzzBase struct {
	req *http.Request
	now time.Time
	v4  bool // V4 signs every query parameter; V1 only signedInV1's
	// signedHeader says whether the form signs a header (lower case).
	signedHeader func(string) bool
	// good says whether the request is good d after now.
	good func(d time.Duration) bool
}

// fuzzBases are one request of each form: V1 and V4 header-signed PUTs of
// ?website (as the SDK sends them: Content-MD5, Content-Type, an x-oss-
// header), and V1 and V4 presigned GETs of an object with a signed query
// parameter.
func fuzzBases(t testing.TB) []fuzzBase {
	v4q, now := presigned(t, oss.SignatureVersionV4, true, "日本/a b+c")
	v1Headers := func(h string) bool {
		return strings.HasPrefix(h, "x-oss-") || h == "content-type" || h == "content-md5" || h == "date"
	}
	withinSkew := func(d time.Duration) bool { return d >= -httpapi.MaxClockSkew && d <= httpapi.MaxClockSkew }
	return []fuzzBase{
		{websitePut(t, &signer.SignerV1{}, at), at, false, v1Headers, withinSkew},
		{websitePut(t, &signer.SignerV4{}, at), at, true, defaultSigned, withinSkew},
		{objectGet(t, &signer.SignerV1{}, "日本/a b+c", at.Add(time.Hour), true), at, false,
			func(h string) bool { return h != "date" && v1Headers(h) }, // Expires is signed in its place
			func(d time.Duration) bool { return d <= time.Hour }},
		{v4q, now, true, defaultSigned,
			func(d time.Duration) bool {
				return d >= -httpapi.MaxClockSkew-time.Second && d <= time.Hour+time.Second
			}},
	}
}

// clone copies a request deeply enough to edit.
func clone(r *http.Request) *http.Request {
	c := r.Clone(r.Context())
	u := *r.URL
	c.URL = &u
	return c
}

// validName says whether s is an HTTP token, as a server takes a header
// name (it refuses a request with any other).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValue says whether s can be a header value as a server reads it.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzVerify mutates one part of a request the SDK signed and has Verify
// judge it. It must never panic, never accept a key but the one that
// signed, never refuse with a key, keep its messages short, and never
// accept a request once a part its form signs has changed: the method,
// the path, a signed header (V1: Date, Content-MD5, Content-Type, x-oss-;
// V4: Content-MD5, Content-Type, x-oss-, x-oss-date among them), a signed
// query parameter (V1: the sub-resources and x-oss-; V4: all, the
// signature's own included), the time. (The body is covered through the
// signed Content-MD5, which the configuration API holds the body to; its
// tests show that.) Parts 5 and over replace the Authorization header,
// the whole query or the path with the fuzzer's text, where only the
// first four promises are held.
func FuzzVerify(f *testing.F) {
	bases := fuzzBases(f)
	for i := range bases {
		for part := range 8 {
			f.Add(uint8(i), uint8(part), "x-oss-meta-a", "c")
		}
		f.Add(uint8(i), uint8(3), "website", "")
		f.Add(uint8(i), uint8(3), "response-content-type", "text/html")
		f.Add(uint8(i), uint8(4), "acl", "")
		f.Add(uint8(i), uint8(2), "Content-Type", "text/xml")
		f.Add(uint8(i), uint8(2), "Date", at.Add(time.Second).Format(http.TimeFormat))
		f.Add(uint8(i), uint8(2), "X-Oss-Date", at.Add(time.Second).Format(v4TimeFormat))
		f.Add(uint8(i), uint8(1), "", "/bucket/other")
	}
	f.Add(uint8(0), uint8(5), "", "OSS4-HMAC-SHA256 ,,,,Credential=//////")
	f.Add(uint8(0), uint8(5), "", "OSS "+testAK+":")
	f.Add(uint8(2), uint8(6), "", "OSSAccessKeyId="+testAK+"&Expires=-1&Signature=")
	f.Add(uint8(3), uint8(6), "", "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-expires=99999999999999999999&x-oss-credential=a/b/c/oss/aliyun_v4_request")
	f.Fuzz(func(t *testing.T, which, part uint8, name, value string) {
		b := bases[int(which)%len(bases)]
		r := clone(b.req)
		now := b.now
		changed := false
		switch part % 9 {
		case 0: // the method
			if !validName(name) {
				return
			}
			r.Method = name
			changed = name != b.req.Method
		case 1: // the path
			if !strings.HasPrefix(value, "/") {
				value = "/" + value
			}
			r.URL.Path, r.URL.RawPath = value, ""
			// "/bucket" and "/bucket/" are one resource, as the
			// gateway routes them.
			b1, k1 := httpapi.Router{}.Route(r)
			b2, k2 := httpapi.Router{}.Route(b.req)
			changed = b1 != b2 || k1 != k2
		case 2: // set a header
			if !validName(name) || !validValue(value) {
				return
			}
			low := strings.ToLower(name)
			if low == "authorization" || low == "host" {
				return
			}
			old := b.req.Header.Get(name)
			r.Header.Set(name, value)
			changed = b.signedHeader(low) && strings.TrimSpace(value) != strings.TrimSpace(old) &&
				!(low == "date" && b.v4) // V4 signs x-oss-date, not Date
			if low == "date" && b.signedHeader(low) {
				changed = value != old
			}
		case 3: // set a query parameter
			q := b.req.URL.Query()
			old, had := q[name]
			q.Set(name, value)
			r.URL.RawQuery = q.Encode()
			if b.v4 || signedInV1(name) || name == qV1AccessKey || name == qV1Expires || name == qV1Signature {
				changed = !had || old[0] != value
			}
		case 4: // add a query parameter, raw, as it comes
			r.URL.RawQuery += "&" + name + "=" + url.QueryEscape(value)
			decoded, err := url.QueryUnescape(name)
			changed = err != nil || b.v4 || signedInV1(decoded) || b.req.URL.Query().Has(decoded)
		case 5: // the Authorization header, replaced
			r.Header.Set("Authorization", value)
		case 6: // the query, replaced
			r.URL.RawQuery = value
		case 7: // delete a header
			low := strings.ToLower(name)
			if low == "authorization" {
				return
			}
			changed = b.signedHeader(low) && strings.TrimSpace(b.req.Header.Get(name)) != "" && !(low == "date" && b.v4)
			r.Header.Del(name)
		case 8: // the time: minutes away
			d := time.Duration(len(value)-len(name)) * time.Minute
			now = now.Add(d)
			changed = !b.good(d)
		}
		ak, e := Verify(r, secrets, now)
		switch {
		case e == nil && ak != testAK:
			t.Fatalf("accepted key %q", ak)
		case e == nil && changed:
			t.Fatalf("accepted a request whose signed part %d changed (%q, %q)", part%9, name, value)
		case e != nil && ak != "":
			t.Fatalf("refused with a key %q: %v", ak, e)
		case e != nil && len(e.Message) > 300:
			t.Fatalf("a message of %d bytes", len(e.Message))
		}
	})
}
