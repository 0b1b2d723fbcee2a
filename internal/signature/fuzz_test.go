package signature

import (
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"
)

// FuzzVerify feeds Verify arbitrary Authorization headers, query strings
// and paths, on a request that otherwise looks like a signed read. It
// must never panic, never accept a key but the one it signed with, and
// never call a request anonymous and refuse it too. The seeds are one
// valid request per scheme and form, so the fuzzer starts from
// signatures that verify, and a few broken ones.
func FuzzVerify(f *testing.F) {
	for _, r := range sdkRequests(f, "日本/a b+c") {
		f.Add(r.Header.Get("Authorization"), r.URL.RawQuery, r.URL.Path)
	}
	for _, seed := range [][3]string{
		{"", "", "/bucket/k"},
		{"AWS4-HMAC-SHA256 Credential=AK/20261123/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "", "/b/k"},
		{"AWS4-HMAC-SHA256 ,,,,Credential=//////", "a=%zz;b", "/"},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=99999999999999999999", "/b/%"},
		{"bce-auth-v1/AK/2026-11-23T10:00:00Z/0/host/x", "authorization=bce-auth-v1", "/b/k"},
		{"QS AK:", "signature=&access_key_id=AK&expires=-1", "/b/k"},
		{"AWS AK:x", "Signature=x&AWSAccessKeyId=AK", "/b/k"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, auth, query, path string) {
		if !utf8.ValidString(path) {
			path = "/" + url.PathEscape(path)
		}
		r := &http.Request{
			Method: "GET", Host: "gw.test", URL: &url.URL{Path: path, RawQuery: query},
			Header: http.Header{
				"X-Amz-Date":           {"20261123T100000Z"},
				"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"},
				"Date":                 {at.Format(http.TimeFormat)},
			},
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		ak, signed, e := Verify(r, secrets, at)
		switch {
		case !signed && (e != nil || ak != ""):
			t.Fatalf("anonymous, yet ak %q, error %v", ak, e)
		case e == nil && signed && ak != testAK:
			t.Fatalf("accepted key %q", ak)
		case e != nil && ak != "":
			t.Fatalf("refused with a key %q: %v", ak, e)
		case e != nil && len(e.Message) > 300:
			t.Fatalf("a message of %d bytes", len(e.Message))
		}
	})
}
