// Package sigtest is what the tests of the signature packages
// (internal/bce, internal/qs, internal/sigv4, internal/signature) share:
// the instant they sign at, a key's secrets, and the check of one verdict.
// Only tests import it.
package sigtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// At is when the tests sign.
var At = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// Secrets is a secret lookup that knows one key.
func Secrets(ak, sk string) func(string) (string, bool) {
	return func(id string) (string, bool) {
		if id == ak {
			return sk, true
		}
		return "", false
	}
}

// Verdict is a verifier's answer: the access key, or why not.
type Verdict func() (string, *httpapi.Error)

// Expect holds a verdict to want (-1: accepted, as key ak).
func Expect(t *testing.T, v Verdict, want httpapi.Failure, ak string) {
	t.Helper()
	got, e := v()
	failure := httpapi.Failure(-1)
	if e != nil {
		failure = e.Failure
	}
	if failure != want {
		t.Errorf("failure %d (%v), want %d", failure, e, want)
	}
	if want == -1 && got != ak {
		t.Errorf("access key %q, want %q", got, ak)
	}
}

// Received is a request for target (an absolute URL) with header, as a
// server reads it off the wire.
func Received(t testing.TB, method, target string, header http.Header) *http.Request {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, u.RequestURI(), nil)
	r.Host = u.Host
	for k, v := range header {
		r.Header[k] = append([]string(nil), v...)
	}
	return r
}

// Case is one request a verifier judges: made, edited, then judged at
// Now, wanting Want (-1: accepted).
type Case struct {
	Name string
	Req  func(t *testing.T) *http.Request
	Edit func(*http.Request)
	Now  time.Time
	Want httpapi.Failure
}
