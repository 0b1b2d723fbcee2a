package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The signed requests FuzzSignedParts mutates and BenchmarkVerify
// verifies: a PUT ?website as aws-sdk-go-v2's PutBucketWebsite signs it
// (the body's SHA-256, its CRC32, content-length and content-type signed)
// and a presigned GET ?website.
const (
	fuzzBody  = `<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><RedirectAllRequestsTo><HostName>example.com</HostName></RedirectAllRequestsTo></WebsiteConfiguration>`
	fuzzCRC32 = "u7VQ+g=="
)

// fuzzSHA is the body's hex SHA-256, as the SDK sends it (the verifier
// reads no body: the hash is a signed header like any other).
var fuzzSHA = func() string { sum := sha256.Sum256([]byte(fuzzBody)); return hex.EncodeToString(sum[:]) }()

// signedPut is the header-signed PUT, as the gateway's server reads it.
func signedPut(tb testing.TB) *http.Request {
	tb.Helper()
	r, err := http.NewRequest("PUT", "http://gw.test:8080/bucket?website=", strings.NewReader(fuzzBody))
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/xml")
	r.Header.Set("X-Amz-Checksum-Crc32", fuzzCRC32)
	r.Header.Set("X-Amz-Content-Sha256", fuzzSHA)
	if err := s3Signer.SignHTTP(context.Background(), creds, r, fuzzSHA, "s3", "us-east-1", at); err != nil {
		tb.Fatal(err)
	}
	h := r.Header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(fuzzBody)))
	if !strings.Contains(h.Get("Authorization"), "content-length;content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date") {
		tb.Fatalf("the SDK signed other headers: %s", h.Get("Authorization"))
	}
	return received(tb, "PUT", r.URL.String(), h)
}

// presignedGet is the presigned GET, as the gateway's server reads it.
func presignedGet(tb testing.TB) *http.Request {
	tb.Helper()
	r, err := http.NewRequest("GET", "http://gw.test:8080/bucket?website=&X-Amz-Expires=3600", nil)
	if err != nil {
		tb.Fatal(err)
	}
	u, _, err := s3Signer.PresignHTTP(context.Background(), creds, r, unsignedPayload, "s3", "us-east-1", at)
	if err != nil {
		tb.Fatal(err)
	}
	return received(tb, "GET", u, nil)
}

// The parts of a signed request FuzzSignedParts replaces.
const (
	partMethod = iota
	partPath
	partQuery
	partHeader    // a signed header's value (host: the Host)
	partDate      // X-Amz-Date (the query's, presigned)
	partPayload   // x-amz-content-sha256 (header form)
	partAuthField // Credential, SignedHeaders or Signature (the query's X-Amz-*, presigned)
	numParts
)

// FuzzSignedParts replaces one signed part of a request aws-sdk-go-v2
// signed (the method, the path, the query, a signed header's value, the
// time, the payload hash, the credential, the signed-header list or the
// signature, or a presigned URL's X-Amz-* parameter) with the fuzzer's
// text. Verify must never panic, and must never accept a request whose
// signed part now means something else: a different method, decoded
// path, set of query pairs, header value (after SigV4's trimming of
// spaces), time, payload hash or Authorization field. Put back unchanged,
// the part must verify.
func FuzzSignedParts(f *testing.F) {
	put, get := signedPut(f), presignedGet(f)
	for _, r := range []*http.Request{put, get} {
		if _, e := Verify(r, secrets, at); e != nil {
			f.Fatalf("the unmutated request: %v", e)
		}
	}
	seeds := []struct {
		presigned   bool
		part, which uint8
		value       string
	}{
		{false, partMethod, 0, "GET"}, {false, partMethod, 0, "put"}, {true, partMethod, 0, "DELETE"},
		{false, partPath, 0, "/bucket2"}, {false, partPath, 0, "/Bucket"}, {false, partPath, 0, "/bucket/"}, {true, partPath, 0, "/other"},
		{false, partQuery, 0, "website"}, {false, partQuery, 0, "website=&acl="}, {false, partQuery, 0, "mirroring="}, {false, partQuery, 0, "website=1"},
		{true, partQuery, 0, "website="},
		{false, partHeader, 0, "181"}, {false, partHeader, 1, "application/json"}, {false, partHeader, 1, "  application/xml  "},
		{false, partHeader, 2, "other.gw.test:8080"}, {false, partHeader, 2, "bucket.gw.test:8080"}, {false, partHeader, 3, "AAAAAA=="},
		{false, partHeader, 4, "UNSIGNED-PAYLOAD"}, {true, partHeader, 0, "evil.test"},
		{false, partDate, 0, "20261123T100001Z"}, {false, partDate, 0, "20261123T095959Z"}, {true, partDate, 0, "20261123T100500Z"},
		{false, partPayload, 0, unsignedPayload}, {false, partPayload, 0, strings.Repeat("0", 64)},
		{false, partPayload, 0, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
		{false, partAuthField, 0, testAK + "/20261123/eu-west-3/s3/aws4_request"},
		{false, partAuthField, 1, "host;x-amz-content-sha256;x-amz-date"},
		{false, partAuthField, 2, strings.Repeat("a", 64)},
		{true, partAuthField, 2, "7200"}, {true, partAuthField, 5, strings.Repeat("0", 64)},
		{true, partAuthField, 4, "host;range"}, {true, partAuthField, 1, testAK + "/20261123/us-east-1/s3/aws4_request"},
	}
	for _, s := range seeds {
		f.Add(s.presigned, s.part, s.which, s.value)
	}
	f.Fuzz(func(t *testing.T, presigned bool, part, which uint8, value string) {
		base := put
		if presigned {
			base = get
		}
		r, changed := mutate(base, presigned, part%numParts, which, value)
		ak, e := Verify(r, secrets, at)
		switch {
		case e == nil && changed:
			t.Fatalf("accepted (key %q) a request whose part %d now reads %q", ak, part%numParts, value)
		case e == nil && ak != testAK:
			t.Fatalf("accepted key %q", ak)
		case e != nil && ak != "":
			t.Fatalf("refused with a key %q: %v", ak, e)
		case e != nil && len(e.Message) > 300:
			t.Fatalf("a message of %d bytes", len(e.Message))
		case e != nil && !changed && r.Method == base.Method && value == original(base, presigned, part%numParts, which):
			t.Fatalf("the part put back unchanged, refused: %v", e)
		}
	})
}

// copyRequest is a request of its own with r's method, URL, Host and
// headers.
func copyRequest(r *http.Request) *http.Request {
	c := &http.Request{Method: r.Method, Host: r.Host, Header: r.Header.Clone()}
	u := *r.URL
	c.URL = &u
	return c
}

// signedNames are the base's signed headers, as its signature lists them.
func signedNames(r *http.Request, presigned bool) []string {
	if presigned {
		return strings.Split(r.URL.Query().Get(qSignedHeaders), ";")
	}
	_, list, _ := strings.Cut(r.Header.Get("Authorization"), "SignedHeaders=")
	list, _, _ = strings.Cut(list, ",")
	return strings.Split(list, ";")
}

// presignParams are the presigned query's signed X-Amz-* parameters, by
// which.
var presignParams = []string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature}

// authFields are the Authorization header's fields, by which.
var authFields = []string{"Credential", "SignedHeaders", "Signature"}

// authField returns the value of an Authorization field.
func authField(auth, name string) string {
	_, v, _ := strings.Cut(auth, name+"=")
	v, _, _ = strings.Cut(v, ",")
	return v
}

// original is what part (which) holds in base.
func original(base *http.Request, presigned bool, part, which uint8) string {
	switch part {
	case partMethod:
		return base.Method
	case partPath:
		return base.URL.Path
	case partQuery:
		return base.URL.RawQuery
	case partHeader:
		names := signedNames(base, presigned)
		name := names[int(which)%len(names)]
		if name == "host" {
			return base.Host
		}
		return base.Header.Get(name)
	case partDate:
		if presigned {
			return base.URL.Query().Get(qDate)
		}
		return base.Header.Get("X-Amz-Date")
	case partPayload:
		return base.Header.Get("X-Amz-Content-Sha256")
	case partAuthField:
		if presigned {
			return base.URL.Query().Get(presignParams[int(which)%len(presignParams)])
		}
		return authField(base.Header.Get("Authorization"), authFields[int(which)%len(authFields)])
	}
	return ""
}

// spaces are the runs SigV4 makes one space in a header's value.
var spaces = regexp.MustCompile(` {2,}`)

// canonicalValue is a header value as SigV4 compares it: trimmed, each
// run of spaces one space.
func canonicalValue(v string) string { return spaces.ReplaceAllString(strings.TrimSpace(v), " ") }

// pairs is a query as its signature covers it: every name=value pair,
// sorted; ok is false when it does not parse.
func pairs(raw string, presigned bool) (p []string, ok bool) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	for name, values := range q {
		if presigned && name == qSignature {
			continue
		}
		for _, v := range values {
			p = append(p, name+"\x00"+v)
		}
	}
	slices.Sort(p)
	return p, true
}

// mutate is base with part (which) replaced by value, and whether that
// changed what the part means.
func mutate(base *http.Request, presigned bool, part, which uint8, value string) (*http.Request, bool) {
	r := copyRequest(base)
	old := original(base, presigned, part, which)
	switch part {
	case partMethod:
		r.Method = value
		return r, value != old
	case partPath:
		r.URL.Path, r.URL.RawPath = value, ""
		return r, strings.TrimPrefix(value, "/") != strings.TrimPrefix(old, "/") || value == ""
	case partQuery:
		r.URL.RawQuery = value
		was, _ := pairs(old, presigned)
		now, ok := pairs(value, presigned)
		if presigned {
			// The signature itself is no signed part, but it must stay.
			q, _ := url.ParseQuery(value)
			ok = ok && q.Get(qSignature) == base.URL.Query().Get(qSignature)
		}
		return r, !ok || !slices.Equal(was, now)
	case partHeader:
		names := signedNames(base, presigned)
		name := names[int(which)%len(names)]
		if name == "host" {
			r.Host = value
		} else {
			r.Header.Set(name, value)
		}
		return r, canonicalValue(value) != canonicalValue(old)
	case partDate:
		if presigned {
			return setParam(r, qDate, value), value != old
		}
		r.Header.Set("X-Amz-Date", value)
		return r, value != old
	case partPayload:
		r.Header.Set("X-Amz-Content-Sha256", value)
		// A presigned URL signs UNSIGNED-PAYLOAD whatever the header says.
		return r, value != old && !presigned
	case partAuthField:
		if presigned {
			return setParam(r, presignParams[int(which)%len(presignParams)], value), value != old
		}
		name := authFields[int(which)%len(authFields)]
		auth := r.Header.Get("Authorization")
		r.Header.Set("Authorization", strings.Replace(auth, name+"="+old, name+"="+value, 1))
		return r, value != old
	}
	return r, false
}

// setParam sets one query parameter, keeping the others as they are.
func setParam(r *http.Request, name, value string) *http.Request {
	q := r.URL.Query()
	q.Set(name, value)
	r.URL.RawQuery = q.Encode()
	return r
}

// BenchmarkVerify is the cost of one verification that succeeds (every
// HMAC and the canonical request computed), for the header form of a
// PUT ?website as the S3 SDK signs it and for a presigned GET.
func BenchmarkVerify(b *testing.B) {
	for _, c := range []struct {
		name string
		r    *http.Request
	}{{"header-PUT-website", signedPut(b)}, {"presigned-GET-website", presignedGet(b)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, e := Verify(c.r, secrets, at.Add(time.Minute)); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}
