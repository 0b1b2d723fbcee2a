package httpapi

import (
	"encoding/xml"
	"net/http"
)

// S3Error is S3's XML error body, as every S3 SDK and tool reads it.
type S3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

// S3 is S3's dialect: its codes in XML, with the id in x-amz-request-id.
// **Choice:** a failed mirror is 503 here, where the other dialects say
// 424 as the providers do: S3 SDKs retry a 5xx and give up on a 424, and
// a fetch that failed (an origin down, a body cut short) may well succeed
// when tried again (docs/SERVING.md §1).
var S3 = &Dialect{
	Name: "s3", RequestIDHeader: "X-Amz-Request-Id", ContentType: "application/xml",
	body: func(code, message, id string, r *http.Request) []byte {
		b, _ := xml.Marshal(S3Error{Code: code, Message: message, Resource: r.URL.Path, RequestID: id})
		return append([]byte(xml.Header), b...)
	},
	table: s3Table(map[Failure]Answer{
		MirrorFailed: {http.StatusServiceUnavailable, "MirrorFailed"},
	}),
}

// S3Website is S3's dialect for PutBucketWebsite, GetBucketWebsite and
// DeleteBucketWebsite: S3's, with the two codes S3 gives there that its
// other answers do not: NoSuchWebsiteConfiguration for a bucket without
// one, and RequestTimeTooSkewed for a header signature whose time is more
// than MaxClockSkew off (aws-sdk-go-v2 corrects its clock and retries on
// that code, never on RequestExpired).
var S3Website = &Dialect{
	Name: "s3-website", RequestIDHeader: S3.RequestIDHeader, ContentType: S3.ContentType, body: S3.body,
	table: func() [numFailures]Answer {
		t := S3.table
		t[NoSuchConfiguration] = Answer{http.StatusNotFound, "NoSuchWebsiteConfiguration"}
		t[RequestExpired] = Answer{http.StatusForbidden, "RequestTimeTooSkewed"}
		return t
	}(),
}
