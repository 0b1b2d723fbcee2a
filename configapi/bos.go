package configapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/bce"
)

// The BOS API: PUT|GET|DELETE /BUCKET?mirroring, as
// github.com/baidubce/bce-sdk-go's PutBucketMirror, GetBucketMirror and
// DeleteBucketMirror send them.

// bosError is BOS's error body.
type bosError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

const bosJSON = "application/json; charset=utf-8"

// bosAPI is how BOS words the flow of serveConfig.
var bosAPI = &dialect{
	api: APIBOS, format: mirror.FormatBOS, contentType: bosJSON, requestIDHeader: "X-Bce-Request-Id",
	errorBody: func(code, message, id string) any { return bosError{code, message, id} },
	bucket: func(h *Handler, r *http.Request) string {
		bucket, ok := hostBucket(r, h.Domain)
		if !ok || (r.URL.Path != "/" && r.URL.Path != "") {
			bucket = pathBucket(r)
		}
		return bucket
	},
	verify: (*Handler).verifyBCE,
	codes: dialectCodes{
		denied: "AccessDenied", invalidBucket: "InvalidBucketName", tooLarge: "EntityTooLarge", badDigest: "BadDigest",
		notJSON: "MalformedJSON", invalid: "InappropriateJSON", internal: "InternalError", notFound: "NoSuchMirroring",
		method: "MethodNotAllowed",
	},
	what: "a mirroring configuration", none: "the bucket has no mirroring configuration", resource: "mirroring",
}

// verifyBCE checks a BCE auth v1 signature (docs/SERVING.md §4.3):
// "bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE", host among
// the signed headers, the timestamp at most 15 minutes ahead, not past
// TIMESTAMP + EXPIRE, EXPIRE at most 3600 s. It returns the access key;
// the key's scope is the caller's to check.
func (h *Handler) verifyBCE(r *http.Request) (string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &apiError{http.StatusForbidden, "AccessDenied", "the request is not signed"}
	}
	malformed := func(why string) (string, *apiError) {
		return "", &apiError{http.StatusBadRequest, "InvalidHTTPAuthHeader", "the Authorization header is invalid: " + why}
	}
	parts := strings.Split(auth, "/")
	if len(parts) != 6 || parts[0] != bce.Version {
		return malformed("want bce-auth-v1/AK/TIMESTAMP/EXPIRE/SIGNED-HEADERS/SIGNATURE")
	}
	ak, stamp, expireText, signedText, sig := parts[1], parts[2], parts[3], parts[4], parts[5]
	ts, err := time.Parse(bce.TimeFormat, stamp)
	if err != nil {
		return malformed("the timestamp is not YYYY-MM-DDThh:mm:ssZ")
	}
	expire, err := strconv.Atoi(expireText)
	if err != nil || expire <= 0 || expire > 3600 || strconv.Itoa(expire) != expireText {
		return malformed("the expiration is not 1 to 3600 seconds")
	}
	signed := strings.Split(signedText, ";")
	hasHost := false
	for _, name := range signed {
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return malformed("host must be a signed header")
	}
	secret, known := h.Credentials.secret(ak)
	if !known {
		return "", &apiError{http.StatusForbidden, "InvalidAccessKeyId", "the access key ID you provided does not exist in our records"}
	}
	now := h.now()
	if ts.After(now.Add(maxSkew)) || now.After(ts.Add(time.Duration(expire)*time.Second)) {
		return "", &apiError{http.StatusForbidden, "RequestExpired", "the request has expired: its timestamp is " + stamp}
	}
	headers := make(map[string]string, len(signed))
	for _, name := range signed {
		if name == "host" {
			headers[name] = r.Host
		} else {
			headers[name] = r.Header.Get(name)
		}
	}
	canonicalHeaders, _ := bce.CanonicalHeaders(headers)
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	prefix := strings.Join(parts[:4], "/")
	want := bce.Signature(secret, prefix, r.Method, bce.URIEncode(r.URL.Path, false), bce.CanonicalQuery(params), canonicalHeaders)
	if !equal(want, sig) {
		return "", &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "the request signature we calculated does not match the signature you provided"}
	}
	return ak, nil
}
