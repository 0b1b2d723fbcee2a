package httpapi

import (
	"encoding/xml"
	"net/http"
)

// OBSError is Huawei OBS's XML error body, as its API reference shows
// it for every API (the JSON ones too) and huaweicloud-sdk-go-obs reads
// it (obs.ObsError): Code, Message, Resource, RequestId, HostId. The
// gateway has no host id to give; the element is there, empty.
type OBSError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// OBS is Huawei OBS's dialect, as huaweicloud-sdk-go-obs reads it: S3's
// codes and statuses, which OBS's error table shares, in XML of type
// application/xml (the SDK reads an error body as JSON only when its
// Content-Type is exactly application/json), with the id in
// x-obs-request-id (the SDK reads the request id from x-obs- and x-amz-
// headers alike, whichever signature it used). Its own rows:
//
//   - RequestExpired is RequestTimeTooSkewed, OBS's code for a Date (or
//     x-obs-date) too far from its clock.
//   - MalformedAuthorization is 400 InvalidArgument, S3's answer to a
//     signature-version-2 Authorization header that is not "AWS AK:SIG"
//     (AuthorizationHeaderMalformed is version 4's).
//   - NoSuchConfiguration is 404 NoSuchMirrorBackToSource. **Choice:** OBS
//     documents no code for a bucket without mirror back-to-source rules
//     (its GetBucketMirrorBackToSource page says "no special error
//     responses"); this one follows its NoSuchWebsiteConfiguration,
//     NoSuchCORSConfiguration, NoSuchBucketPolicy with the sub-resource's
//     name.
var OBS = &Dialect{
	Name: "obs", RequestIDHeader: "X-Obs-Request-Id", ContentType: "application/xml",
	body: func(code, message, id string, r *http.Request) []byte {
		b, _ := xml.Marshal(OBSError{Code: code, Message: message, Resource: r.URL.Path, RequestID: id})
		return append([]byte(xml.Header), b...)
	},
	table: s3Table(map[Failure]Answer{
		RequestExpired:         {http.StatusForbidden, "RequestTimeTooSkewed"},
		MalformedAuthorization: {http.StatusBadRequest, "InvalidArgument"},
		NoSuchConfiguration:    {http.StatusNotFound, "NoSuchMirrorBackToSource"},
	}),
}
