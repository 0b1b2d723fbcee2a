package bce

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// maxHeaderExpire is the longest EXPIRE the Authorization header may carry.
const maxHeaderExpire = 3600

// Verify checks a request's BCE auth v1 signature (docs/SERVING.md §4.3):
// "bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE", host among
// the signed headers, the timestamp at most httpapi.MaxClockSkew ahead, not
// past TIMESTAMP + EXPIRE, EXPIRE at most 3600 s. secret gives an access
// key's secret. It returns the access key; what the key may do is the
// caller's to judge.
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", httpapi.Fail(httpapi.AccessDenied, "the request is not signed")
	}
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	return verify(r, authString{auth, "the Authorization header", maxHeaderExpire}, params, secret, now)
}

// authString is an auth string, where it came from (for messages) and
// the longest EXPIRE that place allows.
type authString struct {
	text, where string
	maxExpire   int
}

// verify checks an auth string against the request, the query taken as
// params (authorization, if there, is left out of the canonical query).
func verify(r *http.Request, a authString, params map[string]string,
	secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	malformed := func(why string) (string, *httpapi.Error) {
		return "", httpapi.Fail(httpapi.MalformedAuthorization, a.where+" is invalid: "+why)
	}
	parts := strings.Split(a.text, "/")
	if len(parts) != 6 || parts[0] != Version {
		return malformed("want bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE")
	}
	ak, stamp, expireText, signedText, sig := parts[1], parts[2], parts[3], parts[4], parts[5]
	ts, err := time.Parse(TimeFormat, stamp)
	if err != nil {
		return malformed("the timestamp is not YYYY-MM-DDThh:mm:ssZ")
	}
	expire, err := strconv.Atoi(expireText)
	if err != nil || expire <= 0 || expire > a.maxExpire || strconv.Itoa(expire) != expireText {
		return malformed("the expiration is not 1 to " + strconv.Itoa(a.maxExpire) + " seconds")
	}
	signed := strings.Split(signedText, ";")
	hasHost := false
	for _, name := range signed {
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return malformed("host must be a signed header")
	}
	sk, known := secret(ak)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist in our records")
	}
	if ts.After(now.Add(httpapi.MaxClockSkew)) || now.After(ts.Add(time.Duration(expire)*time.Second)) {
		return "", httpapi.Fail(httpapi.RequestExpired, "the request has expired: its timestamp is "+stamp)
	}
	headers := make(map[string]string, len(signed))
	for _, name := range signed {
		if name == "host" {
			headers[name] = r.Host
		} else {
			headers[name] = r.Header.Get(name)
		}
	}
	canonicalHeaders, _ := CanonicalHeaders(headers)
	prefix := strings.Join(parts[:4], "/")
	want := Signature(sk, prefix, r.Method, URIEncode(r.URL.Path, false), CanonicalQuery(params), canonicalHeaders)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "the request signature we calculated does not match the signature you provided")
	}
	return ak, nil
}
