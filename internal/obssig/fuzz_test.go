package obssig

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// A base is a request signed by the SDK's code, and how it is verified.
type base struct {
	name    string
	form    *form
	virtual bool // the bucket is in the Host, under domain
	query   bool // a presigned URL
	make    func(testing.TB) *http.Request
}

var bases = []base{
	{"OBS header", obsForm, false, false, func(t testing.TB) *http.Request { return signedHeader(t, obsForm, false, testSK) }},
	{"AWS header", awsForm, false, false, func(t testing.TB) *http.Request { return signedHeader(t, awsForm, false, testSK) }},
	{"OBS header, virtual host", obsForm, true, false, func(t testing.TB) *http.Request { return signedHeader(t, obsForm, true, testSK) }},
	{"OBS presigned", obsForm, false, true, func(t testing.TB) *http.Request { return signedQuery(t, at.Add(time.Hour)) }},
}

// verifyBase verifies r as the gateway would verify b's kind: the
// configuration API's VerifyHeader for a header signature, Verify for a
// presigned URL; the bucket from the Host as the router finds it.
func verifyBase(b base, r *http.Request) (string, *httpapi.Error) {
	if b.query {
		return VerifyIn(r, hostBucket(r), secrets, at)
	}
	return VerifyHeader(r, hostBucket(r), secrets, at)
}

// signedView is every part of r a signature in form f covers, by the
// scheme's definition rather than by stringToSign: the method, the bucket
// the gateway finds and the path as sent, Content-MD5, Content-Type, the
// Date (a presigned URL's Expires instead), every header and query parameter of f's prefix, every
// sub-resource, the access key. Two requests with the same view are the
// same request to the gateway; the fuzzer holds Verify to never accepting
// a mutated request whose view differs from its base's.
func signedView(r *http.Request, f *form, query bool) string {
	var parts []string
	add := func(s ...string) { parts = append(parts, strings.Join(s, "\x00")) }
	add("method", r.Method)
	add("bucket", hostBucket(r))
	add("path", r.URL.EscapedPath())
	for _, name := range []string{"Content-Md5", "Content-Type", "Date", "Authorization"} {
		if name == "Date" && query {
			continue // Expires stands for it
		}
		add(name, strings.Join(r.Header.Values(name), "\x01"))
	}
	var names []string
	for key, values := range r.Header {
		if lower := strings.ToLower(key); strings.HasPrefix(lower, f.prefix) {
			if strings.HasPrefix(lower, f.prefix+"meta-") {
				values = slices.Clone(values)
				for i := range values {
					values[i] = strings.TrimSpace(values[i])
				}
			}
			names = append(names, key+"\x00"+strings.Join(values, "\x01"))
		}
	}
	slices.Sort(names)
	add(names...)
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		add("query", r.URL.RawQuery)
	}
	var params []string
	for name, values := range q {
		lower := strings.ToLower(name)
		if subresources[lower] || strings.HasPrefix(lower, f.prefix) ||
			(query && (name == "AccessKeyId" || name == "Expires" || name == "Signature")) {
			params = append(params, name+"\x00"+strings.Join(values, "\x01"))
		}
	}
	slices.Sort(params)
	add(params...)
	return strings.Join(parts, "\n")
}

// FuzzVerify mutates one part of a signed request (each base, each kind of
// part) and verifies it. It must never panic, never answer with a long
// message, never accept another key, and never accept a request whose
// signed parts (signedView) differ from its base's: a mutation of the
// method, the path, a signed header, the date, the query's signed
// parameters, the Authorization or the bucket named in the Host. The body
// is covered by Content-MD5, a signed header (the configuration API
// holds the body to it).
func FuzzVerify(f *testing.F) {
	for b := range bases {
		for part := range numParts {
			f.Add(uint8(b), uint8(part), "")
			f.Add(uint8(b), uint8(part), "x")
		}
	}
	f.Add(uint8(0), uint8(partQuery), "mirrorBackToSource&acl")
	f.Add(uint8(0), uint8(partPath), "my-bucket/")
	f.Add(uint8(2), uint8(partHost), "my-bucket.gw.test:80")
	f.Add(uint8(2), uint8(partHost), "other."+domain)
	f.Add(uint8(3), uint8(partAppendQuery), "Signature=x")
	f.Add(uint8(3), uint8(partQuery), "AccessKeyId=OBSTESTAK&Expires=1795000000&Signature=x")
	f.Add(uint8(1), uint8(partHeader), " b")
	f.Add(uint8(0), uint8(partDate), at.Format(http.TimeFormat))
	f.Add(uint8(0), uint8(partAuth), "OBS OBSTESTAK:")
	reqs := make([]*http.Request, len(bases))
	for i, b := range bases {
		reqs[i] = b.make(f)
	}
	f.Fuzz(func(t *testing.T, which, part uint8, value string) {
		b := bases[int(which)%len(bases)]
		orig := reqs[int(which)%len(bases)]
		r := orig.Clone(orig.Context())
		r.URL = new(url.URL)
		*r.URL = *orig.URL
		mutate(r, b.form, int(part)%numParts, value)
		ak, e := verifyBase(b, r)
		switch {
		case e != nil && ak != "":
			t.Fatalf("refused with a key %q: %v", ak, e)
		case e != nil && len(e.Message) > 300:
			t.Fatalf("a message of %d bytes", len(e.Message))
		case e == nil && ak != testAK:
			t.Fatalf("accepted key %q", ak)
		case e == nil && signedView(r, b.form, b.query) != signedView(orig, b.form, b.query):
			t.Fatalf("%s: accepted with a signed part changed:\n%s\n-- was --\n%s", b.name,
				signedView(r, b.form, b.query), signedView(orig, b.form, b.query))
		}
	})
}

// The parts mutate changes.
const (
	partMethod = iota
	partPath
	partRawPath
	partMD5
	partContentType
	partDate
	partTimeHeader
	partHeader
	partNewHeader
	partQuery
	partAppendQuery
	partAuth
	partHost
	numParts
)

// mutate sets one part of r to value.
func mutate(r *http.Request, f *form, part int, value string) {
	switch part {
	case partMethod:
		r.Method = value
	case partPath:
		r.URL.Path, r.URL.RawPath = "/"+value, ""
	case partRawPath:
		r.URL.RawPath = "/" + value
	case partMD5:
		r.Header.Set("Content-Md5", value)
	case partContentType:
		r.Header.Set("Content-Type", value)
	case partDate:
		r.Header.Set("Date", value)
	case partTimeHeader:
		r.Header.Set(f.dateHeader, value)
	case partHeader:
		r.Header.Set(f.prefix+"meta-a", value)
	case partNewHeader:
		r.Header.Set(f.prefix+value, "v")
	case partQuery:
		r.URL.RawQuery = value
	case partAppendQuery:
		r.URL.RawQuery += "&" + value
	case partAuth:
		r.Header.Set("Authorization", value)
	case partHost:
		r.Host = value
	}
}

// BenchmarkVerify measures a verification that succeeds, in each form.
func BenchmarkVerify(b *testing.B) {
	for _, base := range bases {
		b.Run(strings.ReplaceAll(base.name, " ", "-"), func(b *testing.B) {
			r := base.make(b)
			if _, e := verifyBase(base, r); e != nil {
				b.Fatal(e)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = verifyBase(base, r)
			}
		})
	}
}
