package bucketconfig

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/mirrorkit/mirror"
)

// Policy says who may read a bucket's objects through the object path
// (docs/SERVING.md §1.1).
type Policy string

// The read policies.
const (
	// Private: every read must be signed by a key whose scope covers the
	// bucket.
	Private Policy = "private"
	// PublicRead: anyone may read; a signed read is still verified.
	PublicRead Policy = "public-read"
)

// ParsePolicy reads a policy's name, as x-bce-acl and x-amz-acl carry it.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case Private, PublicRead:
		return p, nil
	}
	return "", fmt.Errorf("the read policy %q is not %q or %q", s, Private, PublicRead)
}

// DefaultPolicy is the policy of a bucket that has none stored: private
// when the rules in force can reach a private source, a bos:// or s3://
// origin (fetched with the bucket owner's credentials) or an origin sent
// credentials (an Authorization, Cookie or token header the rules set or
// pass on from the reader, every header passed with "*", or a user in
// the URL); public-read otherwise. A mirror that fetches with the owner's
// keys would otherwise hand anyone the private source (docs/SERVING.md
// §1.1). A Registry makes the answer sticky: once a bucket's rules made
// it private, a private record is stored.
func DefaultPolicy(eng *mirror.Engine) Policy {
	if eng == nil {
		return PublicRead
	}
	for i := range eng.Len() {
		r := eng.Rule(i)
		urls := append([]string{r.SourceURL, r.BackSourceURL}, r.SourceURLs...)
		for _, u := range append(urls, r.BackSourceURLs...) {
			if len(u) >= 6 && strings.EqualFold(u[:6], "bos://") || len(u) >= 5 && strings.EqualFold(u[:5], "s3://") {
				return Private
			}
			if p, err := url.Parse(u); err == nil && p.User != nil {
				return Private
			}
		}
		for _, h := range r.CustomHeaders {
			if credentialHeader(h.Name) {
				return Private
			}
		}
		for _, name := range r.PassHeaders {
			if name == "*" || credentialHeader(name) {
				return Private
			}
		}
	}
	return PublicRead
}

// credentialHeader reports whether a header a rule sets or passes looks
// like a credential: Authorization, Cookie, a storage vendor's or an
// access proxy's namespace, or any name that speaks of a token, a key, a
// secret, a session, a signature, a password or auth. It errs on the side
// of private: a public bucket is one explicit policy away.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, p := range []string{"x-amz-", "x-bce-", "x-oss-", "oss-", "x-cos-", "x-obs-", "x-tos-", "x-goog-", "x-ms-",
		"x-qs-", "cf-access-"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, w := range []string{"token", "auth", "key", "secret", "session", "sign", "cred", "pass", "jwt", "hmac",
		"bearer", "cookie", "ticket"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
