package httpapi

import (
	"encoding/xml"
	"net/http"
)

// OSSError is Aliyun OSS's XML error body, as
// alibabacloud-oss-go-sdk-v2 reads it into its ServiceError (Code,
// Message, RequestId); HostId is the host the request was sent to, as
// OSS's own bodies carry it.
type OSSError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// OSS is Aliyun OSS's dialect: its codes and statuses in XML
// (application/xml), with the id in x-oss-request-id, where the SDK
// reads it. S3's table underneath, as OSS's codes are S3's but where it
// names its own: RequestTimeTooSkewed for a header time too far off (on
// which the SDK corrects its clock from the answer's Date and tries
// again), InvalidArgument for a malformed Authorization, InvalidDigest
// for a Content-MD5 that does not match, NoSuchWebsiteConfiguration.
var OSS = &Dialect{
	Name: "oss", RequestIDHeader: "X-Oss-Request-Id", ContentType: "application/xml",
	body: func(code, message, id string, r *http.Request) []byte {
		b, _ := xml.Marshal(OSSError{Code: code, Message: message, RequestID: id, HostID: r.Host})
		return append([]byte(xml.Header), b...)
	},
	table: s3Table(map[Failure]Answer{
		MalformedAuthorization: {http.StatusBadRequest, "InvalidArgument"},
		RequestExpired:         {http.StatusForbidden, "RequestTimeTooSkewed"},
		BadDigest:              {http.StatusBadRequest, "InvalidDigest"},
		NoSuchConfiguration:    {http.StatusNotFound, "NoSuchWebsiteConfiguration"},
	}),
}
