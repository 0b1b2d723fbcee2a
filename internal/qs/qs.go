// Package qs is QingStor's request signature, as
// github.com/yunify/qingstor-sdk-go/v3's signer computes it: the
// configuration API checks the QingStor SDK's requests with it (Verify:
// the Authorization header only), and the object path checks QingStor
// clients' reads with it (VerifyRequest: the header or a presigned URL).
//
//	authorization = "QS AK:SIG"
//	SIG           = base64(HMAC-SHA256(SK, METHOD "\n" Content-MD5 "\n" Content-Type "\n" Date "\n" x-qs-headers resource))
package qs

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// subresources are the query names QingStor's signature covers.
var subresources = []string{"acl", "cors", "delete", "image", "lifecycle", "logging", "mirror", "notification",
	"part_number", "policy", "response-cache-control", "response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires", "stats", "upload_id", "uploads"}

// Verify checks "Authorization: QS AK:SIG" (docs/SERVING.md §4.3), with
// Date (or X-QS-Date) within httpapi.MaxClockSkew of now. secret gives an
// access key's secret. It returns the access key; what the key may do is
// the caller's to judge.
func Verify(r *http.Request, secret func(accessKeyID string) (string, bool), now time.Time) (string, *httpapi.Error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", httpapi.Fail(httpapi.AccessDenied, "the request is not signed")
	}
	cred, found := strings.CutPrefix(auth, "QS ")
	ak, sig, found2 := strings.Cut(cred, ":")
	if !found || !found2 || ak == "" || sig == "" {
		return "", httpapi.Fail(httpapi.MalformedAuthorization, "the Authorization header is not QS ACCESS_KEY_ID:SIGNATURE")
	}
	sk, known := secret(ak)
	if !known {
		return "", httpapi.Fail(httpapi.InvalidAccessKeyID, "the access key ID you provided does not exist")
	}
	dateText := r.Header.Get("X-QS-Date")
	if dateText == "" {
		dateText = r.Header.Get("Date")
	}
	date, err := http.ParseTime(dateText)
	if err != nil || date.Before(now.Add(-httpapi.MaxClockSkew)) || date.After(now.Add(httpapi.MaxClockSkew)) {
		return "", httpapi.Fail(httpapi.RequestExpired, "the request's Date is missing or more than 15 minutes from the gateway's clock")
	}
	signedDate := r.Header.Get("Date")
	if r.Header.Get("X-QS-Date") != "" {
		signedDate = ""
	}
	if !matches(sk, stringToSign(r, signedDate), sig) {
		return "", httpapi.Fail(httpapi.SignatureDoesNotMatch, "the signature does not match")
	}
	return ak, nil
}

// matches says whether sig is the base64 HMAC-SHA256 of toSign under sk,
// in constant time.
func matches(sk, toSign, sig string) bool {
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(toSign))
	return subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(sig)) == 1
}

// stringToSign is what qingstor-sdk-go v3's signer signs, date being the
// Date header (left empty when X-QS-Date is set) for the header form and
// the expiry for a presigned URL: the x-qs- headers come sorted as
// "name:value" lines, and the resource is the escaped path with the signed
// sub-resources ("/bucket?mirror", bare although the request line may
// carry "mirror=").
func stringToSign(r *http.Request, date string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n")
	var names []string
	for name := range r.Header {
		if n := strings.ToLower(name); strings.HasPrefix(n, "x-qs-") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString(n + ":" + strings.TrimSpace(r.Header.Get(n)) + "\n")
	}
	b.WriteString(escape(r.URL.Path))
	query := r.URL.Query()
	var parts []string
	for name, values := range query {
		if !slices.Contains(subresources, name) {
			continue
		}
		if v := strings.TrimSpace(strings.Join(values, "")); v != "" {
			parts = append(parts, name+"="+v)
		} else {
			parts = append(parts, name)
		}
	}
	slices.Sort(parts)
	if len(parts) > 0 {
		b.WriteString("?" + strings.Join(parts, "&"))
	}
	return b.String()
}

// escape is the SDK's URLQueryEscape: query escaping, with "/" and "="
// kept and spaces as %20.
func escape(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "%2F", "/")
	e = strings.ReplaceAll(e, "%3D", "=")
	return strings.ReplaceAll(e, "+", "%20")
}
