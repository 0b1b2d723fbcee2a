package bce

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// maxPresignExpire is the longest EXPIRE a presigned URL may carry: one
// week, S3's limit for its presigned URLs (sigv4.MaxExpires). bce-sdk-go
// lets a URL live as long as its maker asks, and a URL is often made to
// be handed on, so the header's 3600 s would refuse URLs in real use; but
// a URL good for years is a credential nobody can take back short of
// retiring the key, so the gateway draws the same line for every scheme.
const maxPresignExpire = 7 * 24 * 3600

// VerifyRequest checks a request signed either way bce-sdk-go signs: the
// Authorization header, exactly as Verify checks it, or a presigned URL
// (bos.Client.GeneratePresignedUrl), whose query carries the same auth
// string as "authorization" and whose canonical query is every other
// parameter. The object path (docs/SERVING.md §1) takes both; the
// configuration API keeps to Verify.
//
// A presigned URL's EXPIRE may be up to a week (maxPresignExpire). Its
// query must parse and hold each name once: bce-sdk-go's parameters are a
// map, so a name given twice was not signed, and the signature would
// cover only its first value. A request that carries both the header and
// the query parameter is refused as malformed: it is not for the gateway
// to pick which one counts.
func VerifyRequest(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	inQuery := 0
	for name, values := range query {
		if strings.EqualFold(name, "authorization") {
			inQuery += len(values)
		}
	}
	if err != nil && inQuery == 0 && strings.Contains(strings.ToLower(r.URL.RawQuery), "authorization") {
		// url.ParseQuery stops at too many parameters: one that does
		// not parse may have hidden an authorization parameter.
		inQuery = 1
	}
	switch {
	case inQuery == 0:
		return Verify(r, secret, now)
	case len(r.Header.Values("Authorization")) > 0:
		return "", httpapi.Fail(httpapi.MalformedAuthorization,
			"the request is signed both in the Authorization header and in the query")
	case err != nil:
		return "", httpapi.Fail(httpapi.MalformedAuthorization, "the query string does not parse")
	}
	params := make(map[string]string, len(query))
	for name, values := range query {
		if len(values) != 1 {
			return "", httpapi.Fail(httpapi.MalformedAuthorization,
				"a query parameter is given more than once")
		}
		params[name] = values[0]
	}
	auth, ok := params["authorization"]
	if !ok || inQuery != 1 {
		return "", httpapi.Fail(httpapi.MalformedAuthorization,
			`a presigned URL carries one "authorization" query parameter, in lower case`)
	}
	return verify(r, authString{auth, "the authorization query parameter", maxPresignExpire}, params, secret, now)
}
