package httpapi

import "net/http"

// TOSError is Volcengine TOS's error body, flat JSON, as
// ve-tos-golang-sdk's tos.Error reads it (TosServerError's Code, Message,
// HostID and EC come from it). TOS also sends EC, a finer code of its
// own; the gateway has none to give and leaves it out.
type TOSError struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	EC        string `json:"EC,omitempty"`
}

// TOS is Volcengine TOS's dialect, as ve-tos-golang-sdk reads it: S3's
// codes where TOS uses them, TOS's own over them (RequestTimeTooSkewed,
// NoSuchMirrorConfiguration, MalformedBody, TooManyRequests,
// UnImplemented: the names in the SDK's tos/codes), in JSON, with the id
// in X-Tos-Request-Id (the SDK's RequestInfo reads it there) and the
// request's Host as HostId. **Choice:** too many requests is 429, TOS's
// status for it, which the SDK retries (it retries 429 and 5xx).
var TOS = &Dialect{
	Name: "tos", RequestIDHeader: "X-Tos-Request-Id", ContentType: "application/json",
	body: func(code, message, id string, r *http.Request) []byte {
		return jsonBody(TOSError{Code: code, Message: message, RequestID: id, HostID: r.Host})
	},
	table: s3Table(map[Failure]Answer{
		SlowDown:             {http.StatusTooManyRequests, "TooManyRequests"},
		RequestExpired:       {http.StatusForbidden, "RequestTimeTooSkewed"},
		MalformedJSON:        {http.StatusBadRequest, "MalformedBody"},
		MalformedXML:         {http.StatusBadRequest, "MalformedBody"},
		InvalidConfiguration: {http.StatusBadRequest, "InvalidArgument"},
		NoSuchConfiguration:  {http.StatusNotFound, "NoSuchMirrorConfiguration"},
		NotImplemented:       {http.StatusNotImplemented, "UnImplemented"},
	}),
}
