// Package obssig is Huawei OBS's request signature, as
// github.com/huaweicloud/huaweicloud-sdk-go-obs signs requests
// (obs/auth.go doAuth and doAuthTemporary, obs/authV2.go, obs/conf.go
// formatUrls), in the two forms that SDK speaks besides version 4:
//
//	Authorization: OBS AK:SIG   OBS's own (obs.SignatureObs)
//	Authorization: AWS AK:SIG   S3's version 2 (obs.SignatureV2: the SDK's
//	                            default, and what it signs path-style even
//	                            when told SignatureObs)
//	SIG = base64(HMAC-SHA1(SK, METHOD "\n" Content-MD5 "\n" Content-Type "\n" DATE "\n" HEADERS RESOURCE))
//
// HEADERS are the request's x-obs- headers (x-amz- for AWS), lower-cased
// and sorted, each "name:value\n", a header's values joined by ",".
// RESOURCE is "/BUCKET" followed by the path as sent when the request
// names its bucket in the Host, else the path as sent; then the
// sub-resources in the query (the SDK's list, and every x-obs- (x-amz-)
// parameter), sorted, "name" or "name=value", after "?" and joined by
// "&". DATE is the Date header: the SDK signs it even beside an x-obs-date
// (x-amz-date), which, itself signed among HEADERS, then gives the time.
// A presigned URL carries AccessKeyId (AWS: AWSAccessKeyId), Expires (unix
// seconds, which stands for DATE) and Signature in its query.
//
// **Choice:** the signature is recomputed here, not by the SDK. Its
// signer is unexported; its exported server-side helper,
// obs.GetAuthorization, is the tests' oracle but not the verifier: it
// takes the OBS or AWS form from whether an x-amz- header is present, not
// from the Authorization header; path or virtual-host style from whether
// the Host begins with the bucket's name; it decodes the query its own way
// (the last of a repeated name wins); and for a presigned request that
// also carries a Date header its result depends on map order (obs/util.go
// getTemporaryAuthorization). Steering it around all that would be more
// code than the algorithm, and harder to read. The tests hold this code
// to the SDK's own requests, both forms, header and presigned, and to
// GetAuthorization over every sub-resource the SDK signs.
package obssig

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// A form is one of the two dialects the SDK signs in.
type form struct {
	// auth begins the Authorization header.
	auth string
	// prefix begins the headers and query parameters the signature
	// covers.
	prefix string
	// dateHeader, when sent, gives the request's time instead of Date.
	dateHeader string
	// akParam names the access key in a presigned URL.
	akParam string
}

var (
	obsForm = &form{auth: "OBS ", prefix: "x-obs-", dateHeader: "X-Obs-Date", akParam: "AccessKeyId"}
	awsForm = &form{auth: "AWS ", prefix: "x-amz-", dateHeader: "X-Amz-Date", akParam: "AWSAccessKeyId"}
)

// subresources are the query parameters the signature covers besides the
// x-obs- (x-amz-) ones, lower-cased: the SDK's allowedResourceParameterNames
// (obs/const.go, v3.25.4), compared without regard to case as the SDK
// compares them.
var subresources = map[string]bool{
	"acl": true, "backtosource": true, "metadata": true, "policy": true, "torrent": true, "logging": true,
	"location": true, "storageinfo": true, "quota": true, "storageclass": true, "storagepolicy": true,
	"requestpayment": true, "versions": true, "versioning": true, "versionid": true, "uploads": true,
	"uploadid": true, "partnumber": true, "website": true, "notification": true, "lifecycle": true,
	"deletebucket": true, "delete": true, "cors": true, "restore": true, "encryption": true, "tagging": true,
	"append": true, "modify": true, "position": true, "replication": true, "response-content-type": true,
	"response-content-language": true, "response-expires": true, "response-cache-control": true,
	"response-content-disposition": true, "response-content-encoding": true, "x-image-process": true,
	"x-oss-process": true, "x-image-save-bucket": true, "x-image-save-object": true,
	"ignore-sign-in-query": true, "name": true, "rename": true, "customdomain": true,
	"mirrorbacktosource": true, "x-obs-accesslabel": true, "object-lock": true, "retention": true,
	"x-obs-security-token": true, "truncate": true, "length": true, "inventory": true,
	"directcoldaccess": true, "attname": true, "cdnnotifyconfiguration": true, "publicaccessblock": true,
	"bucketstatus": true, "policystatus": true,
}

// maxPresignAhead is how far ahead a presigned URL's Expires may be: one
// week, S3's limit, plus httpapi.MaxClockSkew for a signer whose clock
// runs ahead of ours, as for the other schemes' presigned URLs.
const maxPresignAhead = 7*24*time.Hour + httpapi.MaxClockSkew

// Claims reports whether r is signed in OBS's own scheme: an
// Authorization header "OBS …", or a presigned URL's AccessKeyId and
// Signature. It verifies nothing. S3's version 2 ("AWS AK:SIG",
// AWSAccessKeyId), which OBS takes too, is not claimed: the object path
// leaves it refused (docs/SERVING.md §4).
func Claims(r *http.Request) bool {
	for _, auth := range r.Header.Values("Authorization") {
		if strings.HasPrefix(auth, obsForm.auth) {
			return true
		}
	}
	var ak, sig bool
	for _, name := range paramNames(r.URL.RawQuery) {
		ak = ak || name == obsForm.akParam
		sig = sig || name == "Signature"
	}
	return ak && sig
}

// Verify checks a request signed in OBS's own scheme, in its
// Authorization header or as a presigned URL, addressed path-style (the
// bucket is the path's first segment): VerifyIn with no bucket. A caller
// whose router reads a request's bucket from its Host (-domain) must call
// VerifyIn with that bucket instead: OBS does not sign the Host, so
// "/B/K" sent to Host X.DOMAIN would verify here as B's object K while
// the router serves X's object "B/K".
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	return VerifyIn(r, "", secret, now)
}

// VerifyIn checks a request signed in OBS's own scheme, "Authorization:
// OBS AK:SIG" or a presigned URL (AccessKeyId, Expires, Signature), and
// returns its access key; what the key may do is the caller's to judge.
// bucket is the bucket the request names in its Host, as the caller's
// router finds it, or "" for a path-style request: the signature covers
// the bucket's name, which a virtual-host request's path does not hold,
// so a request verified for one bucket is never taken for another.
//
// The header's time (x-obs-date, else Date) must be within
// httpapi.MaxClockSkew of now. A presigned URL is refused once now is past
// Expires, with no skew allowed (its signer chose that instant), and when
// Expires is more than a week and the skew ahead. A request signed both
// ways is refused as malformed.
func VerifyIn(r *http.Request, bucket string, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	if presigned(r) {
		if len(r.Header.Values("Authorization")) > 0 {
			return malformed("the request is signed both in the Authorization header and in the query")
		}
		return verifyQuery(r, bucket, secret, now)
	}
	return verifyHeader(r, bucket, []*form{obsForm}, secret, now)
}

// VerifyHeader checks a request signed in its Authorization header in
// either form the SDK signs, "OBS AK:SIG" or "AWS AK:SIG", as VerifyIn
// checks the header; a presigned URL is not taken. The configuration API
// (configapi) verifies with it: a write is signed in its header, and the
// SDK signs path-style requests in the AWS form.
func VerifyHeader(r *http.Request, bucket string, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	if presigned(r) && len(r.Header.Values("Authorization")) > 0 {
		return malformed("the request is signed both in the Authorization header and in the query")
	}
	return verifyHeader(r, bucket, []*form{obsForm, awsForm}, secret, now)
}

func malformed(why string) (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.MalformedAuthorization, why)
}

// presigned reports whether r's query carries any of a presigned URL's
// parameters, in any case: a parameter spelt otherwise is a malformed
// signature, not an absent one.
func presigned(r *http.Request) bool {
	for _, name := range paramNames(r.URL.RawQuery) {
		switch strings.ToLower(name) {
		case "accesskeyid", "awsaccesskeyid", "signature":
			return true
		}
	}
	return false
}

// paramNames are the names of a raw query's parameters, each decoded when
// it decodes, read pair by pair so that nothing url.ParseQuery would drop
// (a bad escape, a ';') hides one.
func paramNames(raw string) []string {
	var names []string
	for raw != "" {
		var pair string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			pair, raw = raw, ""
		}
		name, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		names = append(names, name)
	}
	return names
}

// verifyHeader checks "Authorization: FORM AK:SIG" for one of forms.
func verifyHeader(r *http.Request, bucket string, forms []*form, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error) {
	auths := r.Header.Values("Authorization")
	switch {
	case len(auths) == 0:
		return "", httpapi.Fail(httpapi.AccessDenied, "the request is not signed")
	case len(auths) > 1:
		return malformed("the request carries more than one Authorization header")
	}
	var f *form
	for _, c := range forms {
		if strings.HasPrefix(auths[0], c.auth) {
			f = c
		}
	}
	if f == nil {
		want := "OBS ACCESS_KEY_ID:SIGNATURE"
		if len(forms) > 1 {
			want += " or AWS ACCESS_KEY_ID:SIGNATURE"
		}
		return malformed("the Authorization header is not " + want)
	}
	ak, sig, ok := strings.Cut(auths[0][len(f.auth):], ":")
	if !ok || ak == "" || sig == "" {
		return malformed("the Authorization header is not " + strings.TrimSpace(f.auth) + " ACCESS_KEY_ID:SIGNATURE")
	}
	sk, known := secret(ak)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist in our records")
	}
	for _, name := range []string{"Date", f.dateHeader, "Content-Md5"} {
		if len(r.Header.Values(name)) > 1 {
			return malformed("the request carries more than one " + name + " header")
		}
	}
	timeText := r.Header.Get(f.dateHeader)
	if timeText == "" {
		timeText = r.Header.Get("Date")
	}
	at, err := http.ParseTime(timeText)
	if err != nil || at.Before(now.Add(-httpapi.MaxClockSkew)) || at.After(now.Add(httpapi.MaxClockSkew)) {
		return "", httpapi.Fail(httpapi.RequestExpired,
			"the difference between the request time and the server's time is too large (more than 15 minutes), or the request has no valid Date or "+
				strings.ToLower(f.dateHeader))
	}
	toSign, e := stringToSign(r, f, bucket, r.Header.Get("Date"))
	if e != nil {
		return "", e
	}
	if !matches(sk, toSign, sig) {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch,
			"the request signature we calculated does not match the signature you provided; check your key and signing method")
	}
	return ak, nil
}

// verifyQuery checks a presigned URL in OBS's own form.
func verifyQuery(r *http.Request, bucket string, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return malformed("the query string does not parse")
	}
	if _, aws := query[awsForm.akParam]; aws {
		return "", httpapi.Fail(httpapi.AccessDenied, "unsupported signature scheme: S3's signature version 2 in the query")
	}
	var v [3]string
	for i, name := range []string{obsForm.akParam, "Expires", "Signature"} {
		values := query[name]
		if len(values) != 1 || values[0] == "" {
			return malformed("a presigned URL carries one AccessKeyId, one Expires and one Signature")
		}
		v[i] = values[0]
	}
	ak, expiresText, sig := v[0], v[1], v[2]
	expires, err := strconv.ParseInt(expiresText, 10, 64)
	if err != nil || expires <= 0 || strconv.FormatInt(expires, 10) != expiresText {
		return malformed("Expires is not a time in unix seconds")
	}
	sk, known := secret(ak)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist in our records")
	}
	switch at := time.Unix(expires, 0); {
	case now.After(at):
		return "", httpapi.Fail(httpapi.RequestExpired, "the presigned URL has expired")
	case at.Sub(now) > maxPresignAhead:
		return "", httpapi.Fail(httpapi.RequestExpired, "the presigned URL expires more than 7 days ahead")
	}
	toSign, e := stringToSign(r, obsForm, bucket, expiresText)
	if e != nil {
		return "", e
	}
	if !matches(sk, toSign, sig) {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch,
			"the request signature we calculated does not match the signature you provided; check your key and signing method")
	}
	return ak, nil
}

// matches says whether sig is the base64 HMAC-SHA1 of toSign under sk, in
// constant time.
func matches(sk, toSign, sig string) bool {
	mac := hmac.New(sha1.New, []byte(sk))
	mac.Write([]byte(toSign))
	return subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(sig)) == 1
}

// stringToSign is what the SDK signs for r in form f (obs/authV2.go
// getV2StringToSign, obs/auth.go attachHeaders, obs/conf.go formatUrls),
// date standing for its Date line. A query that does not parse, a
// sub-resource given twice and two headers of one name in different cases
// are refused: the SDK would sign one reading of them and the gateway
// might act on another.
func stringToSign(r *http.Request, f *form, bucket, date string) (string, *httpapi.Error) {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(strings.Join(r.Header.Values("Content-Md5"), ","))
	b.WriteByte('\n')
	b.WriteString(strings.Join(r.Header.Values("Content-Type"), ","))
	b.WriteByte('\n')
	b.WriteString(date)
	b.WriteByte('\n')

	var names []string
	keyOf := map[string]string{}
	for key := range r.Header {
		name := strings.ToLower(strings.TrimSpace(key))
		if !strings.HasPrefix(name, f.prefix) {
			continue
		}
		if _, twice := keyOf[name]; twice {
			return "", httpapi.Fail(httpapi.MalformedAuthorization, "the request carries the header "+quote(name)+" twice")
		}
		keyOf[name] = key
		names = append(names, name)
	}
	slices.Sort(names)
	meta := f.prefix + "meta-"
	for _, name := range names {
		values := r.Header[keyOf[name]]
		if strings.HasPrefix(name, meta) {
			trimmed := make([]string, len(values))
			for i, v := range values {
				trimmed[i] = strings.TrimSpace(v)
			}
			values = trimmed
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(values, ","))
		b.WriteByte('\n')
	}

	if bucket != "" {
		b.WriteString("/" + bucket)
	}
	b.WriteString(r.URL.EscapedPath())
	if r.URL.RawQuery == "" {
		return b.String(), nil
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", httpapi.Fail(httpapi.MalformedAuthorization, "the query string does not parse")
	}
	var signed []string
	for name, values := range query {
		lower := strings.ToLower(name)
		if !subresources[lower] && !strings.HasPrefix(lower, f.prefix) {
			continue
		}
		if len(values) > 1 {
			return "", httpapi.Fail(httpapi.MalformedAuthorization, "the query names the sub-resource "+quote(name)+" more than once")
		}
		signed = append(signed, name)
	}
	slices.Sort(signed)
	for i, name := range signed {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name))
		if v := query[name][0]; v != "" {
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String(), nil
}

// quote cuts a client's text short for a message: a message never grows
// with hostile input.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
