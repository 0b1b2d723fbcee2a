// Package osssig checks Aliyun OSS request signatures, as
// github.com/aliyun/alibabacloud-oss-go-sdk-v2 signs them: V1 and V4, in
// the Authorization header or presigned in the query.
//
//	V1 header: Authorization: OSS AK:base64(HMAC-SHA1(SK, METHOD "\n" Content-MD5 "\n" Content-Type "\n" Date "\n" x-oss-headers RESOURCE))
//	V1 query:  OSSAccessKeyId=AK&Expires=UNIX&Signature=… (Expires in place of the Date)
//	V4 header: Authorization: OSS4-HMAC-SHA256 Credential=AK/DATE/REGION/oss/aliyun_v4_request[,AdditionalHeaders=a;b],Signature=HEX
//	V4 query:  x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=…&x-oss-date=…&x-oss-expires=…[&x-oss-additional-headers=…]&x-oss-signature=HEX
//
// RESOURCE is "/BUCKET/KEY" (V1: the key as it is; V4: percent-encoded)
// whatever the URL style: a virtual-host request names its bucket in the
// Host, yet signs it in the resource. So a verifier must know which bucket
// and key the request addresses: VerifyFor is told them; Verify works them
// out from the request (path-style, else the Host's first label).
//
// The three forms the SDK can sign for a given instant (V1 header, V1
// query, V4 header) are checked by signing the request again with the
// SDK's own signer, github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer
// (which needs nothing but the standard library), and comparing the
// signatures in constant time. The SDK's V4 query signer reads the wall
// clock for the signing instant and cannot sign for another one, so the
// V4 query form is computed here (v4query.go), to the same algorithm; the
// tests hold it to the SDK's presigned URLs.
//
// It only verifies: it returns the access key that signed, and what that
// key may do is the caller's to judge.
package osssig

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The Authorization header's first word of each version.
const (
	v1Prefix = "OSS "
	// AlgorithmV4 is V4's algorithm, in the header and in
	// x-oss-signature-version.
	AlgorithmV4 = "OSS4-HMAC-SHA256"
	v4Prefix    = AlgorithmV4 + " "
	// Product is the credential scope's product: the gateway answers as
	// OSS.
	Product = "oss"
	// unsignedPayload is the only x-oss-content-sha256 OSS takes.
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// v4TimeFormat is x-oss-date's form.
	v4TimeFormat = "20060102T150405Z"
	// MaxExpires is the longest a presigned URL may be good for: OSS's
	// limit for V4 URLs (x-oss-expires at most 604800), which the
	// gateway draws for V1's Expires too (plus httpapi.MaxClockSkew for
	// a signer whose clock runs ahead), as it does for every scheme.
	MaxExpires = 7 * 24 * time.Hour
)

// The presigned query's parameters.
const (
	qV1AccessKey = "OSSAccessKeyId"
	qV1Expires   = "Expires"
	qV1Signature = "Signature"

	qV4Version    = "x-oss-signature-version"
	qV4Credential = "x-oss-credential"
	qV4Date       = "x-oss-date"
	qV4Expires    = "x-oss-expires"
	qV4Additional = "x-oss-additional-headers"
	qV4Signature  = "x-oss-signature"
)

// subResources are the query parameters a V1 signature covers, besides
// those starting x-oss-: the SDK signer's own list
// (requiredSignedParametersMap), every sub-resource an operation of the
// SDK names (signer.SubResource), the rest of OSS's documented list, and
// the sub-resources the gateway acts on (mirroring, mirror, origin,
// mirrorBackToSource) so that no captured V1 request can be pointed at
// one by adding it. A parameter outside the list is not signed by V1 and
// means nothing to the gateway.
var subResources = func() map[string]bool {
	m := map[string]bool{}
	for _, name := range strings.Fields(`
		acl bucketInfo location stat delete append tagging objectMeta uploads uploadId partNumber
		security-token position response-content-type response-content-language response-expires
		response-cache-control response-content-disposition response-content-encoding restore callback
		callback-var versions versioning versionId sequential continuation-token regionList cloudboxes symlink

		accessPoint accessPointConfigForObjectProcess accessPointForObjectProcess accessPointPolicy
		accessPointPolicyForObjectProcess agenticBucket bucketArchiveDirectRead cleanRestoredObject cname comp
		cors encryption httpsConfig inventory inventoryId legalHold lifecycle logging metaQuery
		metadataConfiguration metadataInventoryTable metadataJournalTable objectWorm overwriteConfig policy
		policyStatus publicAccessBlock quota redundancyTransition referer regions replication
		replicationLocation replicationProgress requestPayment resourceGroup retention rtc seal style
		styleName transferAcceleration userDefinedLogFieldsConfig website worm wormExtend wormId
		DeleteVectorIndex GetVectorIndex ListVectorIndexes PutVectorIndex

		img qos live status vod startTime endTime processConfiguration asyncFetch objectInfo
		accessmonitor bucketArchiveDirectRead resourcePool

		mirroring mirror origin mirrorBackToSource`) {
		m[name] = true
	}
	return m
}()

// signedInV1 says whether V1 covers a query parameter.
func signedInV1(name string) bool {
	return subResources[name] || strings.HasPrefix(name, "x-oss-")
}

// Claims says whether r is signed in an OSS scheme: an Authorization
// header starting "OSS" (V1 "OSS ", V4 "OSS4-HMAC-SHA256 ", and V2's
// "OSS2 ", which Verify refuses as malformed), or a presigned query
// (OSSAccessKeyId, or x-oss-signature, x-oss-credential or
// x-oss-signature-version). Query names are compared case-insensitively
// and read from the raw query, each decoded when it decodes, so that
// nothing url.ParseQuery would drop can hide a signature.
func Claims(r *http.Request) bool {
	for _, auth := range r.Header.Values("Authorization") {
		if strings.HasPrefix(auth, "OSS") {
			return true
		}
	}
	return queryForm(r.URL.RawQuery) != formNone
}

// A form is how a request is signed.
type form int

const (
	formNone form = iota
	formV1Query
	formV4Query
	formBothQuery // V1 and V4 parameters at once
)

// queryForm says which presigned form's parameters the raw query names,
// in any case.
func queryForm(raw string) form {
	v1, v4 := false, false
	for rest := raw; rest != ""; {
		var pair string
		i := strings.IndexAny(rest, "&;")
		if i < 0 {
			pair, rest = rest, ""
		} else {
			pair, rest = rest[:i], rest[i+1:]
		}
		name, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		switch {
		case strings.EqualFold(name, qV1AccessKey):
			v1 = true
		case strings.EqualFold(name, qV4Signature), strings.EqualFold(name, qV4Credential),
			strings.EqualFold(name, qV4Version):
			v4 = true
		}
	}
	switch {
	case v1 && v4:
		return formBothQuery
	case v1:
		return formV1Query
	case v4:
		return formV4Query
	}
	return formNone
}

// Verify checks r's OSS signature (any of the four forms) and returns the
// access key that signed it; secret gives an access key's secret. The
// signed resource may be the path-style one (/BUCKET/KEY from the path)
// or, when the Host has a first label, the virtual-host one (that label
// as the bucket, the whole path as the key): the request is parsed and
// judged once, then signed for each in turn until one matches. A caller that knows how it routes the request (a gateway with
// -domain) should call VerifyFor with its own bucket and key instead: a
// signature for "object B of bucket H" sent as path-style /B to a Host
// H.other is taken here as signed, although the gateway reads it as
// bucket B.
//
// It fails, in this order, with
//
//   - AccessDenied: no signature at all;
//   - MalformedAuthorization: an Authorization header or signature
//     parameters that do not parse (V2's "OSS2 " included), two
//     signatures (two headers, or a header and a query), a query that
//     does not parse or names a parameter twice, a V4 scope that is not
//     DATE/REGION/oss/aliyun_v4_request with DATE the day of x-oss-date,
//     a V4 header request without x-oss-date or with an
//     x-oss-content-sha256 other than UNSIGNED-PAYLOAD, x-oss-expires
//     not 1 to 604800, a signature parameter in the wrong case, a
//     query parameter without a name;
//   - InvalidAccessKeyID: a key secret does not know;
//   - RequestExpired: a header signature whose time (V1: Date, in the
//     SDK's RFC 1123 form; V4: x-oss-date) is missing or more than
//     httpapi.MaxClockSkew from now; a presigned URL past its expiry,
//     used more than httpapi.MaxClockSkew before its x-oss-date, or good
//     for more than MaxExpires;
//   - SignatureDoesNotMatch: the signature is not the one the secret
//     gives for the request (method, resource, signed headers, signed
//     query, time), or a request that names a key and no bucket.
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	var resources []resource
	if res, ok := newResource(httpapi.Router{}.Route(r)); ok {
		resources = append(resources, res)
	}
	if hb, ok := HostBucket(r.Host); ok {
		if res, ok := newResource(hb, strings.TrimPrefix(r.URL.Path, "/")); ok {
			resources = append(resources, res)
		}
	}
	return verify(r, resources, secret, now)
}

// A resource is the bucket and key a signature names (nil: none).
type resource struct{ bucket, key *string }

// newResource is the resource /bucket/key; false for a key without a
// bucket, which would be signed as the bucket-less "/KEY" a request for
// bucket and key KEY's first segment and rest signs.
func newResource(bucket, key string) (resource, bool) {
	var res resource
	switch {
	case bucket != "":
		res.bucket = &bucket
	case key != "":
		return res, false
	}
	if key != "" {
		res.key = &key
	}
	return res, true
}

// HostBucket is the first label of a Host (lower-cased, without its
// port), which names the bucket of a virtual-host request; false for an
// IP address or a Host of one label.
func HostBucket(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return "", false
	}
	label, rest, found := strings.Cut(strings.ToLower(host), ".")
	if !found || label == "" || rest == "" {
		return "", false
	}
	return label, true
}

// VerifyFor checks r's OSS signature as Verify does, the signed resource
// being bucket and key ("" for none: "/" for no bucket, "/BUCKET/" for a
// bucket's own sub-resources).
func VerifyFor(r *http.Request, bucket, key string, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	var resources []resource
	if res, ok := newResource(bucket, key); ok {
		resources = append(resources, res)
	}
	return verify(r, resources, secret, now)
}

// verify checks r's signature for any of the resources: the request is
// parsed and judged once, and signed once per resource until one
// matches.
func verify(r *http.Request, resources []resource, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error) {
	auths := r.Header.Values("Authorization")
	inQuery := queryForm(r.URL.RawQuery)
	switch {
	case len(auths) == 0 && inQuery == formNone:
		return "", httpapi.Fail(httpapi.AccessDenied, "the request is not signed")
	case len(auths) > 1, len(auths) == 1 && inQuery != formNone, inQuery == formBothQuery:
		return malformed("the request carries more than one signature")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return malformed("the query string does not parse")
	}
	for name, values := range query {
		if len(values) > 1 {
			return malformed("the query names a parameter twice")
		}
		if name == "" {
			return malformed("the query has a parameter without a name")
		}
	}
	if len(resources) == 0 {
		return "", mismatch(": the request names an object and no bucket")
	}
	v := &verification{r: r, query: query, resources: resources, secret: secret, now: now}
	switch {
	case inQuery == formV1Query:
		return v.v1Query()
	case inQuery == formV4Query:
		return v.v4Query()
	case strings.HasPrefix(auths[0], v1Prefix):
		return v.v1Header(auths[0][len(v1Prefix):])
	case strings.HasPrefix(auths[0], v4Prefix):
		return v.v4Header(auths[0][len(v4Prefix):])
	case strings.HasPrefix(auths[0], "OSS2 "):
		return malformed("signature version 2 is not taken: sign with V1 or V4")
	}
	return malformed("the Authorization header is not OSS AK:SIGNATURE or OSS4-HMAC-SHA256 Credential=…,Signature=…")
}

// verification is one request being verified.
type verification struct {
	r         *http.Request
	query     url.Values
	resources []resource
	secret    func(string) (string, bool)
	now       time.Time
}

// matches says whether the signature check holds for any of the
// resources.
func (v *verification) matches(check func(resource) bool) bool {
	for _, res := range v.resources {
		if check(res) {
			return true
		}
	}
	return false
}

func malformed(why string) (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.MalformedAuthorization, "the request's signature is invalid: "+why)
}

func mismatch(why string) *httpapi.Error {
	return httpapi.Fail(httpapi.SignatureDoesNotMatch,
		"the request signature we calculated does not match the signature you provided"+why)
}

var errMismatch = mismatch("; check your key and signing method")

func unknownKey() (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the OSS access key ID you provided does not exist in our records")
}

func skewed(what string) (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.RequestExpired,
		"the difference between the request time and the current time is too large: "+what)
}

func expired(why string) (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.RequestExpired, "the presigned URL "+why)
}

// withinSkew says whether t is within httpapi.MaxClockSkew of now.
func withinSkew(t, now time.Time) bool {
	return !t.Before(now.Add(-httpapi.MaxClockSkew)) && !t.After(now.Add(httpapi.MaxClockSkew))
}

// same compares two signatures in constant time.
func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// signingCopy is r as the SDK's signer takes it: its method, path, query
// and headers (Authorization left out), the query being raw as received,
// which the signer reads. Each Sign writes the headers it sets into the
// copy, never into r.
func (v *verification) signingCopy(rawQuery string) *http.Request {
	h := v.r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Del("Authorization")
	return &http.Request{Method: v.r.Method, URL: &url.URL{Path: v.r.URL.Path, RawQuery: rawQuery}, Header: h, Host: v.r.Host}
}

// sign runs the SDK's signer over a copy of the request, for a resource.
func sign(s signer.Signer, ctx *signer.SigningContext, res resource, ak, sk string) error {
	ctx.Bucket, ctx.Key = res.bucket, res.key
	ctx.Credentials = &credentials.Credentials{AccessKeyID: ak, AccessKeySecret: sk}
	return s.Sign(context.Background(), ctx)
}

// subResourceList is every query name V1 would sign on this request.
func (v *verification) subResourceList() []string {
	var list []string
	for name := range v.query {
		if subResources[name] {
			list = append(list, name)
		}
	}
	return list
}

// v1Header checks "OSS AK:SIG", re-signing with signer.SignerV1 at the
// request's Date.
func (v *verification) v1Header(cred string) (string, *httpapi.Error) {
	ak, sig, found := strings.Cut(cred, ":")
	if !found || ak == "" || sig == "" {
		return malformed("the Authorization header is not OSS ACCESS_KEY_ID:SIGNATURE")
	}
	sk, known := v.secret(ak)
	if !known {
		return unknownKey()
	}
	dateText := v.r.Header.Get("Date")
	date, err := http.ParseTime(dateText)
	if err != nil || date.UTC().Format(http.TimeFormat) != dateText {
		return skewed("the request's Date is missing or not in the form Mon, 02 Jan 2006 15:04:05 GMT")
	}
	if !withinSkew(date, v.now) {
		return skewed("the request's Date is " + dateText)
	}
	subResources := v.subResourceList()
	if !v.matches(func(res resource) bool {
		c := v.signingCopy(v.r.URL.RawQuery)
		ctx := &signer.SigningContext{Request: c, Time: date, SubResource: subResources}
		if sign(&signer.SignerV1{}, ctx, res, ak, sk) != nil {
			return false
		}
		_, want, _ := strings.Cut(c.Header.Get("Authorization"), ":")
		return same(want, sig)
	}) {
		return "", errMismatch
	}
	return ak, nil
}

// v1Query checks OSSAccessKeyId, Expires and Signature, re-signing with
// signer.SignerV1's query form for that Expires.
func (v *verification) v1Query() (string, *httpapi.Error) {
	var p [3]string
	for i, name := range []string{qV1AccessKey, qV1Expires, qV1Signature} {
		if p[i] = v.query.Get(name); p[i] == "" {
			return malformed("a V1 presigned URL carries OSSAccessKeyId, Expires and Signature")
		}
	}
	for name := range v.query {
		if strings.EqualFold(name, qV1AccessKey) && name != qV1AccessKey {
			return malformed("OSSAccessKeyId is spelt in another case")
		}
	}
	ak, expiresText, sig := p[0], p[1], p[2]
	expires, err := strconv.ParseInt(expiresText, 10, 64)
	if err != nil || expires <= 0 || strconv.FormatInt(expires, 10) != expiresText {
		return malformed("Expires is not a time in unix seconds")
	}
	sk, known := v.secret(ak)
	if !known {
		return unknownKey()
	}
	switch at := time.Unix(expires, 0); {
	case v.now.After(at):
		return expired("has expired")
	case at.Sub(v.now) > MaxExpires+httpapi.MaxClockSkew:
		return expired("expires more than 7 days ahead")
	}
	rest := url.Values{}
	for name, values := range v.query {
		if name != qV1AccessKey && name != qV1Expires && name != qV1Signature {
			rest[name] = values
		}
	}
	unsigned, subResources := rest.Encode(), v.subResourceList()
	if !v.matches(func(res resource) bool {
		c := v.signingCopy(unsigned)
		ctx := &signer.SigningContext{Request: c, Time: time.Unix(expires, 0), SubResource: subResources, AuthMethodQuery: true}
		if sign(&signer.SignerV1{}, ctx, res, ak, sk) != nil {
			return false
		}
		signed, err := url.ParseQuery(c.URL.RawQuery)
		return err == nil && same(signed.Get(qV1Signature), sig)
	}) {
		return "", errMismatch
	}
	return ak, nil
}

// v4Credential is a parsed Credential: AK/DATE/REGION/oss/aliyun_v4_request.
type v4Credential struct {
	ak, date, region string
}

// parseCredential parses a V4 credential, its date to be the day of
// datetime.
func parseCredential(text, datetime string) (v4Credential, bool) {
	parts := strings.SplitN(text, "/", 6)
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] != Product || parts[4] != "aliyun_v4_request" ||
		len(datetime) < 8 || parts[1] != datetime[:8] {
		return v4Credential{}, false
	}
	return v4Credential{parts[0], parts[1], parts[2]}, true
}

// v4Header checks "OSS4-HMAC-SHA256 Credential=…,AdditionalHeaders=…,
// Signature=…", re-signing with signer.SignerV4 at x-oss-date.
func (v *verification) v4Header(fields string) (string, *httpapi.Error) {
	var credText, additional, sig string
	var seen [3]bool
	for rest := fields; ; {
		field, more, another := strings.Cut(rest, ",")
		rest = more
		name, value, found := strings.Cut(strings.TrimSpace(field), "=")
		i := -1
		switch name {
		case "Credential":
			i, credText = 0, value
		case "AdditionalHeaders":
			i, additional = 1, value
		case "Signature":
			i, sig = 2, value
		}
		if !found || i < 0 || seen[i] {
			return malformed("the Authorization header is not OSS4-HMAC-SHA256 Credential=…[,AdditionalHeaders=…],Signature=…")
		}
		seen[i] = true
		if !another {
			break
		}
	}
	if credText == "" || sig == "" || (seen[1] && additional == "") {
		return malformed("the Authorization header is not OSS4-HMAC-SHA256 Credential=…[,AdditionalHeaders=…],Signature=…")
	}
	datetime := v.r.Header.Get("X-Oss-Date")
	date, err := time.Parse(v4TimeFormat, datetime)
	if err != nil || date.Format(v4TimeFormat) != datetime {
		return malformed("a V4 request carries x-oss-date, YYYYMMDDThhmmssZ")
	}
	cred, ok := parseCredential(credText, datetime)
	if !ok {
		return malformed("the credential is not AK/DATE/REGION/oss/aliyun_v4_request with DATE the day of x-oss-date")
	}
	if v.r.Header.Get("X-Oss-Content-Sha256") != unsignedPayload {
		return malformed("x-oss-content-sha256 must be UNSIGNED-PAYLOAD")
	}
	sk, known := v.secret(cred.ak)
	if !known {
		return unknownKey()
	}
	if !withinSkew(date, v.now) {
		return skewed("the request's x-oss-date is " + datetime)
	}
	var names []string
	if additional != "" {
		if strings.Count(additional, ";") > len(v.r.Header) {
			// More names than the request has headers (and a Host):
			// the signer would have left the absent ones out.
			return "", errMismatch
		}
		names = strings.Split(additional, ";")
	}
	if !v.matches(func(res resource) bool {
		c := v.signingCopy(v.r.URL.RawQuery)
		for _, n := range names {
			if strings.EqualFold(n, "host") {
				c.Header.Set("Host", v.r.Host) // the signer reads headers only
			}
		}
		product, region := Product, cred.region
		ctx := &signer.SigningContext{Request: c, Time: date, Product: &product, Region: &region, AdditionalHeaders: names}
		if sign(&signer.SignerV4{}, ctx, res, cred.ak, sk) != nil {
			return false
		}
		auth := c.Header.Get("Authorization")
		i := strings.LastIndex(auth, ",Signature=")
		return i >= 0 && same(auth[i+len(",Signature="):], sig)
	}) {
		return "", errMismatch
	}
	return cred.ak, nil
}
