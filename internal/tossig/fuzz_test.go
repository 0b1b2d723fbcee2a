package tossig

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzSeed is one request the SDK's signer signed, as the fuzz target's
// arguments, and what its signature covers.
type fuzzSeed struct {
	method, path, query, auth, tosDate, date, host, meta, sha string
	presigned                                                 bool
	signed                                                    map[string]bool // the signed header names
}

// fuzzSeeds are requests the SDK signed at at: header-signed and
// presigned, path-style and virtual-host, with and without user metadata
// and a body hash.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	sum := sha256.Sum256([]byte(`{"Rules":[]}`))
	type spec struct {
		method, host, path string
		query              url.Values
		meta, sha          string
		presigned          bool
	}
	var seeds []fuzzSeed
	for _, s := range []spec{
		{"PUT", "gw.test:8080", "/bucket", url.Values{"mirror": {""}}, " m  1 ", "", false},
		{"PUT", "bucket.gw.test", "/", url.Values{"mirror": {""}}, "", hex.EncodeToString(sum[:]), false},
		{"GET", "gw.test", "/bucket/日本/a b+c", url.Values{"x": {"2", "1"}, "y": {""}}, "", unsignedPayload, false},
		{"DELETE", "gw.test", "/bucket", url.Values{"mirror": {""}}, "", "", false},
		{"GET", "gw.test:8080", "/bucket", url.Values{"mirror": {""}}, "", "", true},
		{"GET", "gw.test", "/bucket/a%2Fb c", url.Values{"response-content-type": {"text/plain"}}, "v", hex.EncodeToString(sum[:]), true},
	} {
		h := http.Header{}
		if s.meta != "" {
			h.Set("X-Tos-Meta-A", s.meta)
		}
		if s.sha != "" {
			h.Set(ContentSHA256, s.sha)
		}
		req := sdkRequest(s.method, s.host, s.path, s.query, h)
		var r *http.Request
		if s.presigned {
			r = presign(t, req, testAK, testSK, at, time.Hour)
		} else {
			r = signHeader(t, req, testAK, testSK, at)
		}
		seed := fuzzSeed{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, auth: r.Header.Get("Authorization"),
			tosDate: r.Header.Get("X-Tos-Date"), date: r.Header.Get("Date"), host: r.Host, meta: r.Header.Get("X-Tos-Meta-A"),
			sha: r.Header.Get(ContentSHA256), presigned: s.presigned, signed: map[string]bool{}}
		var names string
		if s.presigned {
			names = r.URL.Query().Get(qSignedHeaders)
		} else {
			_, after, _ := strings.Cut(seed.auth, "SignedHeaders=")
			names, _, _ = strings.Cut(after, ",")
		}
		for _, n := range strings.Split(names, ";") {
			seed.signed[n] = true
		}
		seeds = append(seeds, seed)
	}
	return seeds
}

// FuzzVerify feeds Verify requests made from signed ones by changing any
// of their parts: method, path, query, Authorization, X-Tos-Date, Date,
// Host, a user-metadata header and X-Tos-Content-Sha256. It must never
// panic, accept only the key that signed, and refuse every request whose
// signed parts differ in meaning from what the SDK signed: an accepted
// request's signature must be one of the seeds', and its method, path,
// parsed query, signed header values and payload hash that seed's.
// Unsigned headers (X-Tos-Date on a presigned URL, say) may change.
func FuzzVerify(f *testing.F) {
	seeds := fuzzSeeds(f)
	bySignature := map[string]fuzzSeed{}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.auth, s.tosDate, s.date, s.host, s.meta, s.sha)
		bySignature[signatureOf(s.auth, s.query)] = s
	}
	for _, broken := range [][9]string{
		{"GET", "/", "", "TOS4-HMAC-SHA256 ,,,,Credential=//////", "", "", "gw.test", "", ""},
		{"GET", "/b", "X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Expires=99999999999999999999", "", "", "", "gw.test", "", ""},
		{"PUT", "/b", "a=%zz;b", "TOS4-HMAC-SHA256 Credential=AKLTtest/20261123/r/tos/request,SignedHeaders=host,Signature=00", "20261123T100000Z", "", "gw.test", "", "xyz"},
	} {
		f.Add(broken[0], broken[1], broken[2], broken[3], broken[4], broken[5], broken[6], broken[7], broken[8])
	}
	f.Fuzz(func(t *testing.T, method, path, query, auth, tosDate, date, host, meta, sha string) {
		r := &http.Request{Method: method, Host: host, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		for name, v := range map[string]string{"Authorization": auth, "X-Tos-Date": tosDate, "Date": date, "X-Tos-Meta-A": meta, ContentSHA256: sha} {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		ak, e := Verify(r, secrets, at)
		switch {
		case e != nil && ak != "":
			t.Fatalf("refused with a key %q: %v", ak, e)
		case e != nil && len(e.Message) > 300:
			t.Fatalf("a message of %d bytes", len(e.Message))
		case e != nil:
			return
		case ak != testAK:
			t.Fatalf("accepted key %q", ak)
		}
		s, ok := bySignature[signatureOf(auth, query)]
		if !ok {
			t.Fatalf("accepted a signature no seed carries: %q %q", auth, query)
		}
		got := fuzzSeed{method: method, path: path, query: query, tosDate: tosDate, date: date, host: host, meta: meta, sha: sha}
		if why := differs(s, got); why != "" {
			t.Fatalf("accepted with its %s changed (seed %+v)", why, s)
		}
	})
}

// signatureOf is the signature a request carries, in the header or the
// query.
func signatureOf(auth, query string) string {
	if auth != "" {
		for _, f := range strings.Split(auth, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(f), "Signature="); ok {
				return v
			}
		}
		return ""
	}
	q, _ := url.ParseQuery(query)
	return q.Get(qSignature)
}

// differs names the first signed part of got whose meaning is not
// seed's, or "".
func differs(seed, got fuzzSeed) string {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	path := func(p string) string {
		if p == "" {
			return "/"
		}
		return p
	}
	query := func(raw string) url.Values {
		q, _ := url.ParseQuery(raw)
		delete(q, qSignature)
		return q
	}
	hash := func(s fuzzSeed) string {
		switch {
		case s.sha != "":
			return s.sha
		case seed.presigned:
			return unsignedPayload
		}
		return emptySHA256
	}
	switch {
	case got.method != seed.method:
		return "method"
	case path(got.path) != path(seed.path):
		return "path"
	case !reflect.DeepEqual(query(got.query), query(seed.query)):
		return "query"
	case norm(got.host) != norm(seed.host):
		return "host"
	case seed.signed["x-tos-date"] && norm(got.tosDate) != norm(seed.tosDate):
		return "X-Tos-Date"
	case seed.signed["date"] && norm(got.date) != norm(seed.date):
		return "Date"
	case seed.signed["x-tos-meta-a"] && norm(got.meta) != norm(seed.meta):
		return "X-Tos-Meta-A"
	case hash(got) != hash(seed):
		return "payload hash"
	}
	return ""
}

// The seeds verify as they are, and each part changed alone is refused
// unless the change keeps its meaning or the part is not signed: the fuzz
// target's property holds on its own seeds.
func TestFuzzSeeds(t *testing.T) {
	build := func(s fuzzSeed) *http.Request {
		r := &http.Request{Method: s.method, Host: s.host, URL: &url.URL{Path: s.path, RawQuery: s.query}, Header: http.Header{}}
		for name, v := range map[string]string{"Authorization": s.auth, "X-Tos-Date": s.tosDate, "Date": s.date, "X-Tos-Meta-A": s.meta, ContentSHA256: s.sha} {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		return r
	}
	edits := map[string]func(*fuzzSeed){
		"method":  func(s *fuzzSeed) { s.method = "POST" },
		"path":    func(s *fuzzSeed) { s.path += "x" },
		"query":   func(s *fuzzSeed) { s.query += "&z=1" },
		"host":    func(s *fuzzSeed) { s.host = "x" + s.host },
		"tosDate": func(s *fuzzSeed) { s.tosDate = "20261123T100001Z" },
		"date":    func(s *fuzzSeed) { s.date = "20261123T100001Z" },
		"meta":    func(s *fuzzSeed) { s.meta += "x" },
		"sha":     func(s *fuzzSeed) { s.sha = strings.Repeat("a", 64) },
		"spaces":  func(s *fuzzSeed) { s.meta = " " + s.meta + "  " },
	}
	for i, seed := range fuzzSeeds(t) {
		if _, e := Verify(build(seed), secrets, at); e != nil {
			t.Fatalf("seed %d: %v", i, e)
		}
		for name, edit := range edits {
			m := seed
			edit(&m)
			_, e := Verify(build(m), secrets, at)
			if changed := differs(seed, m); (changed != "") != (e != nil) {
				t.Errorf("seed %d, %s edited: changed %q, verdict %v", i, name, changed, e)
			}
		}
	}
}
