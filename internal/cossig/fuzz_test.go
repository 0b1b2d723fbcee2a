package cossig

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// A signature's signed parts, in the terms the scheme signs them: the
// method lower-cased, the path, the Host, the query parameters with their
// names' ASCII letters lower-cased and each name's values sorted, the
// values of the headers the signature named, sorted, and q-key-time.
// Two requests with the same signed parts carry the same signature.
func signedParts(r *http.Request, headers []string, keyTime string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method) + "\n" + r.URL.Path + "\n" + r.Host + "\n" + keyTime + "\n")
	q, _ := url.ParseQuery(r.URL.RawQuery)
	params := map[string][]string{}
	for k, v := range q {
		if slices.Contains(members[:], k) || (k == mergedParam && isMerged(v[0])) {
			continue
		}
		params[asciiLower(k)] = append(params[asciiLower(k)], v...)
	}
	var names []string
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := params[k]
		slices.Sort(v)
		b.WriteString("?" + k + "=" + strings.Join(v, "\x00") + "\n")
	}
	for _, h := range headers {
		if h == "host" {
			continue
		}
		v := slices.Clone(r.Header.Values(h))
		slices.Sort(v)
		b.WriteString(h + ":" + strings.Join(v, "\x00") + "\n")
	}
	return b.String()
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// authOf is the auth string a request carries, parsed, if it parses.
func authOf(r *http.Request) (auth, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		a, e := parse(h)
		return a, e == nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return auth{}, false
	}
	a, e := fromQuery(q)
	return a, e == nil
}

// fuzzRequest is the request FuzzVerify judges: its parts, a fixed
// Content-Length of 0, and each other header when not empty.
func fuzzRequest(method, host, path, query, authorization, contentMD5, contentType, meta string) *http.Request {
	r := &http.Request{Method: method, Host: host, URL: &url.URL{Path: path, RawQuery: query},
		Header: http.Header{"Content-Length": {"0"}}}
	for name, v := range map[string]string{"Authorization": authorization, "Content-Md5": contentMD5,
		"Content-Type": contentType, "X-Cos-Meta-A": meta} {
		if v != "" {
			r.Header.Set(name, v)
		}
	}
	return r
}

// FuzzVerify feeds Verify requests made from SDK-signed ones: method,
// Host, path, query, Authorization and three signable headers, each
// mutated. It must never panic, never take a key but the one it signed
// with, and never accept a request whose signed parts (method, path, Host,
// query, the signed headers' values, the time) differ from those the
// signature it carries was made over: a signature forged by chance is out
// of reach, so an acceptance the fuzzer finds is a signature reused on
// other parts, which a verifier that leaves a part out would take. Every
// refusal's message is short.
func FuzzVerify(f *testing.F) {
	type made struct {
		headers []string
		parts   string
	}
	signatures := map[string]made{}
	meta := http.Header{"X-Cos-Meta-A": {"b c"}, "Content-Type": {"text/plain"}, "Content-Length": {"0"}}
	for _, r := range []*http.Request{
		putRequest(f),
		signed(f, "GET", "http://"+bucketHost+"/a%20b/%E6%97%A5?response-content-type=text%2Fhtml&x=1&x=2", meta, testSK, at, time.Hour),
		presigned(f, time.Hour),
		presigned(f, time.Hour, true),
	} {
		a, ok := authOf(r)
		if !ok {
			f.Fatalf("seed %s does not carry a signature", r.URL)
		}
		headers := strings.Split(a.headerList, ";")
		signatures[a.signature] = made{headers, signedParts(r, headers, a.span)}
		f.Add(r.Method, r.Host, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Md5"),
			r.Header.Get("Content-Type"), r.Header.Get("X-Cos-Meta-A"))
	}
	f.Add("GET", bucketHost, "/k", "q-ak=COSAK&sign=q-sign-algorithm%3Dsha1", "", "", "", "")
	f.Add("GET", bucketHost, "/k", "", "q-sign-algorithm=sha1&q-ak=&q-sign-time=1;0&q-key-time=1;0&q-header-list=&q-url-param-list=&q-signature=", "", "", "")
	f.Fuzz(func(t *testing.T, method, host, path, query, authorization, contentMD5, contentType, meta string) {
		r := fuzzRequest(method, host, path, query, authorization, contentMD5, contentType, meta)
		ak, e := Verify(r, secrets, at)
		if e != nil {
			if ak != "" {
				t.Fatalf("refused with a key %q: %v", ak, e)
			}
			if len(e.Message) > 300 {
				t.Fatalf("a message of %d bytes", len(e.Message))
			}
			return
		}
		if ak != testAK {
			t.Fatalf("accepted key %q", ak)
		}
		a, ok := authOf(r)
		if !ok {
			t.Fatalf("accepted a request whose signature does not parse")
		}
		m, known := signatures[a.signature]
		if !known {
			t.Fatalf("accepted a signature nobody made: %s", a.signature)
		}
		if got := signedParts(r, m.headers, a.span); got != m.parts {
			t.Fatalf("accepted a signature over other parts:\n%q\nwas made over\n%q", got, m.parts)
		}
	})
}
