// Package cossig is Tencent COS's request signature, as
// github.com/tencentyun/cos-go-sdk-v5 computes it: the configuration API
// checks the COS SDK's requests with it (Verify, the Authorization
// header), and the object path can check COS clients' reads with it
// (Verify takes a presigned URL too; Claims says a request is COS's).
//
//	auth string  = q-sign-algorithm=sha1&q-ak=AK&q-sign-time=START;END&q-key-time=START;END
//	               &q-header-list=NAMES&q-url-param-list=NAMES&q-signature=SIG
//	SignKey      = hex(HMAC-SHA1(SK, q-key-time))
//	HttpString   = lower(METHOD) "\n" PATH "\n" PARAMS "\n" HEADERS "\n"
//	StringToSign = "sha1\n" q-key-time "\n" hex(SHA1(HttpString)) "\n"
//	SIG          = hex(HMAC-SHA1(SignKey, StringToSign))
//
// PARAMS and HEADERS are the signed query parameters and headers, each
// "lower(escape(name))=escape(value)", sorted, joined by "&"; NAMES are
// their names, sorted, joined by ";".
//
// Verify does not compute that itself: it hands the request's signed
// parts (its method, path, Host, the headers q-header-list names, its
// query parameters) and the secret to the SDK's own exported signer,
// cos.AddAuthorizationHeader, and compares what the SDK writes with what
// the request carries. The SDK is a dependency of this module already; the
// signer it links in costs the binary about 0.4 MB.
package cossig

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// Algorithm is the one q-sign-algorithm COS defines.
const Algorithm = "sha1"

// The auth string's members, in the order every COS SDK writes them.
const (
	pAlgorithm  = "q-sign-algorithm"
	pAK         = "q-ak"
	pSignTime   = "q-sign-time"
	pKeyTime    = "q-key-time"
	pHeaderList = "q-header-list"
	pParamList  = "q-url-param-list"
	pSignature  = "q-signature"
)

var members = [...]string{pAlgorithm, pAK, pSignTime, pKeyTime, pHeaderList, pParamList, pSignature}

// mergedParam is the one query parameter GetPresignedURL's SignMerged
// form puts the whole auth string in, escaped ("sign=q-sign-algorithm%3Dsha1%26…").
const mergedParam = "sign"

// maxHeaderLife is how long after its start a header signature is taken,
// whatever END it names: cos-go-sdk-v5 signs for exactly an hour, and the
// replay memory (internal/httpapi/replay.go) holds a write's signature
// for an hour and twice httpapi.MaxClockSkew.
const maxHeaderLife = time.Hour

// maxPresignAhead is how far ahead a presigned URL's END may be: one
// week, S3's limit for its presigned URLs, plus httpapi.MaxClockSkew, as
// internal/qs draws it.
const maxPresignAhead = 7*24*time.Hour + httpapi.MaxClockSkew

// auth is a parsed auth string.
type auth struct {
	ak, span, headerList, paramList, signature string
	start, end                                 int64
}

// Claims reports whether r is signed in COS's scheme: an Authorization
// header that starts "q-sign-algorithm=", or a query carrying one of the
// auth string's members (in any case) or a "sign" parameter holding a
// whole auth string. It verifies nothing.
func Claims(r *http.Request) bool {
	for _, a := range r.Header.Values("Authorization") {
		if strings.HasPrefix(a, pAlgorithm+"=") {
			return true
		}
	}
	return queryClaims(r.URL.RawQuery)
}

// queryClaims reads the raw query name by name, each name decoded when it
// decodes, so that nothing url.ParseQuery would drop (a bad escape, a
// ';') can hide a signature.
func queryClaims(raw string) bool {
	for raw != "" {
		var pair string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			pair, raw = raw, ""
		}
		name, value, _ := strings.Cut(pair, "=")
		if d, err := url.QueryUnescape(name); err == nil {
			name = d
		}
		for _, m := range members {
			if strings.EqualFold(name, m) {
				return true
			}
		}
		if d, err := url.QueryUnescape(value); err == nil && name == mergedParam && isMerged(d) {
			return true
		}
	}
	return false
}

// isMerged says whether a "sign" parameter's value is an auth string.
func isMerged(v string) bool { return strings.HasPrefix(v, pAlgorithm+"=") }

// Verify checks a request's COS signature (docs/SERVING.md §4): the
// Authorization header, or a presigned URL (the auth string's members in
// the query, or all of it in "sign"). It returns the access key; what the
// key may do is the caller's to judge. secret gives an access key's
// secret.
//
// It holds a signature to more than COS does, each as every COS SDK
// signs: q-sign-algorithm is sha1; q-sign-time equals q-key-time (the
// signature covers only q-key-time, so the time is judged by it and an
// unequal q-sign-time would be unsigned); host is a signed header (it
// names the bucket, virtual-host style); every query parameter is signed
// (COS takes parameters left out of q-url-param-list, which a captured
// request could gain or change). A header signature is good from 15
// minutes (httpapi.MaxClockSkew) before its START until its END, and at
// most an hour after its START; a presigned URL until its END, which may
// be at most a week (and 15 minutes) ahead. A presigned URL past its END
// is 403 AccessDenied "Request has expired", as COS answers it; a header
// signature out of its time is httpapi.RequestExpired.
//
// The headers the SDK's signer signs are the ones it would sign for its
// own requests (cos.NeedSignHeaders and every x-cos- and x-ci- header): a
// signature over another header (a client's own choice) is refused as
// SignatureDoesNotMatch, naming the header.
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	auths := r.Header.Values("Authorization")
	inQuery := queryClaims(r.URL.RawQuery)
	switch {
	case len(auths) == 0 && !inQuery:
		return "", httpapi.Fail(httpapi.AccessDenied, "Access Denied: the request is not signed")
	case len(auths) > 1:
		return malformed("the request carries more than one Authorization header")
	case len(auths) == 1 && inQuery:
		return malformed("the request is signed both in the Authorization header and in the query")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return malformed("the query string does not parse")
	}
	presigned := len(auths) == 0
	var a auth
	var e *httpapi.Error
	if presigned {
		a, e = fromQuery(query)
	} else {
		a, e = parse(auths[0])
	}
	if e != nil {
		return "", e
	}
	headerNames := strings.Split(a.headerList, ";")
	if !slices.Contains(headerNames, "host") {
		return malformed("host must be a signed header (q-header-list)")
	}
	sk, known := secret(a.ak)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist in our records")
	}
	start, end := time.Unix(a.start, 0), time.Unix(a.end, 0)
	switch {
	case start.After(now.Add(httpapi.MaxClockSkew)):
		return "", httpapi.Fail(httpapi.RequestExpired,
			"the signature's q-sign-time starts more than 15 minutes after the gateway's clock: "+a.span)
	case now.After(end) && presigned:
		return "", httpapi.Fail(httpapi.AccessDenied, "Request has expired: the presigned URL's q-sign-time ended: "+a.span)
	case now.After(end):
		return "", httpapi.Fail(httpapi.RequestExpired, "Request has expired: the signature's q-sign-time ended: "+a.span)
	case !presigned && now.Sub(start) > maxHeaderLife:
		return "", httpapi.Fail(httpapi.RequestExpired,
			"the signature's q-sign-time started more than an hour ago: the gateway takes an Authorization header for an hour from its start")
	case presigned && end.Sub(now) > maxPresignAhead:
		return "", httpapi.Fail(httpapi.RequestExpired, "the presigned URL's q-sign-time ends more than 7 days ahead")
	}

	// The signed parts, as the SDK's signer takes them from a request it
	// sends: host from the Host, the other signed headers, every query
	// parameter but the signature's own.
	header := http.Header{}
	for _, name := range headerNames {
		if name == "host" || name == "" {
			continue
		}
		plain, err := url.PathUnescape(name)
		if err != nil {
			return malformed("q-header-list names a header that does not unescape: " + quote(name))
		}
		values := headerValues(r, plain)
		if len(values) == 0 {
			return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "the signed header "+quote(name)+" is not in the request")
		}
		header[http.CanonicalHeaderKey(plain)] = values
	}
	if presigned {
		for name := range query {
			if slices.Contains(members[:], name) || (name == mergedParam && isMerged(query.Get(name))) {
				delete(query, name)
			}
		}
	}
	signed := &http.Request{Method: r.Method, Host: r.Host, URL: &url.URL{Path: r.URL.Path, RawQuery: query.Encode()}, Header: header}
	cos.AddAuthorizationHeader(a.ak, sk, "", signed, &cos.AuthTime{SignStartTime: start, SignEndTime: end, KeyStartTime: start, KeyEndTime: end})
	want, e := parse(signed.Header.Get("Authorization"))
	if e != nil { // the SDK writes what parse reads
		return "", httpapi.Fail(httpapi.InternalError, "the signature could not be computed")
	}
	if want.headerList != a.headerList {
		if h := firstMissing(headerNames, strings.Split(want.headerList, ";")); h != "" {
			return "", httpapi.Fail(httpapi.SignatureDoesNotMatch,
				"q-header-list names a header cos-go-sdk-v5's signer does not sign, which the gateway can not check: "+quote(h))
		}
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "q-header-list is not the sorted list of the signed headers")
	}
	if want.paramList != a.paramList {
		got, all := strings.Split(a.paramList, ";"), strings.Split(want.paramList, ";")
		if p := firstMissing(all, got); p != "" {
			return malformed("q-url-param-list leaves out the query parameter " + quote(p) + ": every parameter must be signed")
		}
		if p := firstMissing(got, all); p != "" {
			return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "the signed query parameter "+quote(p)+" is not in the request")
		}
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "q-url-param-list is not the sorted list of the query's parameters")
	}
	if subtle.ConstantTimeCompare([]byte(want.signature), []byte(a.signature)) != 1 {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "the request signature we calculated does not match the signature you provided")
	}
	return a.ak, nil
}

// SignedHeaders names, lower-cased, the headers a request's COS signature
// covers (its q-header-list, in the header or the query), so that a
// caller can require the ones a write depends on (a body's Content-MD5).
// Call it only on a request Verify accepted.
func SignedHeaders(r *http.Request) []string {
	var a auth
	var e *httpapi.Error
	if h := r.Header.Get("Authorization"); h != "" {
		a, e = parse(h)
	} else {
		a, e = fromQuery(r.URL.Query())
	}
	if e != nil || a.headerList == "" {
		return nil
	}
	names := strings.Split(a.headerList, ";")
	for i, n := range names {
		if plain, err := url.PathUnescape(n); err == nil {
			names[i] = strings.ToLower(plain)
		}
	}
	return names
}

// headerValues are the values of a signed header as the client sent it.
// Go's server moves Content-Length and Transfer-Encoding out of the
// header map when it frames the body; they are read back from there.
func headerValues(r *http.Request, name string) []string {
	if v := r.Header.Values(name); len(v) > 0 {
		return v
	}
	switch strings.ToLower(name) {
	case "content-length":
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ", ")}
		}
	}
	return nil
}

// fromQuery reads a presigned URL's auth string: the seven members each
// once, or the whole string in one "sign".
func fromQuery(query url.Values) (auth, *httpapi.Error) {
	if v, ok := query[mergedParam]; ok && len(v) > 0 && isMerged(v[0]) {
		for _, m := range members {
			if _, ok := query[m]; ok {
				return auth{}, fail("the query carries both sign and " + m)
			}
		}
		if len(v) != 1 {
			return auth{}, fail("the query carries more than one sign")
		}
		return parse(v[0])
	}
	var parts []string
	for name := range query {
		for _, m := range members {
			if name != m && strings.EqualFold(name, m) {
				return auth{}, fail("the query names " + quote(name) + ", not " + m)
			}
		}
	}
	for _, m := range members {
		v := query[m]
		if len(v) != 1 {
			return auth{}, fail("a presigned URL carries each of " + strings.Join(members[:], ", ") + " once")
		}
		parts = append(parts, m+"="+v[0])
	}
	return parse(strings.Join(parts, "&"))
}

// parse reads an auth string: the seven members once each, in any order;
// sha1; q-sign-time equal to q-key-time, START;END in canonical decimal
// seconds with START <= END; a signature of 40 lower-case hex digits.
func parse(text string) (auth, *httpapi.Error) {
	var v [len(members)]string
	var seen [len(members)]bool
	parts := strings.Split(text, "&")
	if len(parts) != len(members) {
		return auth{}, fail("want q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&q-key-time=…&q-header-list=…&q-url-param-list=…&q-signature=…")
	}
	for _, p := range parts {
		name, value, _ := strings.Cut(p, "=")
		i := slices.Index(members[:], name)
		if i < 0 || seen[i] {
			return auth{}, fail("want q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&q-key-time=…&q-header-list=…&q-url-param-list=…&q-signature=…")
		}
		seen[i], v[i] = true, value
	}
	a := auth{ak: v[1], span: v[3], headerList: v[4], paramList: v[5], signature: v[6]}
	var ok bool
	switch {
	case v[0] != Algorithm:
		return auth{}, fail("q-sign-algorithm is not sha1")
	case a.ak == "":
		return auth{}, fail("q-ak is empty")
	case v[2] != v[3]:
		return auth{}, fail("q-sign-time is not q-key-time")
	case !isHex40(a.signature):
		return auth{}, fail("q-signature is not 40 lower-case hex digits")
	}
	if a.start, a.end, ok = parseSpan(a.span); !ok {
		return auth{}, fail("q-key-time is not START;END in seconds, START not after END")
	}
	return a, nil
}

// parseSpan reads "START;END", both canonical decimal seconds.
func parseSpan(s string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(s, ";")
	start, ok1 := decimal(a)
	end, ok2 := decimal(b)
	return start, end, found && ok1 && ok2 && start <= end
}

func decimal(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0 && strconv.FormatInt(n, 10) == s
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// firstMissing is the first of names not among in.
func firstMissing(names, in []string) string {
	for _, n := range names {
		if !slices.Contains(in, n) {
			return n
		}
	}
	return ""
}

// quote quotes a name the client sent, cut to 64 bytes, for a message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

func fail(why string) *httpapi.Error {
	return httpapi.Fail(httpapi.MalformedAuthorization, "the COS signature is invalid: "+why)
}

func malformed(why string) (string, *httpapi.Error) { return "", fail(why) }
