package configapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mirrorkit/mirror"
)

// The QingStor API: PUT|GET|DELETE /BUCKET?mirror, as
// github.com/yunify/qingstor-sdk-go/v3's PutExternalMirror,
// GetExternalMirror and DeleteExternalMirror send them: always
// path-style, with the zone as the first label of the Host.

// qsError is QingStor's error body.
type qsError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	URL       string `json:"url"`
}

// The QingStor SDK reads an error's code, and a GET's document, only from
// a response whose Content-Type says application/json.
const qsJSON = "application/json"

// qingstorAPI is how QingStor words the flow of serveConfig.
var qingstorAPI = &dialect{
	api: APIQingStor, format: mirror.FormatQingStor, contentType: qsJSON, requestIDHeader: "X-QS-Request-ID",
	errorBody: func(code, message, id string) any {
		return qsError{code, message, id, "https://docs.qingcloud.com/qingstor/api/common/error_code"}
	},
	bucket: func(_ *Handler, r *http.Request) string { return pathBucket(r) },
	verify: (*Handler).verifyQS,
	checkBody: func(body []byte) *apiError {
		if json.Valid(body) {
			if member := qsForeignMember(body); member != "" {
				return &apiError{http.StatusBadRequest, "invalid_argument", member + `: an external mirror takes only "source_site"`}
			}
		}
		return nil
	},
	codes: dialectCodes{
		denied: "permission_denied", invalidBucket: "invalid_bucket_name", tooLarge: "invalid_request", badDigest: "bad_digest",
		notJSON: "invalid_json", invalid: "invalid_argument", internal: "internal_server_error", notFound: "mirror_not_exists",
		method: "method_not_allowed",
	},
	what: "an external mirror configuration", none: "the bucket has no external mirror", resource: "mirror",
}

// qsSubresources are the query names QingStor's signature covers.
var qsSubresources = []string{"acl", "cors", "delete", "image", "lifecycle", "logging", "mirror", "notification",
	"part_number", "policy", "response-cache-control", "response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires", "stats", "upload_id", "uploads"}

// verifyQS checks "Authorization: QS AK:SIG" (docs/SERVING.md §4.3): SIG
// = base64(HMAC-SHA256(SK, METHOD "\n" Content-MD5 "\n" Content-Type "\n"
// Date "\n" x-qs-headers resource)), with Date (or X-QS-Date) within 15
// minutes of the gateway's clock. It returns the access key; the key's
// scope is the caller's to check.
func (h *Handler) verifyQS(r *http.Request) (string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &apiError{http.StatusForbidden, "permission_denied", "the request is not signed"}
	}
	cred, found := strings.CutPrefix(auth, "QS ")
	ak, sig, found2 := strings.Cut(cred, ":")
	if !found || !found2 || ak == "" || sig == "" {
		return "", &apiError{http.StatusUnauthorized, "invalid_access_key_id", "the Authorization header is not QS ACCESS_KEY_ID:SIGNATURE"}
	}
	secret, known := h.Credentials.secret(ak)
	if !known {
		return "", &apiError{http.StatusUnauthorized, "invalid_access_key_id", "the access key ID you provided does not exist"}
	}
	dateText := r.Header.Get("X-QS-Date")
	if dateText == "" {
		dateText = r.Header.Get("Date")
	}
	date, err := http.ParseTime(dateText)
	if now := h.now(); err != nil || date.Before(now.Add(-maxSkew)) || date.After(now.Add(maxSkew)) {
		return "", &apiError{http.StatusForbidden, "request_expired", "the request's Date is missing or more than 15 minutes from the gateway's clock"}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(qsStringToSign(r)))
	if !equal(base64.StdEncoding.EncodeToString(mac.Sum(nil)), sig) {
		return "", &apiError{http.StatusUnauthorized, "signature_not_matched", "the signature does not match"}
	}
	return ak, nil
}

// qsForeignMember names the first top-level member of a QingStor body
// other than one "source_site", the only member QingStor's External Mirror
// documents, or returns "". The engine reads field names
// case-insensitively and ignores unknown ones, so a body such as
// {"source_site": …, "bucketMirroringConfiguration": […]} would otherwise
// be stored whole and shown back by GET although only source_site is in
// force; a second "source_site" is refused too, since JSON readers differ
// on which of two equal names wins. A body that is not an object is left
// to the compiler, which words that problem.
func qsForeignMember(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := t.(string)
		if name != "source_site" || seen {
			return strconv.Quote(name)
		}
		seen = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// qsStringToSign is what qingstor-sdk-go v3's signer signs: Date is left
// empty when X-QS-Date is set, the x-qs- headers come sorted as
// "name:value" lines, and the resource is the escaped path with the signed
// sub-resources ("/bucket?mirror", bare although the request line may
// carry "mirror=").
func qsStringToSign(r *http.Request) string {
	date := r.Header.Get("Date")
	if r.Header.Get("X-QS-Date") != "" {
		date = ""
	}
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
	b.WriteString(qsEscape(r.URL.Path))
	query := r.URL.Query()
	var parts []string
	for name, values := range query {
		if !slices.Contains(qsSubresources, name) {
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

// qsEscape is the SDK's URLQueryEscape: query escaping, with "/" and "="
// kept and spaces as %20.
func qsEscape(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "%2F", "/")
	e = strings.ReplaceAll(e, "%3D", "=")
	return strings.ReplaceAll(e, "+", "%20")
}
