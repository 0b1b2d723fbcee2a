package httpapi

import (
	"encoding/xml"
	"net/http"
)

// COSError is Tencent COS's XML error body, as cos-go-sdk-v5's
// ErrorResponse reads it (COS API docs, "错误码", product/436/7730).
type COSError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
	TraceID   string   `xml:"TraceId"`
}

// COS is Tencent COS's dialect: its codes in XML, with the id in
// x-cos-request-id (and again as the body's RequestId and TraceId: the
// gateway has one id per request). Resource is the Host and path asked
// for, as COS names a resource ("examplebucket-1250000000.cos.ap-beijing.myqcloud.com/key").
//
// The table is S3's, with COS's own codes over it: no origin
// configuration is 404 OriginConfigurationNotFoundError; a signature
// whose time is out of bounds is 403 RequestTimeTooSkewed (COS answers a
// presigned URL past its end 403 AccessDenied "Request has expired",
// which internal/cossig says itself); COS has no code for a malformed
// Authorization, so it is its generic 400 InvalidArgument, and neither for
// a body that is not JSON (no COS API takes one): 400 InvalidRequest.
// A failed mirror stays 424, as COS answers a failed origin pull.
var COS = &Dialect{
	Name: "cos", RequestIDHeader: "X-Cos-Request-Id", ContentType: "application/xml",
	body: func(code, message, id string, r *http.Request) []byte {
		b, _ := xml.Marshal(COSError{Code: code, Message: message, Resource: r.Host + r.URL.Path, RequestID: id, TraceID: id})
		return append([]byte(xml.Header), b...)
	},
	table: s3Table(map[Failure]Answer{
		MalformedAuthorization: {http.StatusBadRequest, "InvalidArgument"},
		RequestExpired:         {http.StatusForbidden, "RequestTimeTooSkewed"},
		MalformedJSON:          {http.StatusBadRequest, "InvalidRequest"},
		NoSuchConfiguration:    {http.StatusNotFound, "OriginConfigurationNotFoundError"},
	}),
}
