package httpapi

import "net/http"

// JSONError is the error body of the gateway's own object path
// (docs/SERVING.md §1) and of BOS, which have the same members.
type JSONError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// Gateway is the object path's dialect: S3's codes, in JSON, with the id
// in X-Request-Id.
var Gateway = &Dialect{
	Name: "gateway", RequestIDHeader: "X-Request-Id", ContentType: "application/json; charset=utf-8",
	body: func(code, message, id string, _ *http.Request) []byte {
		return append(jsonBody(JSONError{code, message, id}), '\n')
	},
	table: s3Table(nil),
}
