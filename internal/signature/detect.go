package signature

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/mirrorkit/mirror/internal/bce"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigv4"
)

// A scheme is a signature scheme detect can tell.
type scheme int

const (
	schemeSigV4 scheme = iota
	schemeBCE
	schemeQS
	schemeNone
)

// The Authorization header's prefix of each scheme.
var headerPrefixes = [...]string{
	schemeSigV4: sigv4.Algorithm + " ",
	schemeBCE:   bce.Version + "/",
	schemeQS:    "QS ",
}

// unsupported is the failure of a signature the gateway does not take.
func unsupported() *httpapi.Error {
	return httpapi.Fail(httpapi.AccessDenied, "unsupported signature scheme")
}

// twoSignatures is the failure of a request signed more than once.
func twoSignatures() *httpapi.Error {
	return httpapi.Fail(httpapi.MalformedAuthorization, "the request carries more than one signature")
}

// detect finds the one scheme r is signed with, schemeNone when r carries
// no signature, or the failure of a request signed in a way the gateway
// does not take or in more than one way.
//
// The query is read name by name from the raw text, each name decoded when
// it decodes, so that nothing url.ParseQuery would drop (a bad escape, a
// ';', a query over its parameter limit) can hide a signature and make a
// signed request look anonymous; the scheme's own check then parses the
// query strictly. Names are compared case-insensitively for the same
// reason, the scheme's check holding them to their exact spelling.
// The work is one pass over the query.
func detect(r *http.Request) (scheme, *httpapi.Error) {
	found := schemeNone
	auths := r.Header.Values("Authorization")
	if len(auths) > 1 {
		return schemeNone, twoSignatures()
	}
	if len(auths) == 1 {
		s := schemeOfHeader(auths[0])
		if s == schemeNone {
			return schemeNone, unsupported()
		}
		found = s
	}
	inQuery := schemeNone
	for rest := r.URL.RawQuery; rest != ""; {
		var pair string
		pair, rest, _ = cutAny(rest, "&;")
		name, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		s, other := schemeOfParam(name)
		if other {
			return schemeNone, unsupported()
		}
		if s != schemeNone {
			if inQuery != schemeNone && inQuery != s {
				return schemeNone, twoSignatures()
			}
			inQuery = s
		}
	}
	if inQuery != schemeNone {
		if found != schemeNone {
			// Even of one scheme: a header and a presigned query at
			// once is each scheme's own "malformed" too.
			return schemeNone, twoSignatures()
		}
		found = inQuery
	}
	return found, nil
}

// schemeOfHeader is the scheme an Authorization header's prefix names.
func schemeOfHeader(auth string) scheme {
	for s, prefix := range headerPrefixes {
		if strings.HasPrefix(auth, prefix) {
			return scheme(s)
		}
	}
	return schemeNone
}

// schemeOfParam is the scheme a query parameter's name belongs to, if
// any, or unsupported for S3's signature version 2 presigned URLs
// (AWSAccessKeyId, Signature): QingStor's "signature" is only ever lower
// case, so any other spelling of it is taken for version 2's.
func schemeOfParam(name string) (s scheme, unsupported bool) {
	switch {
	case strings.EqualFold(name, "X-Amz-Algorithm"), strings.EqualFold(name, "X-Amz-Credential"),
		strings.EqualFold(name, "X-Amz-Signature"):
		return schemeSigV4, false
	case strings.EqualFold(name, "authorization"):
		return schemeBCE, false
	case name == "signature", strings.EqualFold(name, "access_key_id"):
		return schemeQS, false
	case strings.EqualFold(name, "signature"), strings.EqualFold(name, "AWSAccessKeyId"):
		return schemeNone, true
	}
	return schemeNone, false
}

// cutAny cuts s around the first byte of seps.
func cutAny(s, seps string) (before, after string, found bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
