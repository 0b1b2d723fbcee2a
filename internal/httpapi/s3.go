package httpapi

import "net/http"

// s3Answers is S3's answer to each failure: the status and code S3 (and
// every S3-style API) gives it, or the nearest one where S3 has none.
var s3Answers = map[Failure]Answer{
	InternalError:          {http.StatusInternalServerError, "InternalError"},
	MethodNotAllowed:       {http.StatusMethodNotAllowed, "MethodNotAllowed"},
	InvalidBucketName:      {http.StatusBadRequest, "InvalidBucketName"},
	InvalidObjectName:      {http.StatusBadRequest, "InvalidObjectName"},
	InvalidArgument:        {http.StatusBadRequest, "InvalidArgument"},
	NoSuchBucket:           {http.StatusNotFound, "NoSuchBucket"},
	NoSuchKey:              {http.StatusNotFound, "NoSuchKey"},
	SlowDown:               {http.StatusServiceUnavailable, "SlowDown"},
	MirrorFailed:           {http.StatusFailedDependency, "MirrorFailed"},
	AccessDenied:           {http.StatusForbidden, "AccessDenied"},
	MalformedAuthorization: {http.StatusBadRequest, "AuthorizationHeaderMalformed"},
	InvalidAccessKeyID:     {http.StatusForbidden, "InvalidAccessKeyId"},
	RequestExpired:         {http.StatusForbidden, "RequestExpired"},
	SignatureDoesNotMatch:  {http.StatusForbidden, "SignatureDoesNotMatch"},
	EntityTooLarge:         {http.StatusBadRequest, "EntityTooLarge"},
	BadDigest:              {http.StatusBadRequest, "BadDigest"},
	MalformedJSON:          {http.StatusBadRequest, "MalformedJSON"},
	InvalidConfiguration:   {http.StatusBadRequest, "InvalidArgument"},
	NoSuchConfiguration:    {http.StatusNotFound, "NoSuchConfiguration"},
	NotImplemented:         {http.StatusNotImplemented, "NotImplemented"},
	MalformedXML:           {http.StatusBadRequest, "MalformedXML"},
	// S3's codes for CORS; BOS documents none of its own for them.
	NoSuchCORSConfiguration: {http.StatusNotFound, "NoSuchCORSConfiguration"},
	CORSForbidden:           {http.StatusForbidden, "AccessForbidden"},
	// S3 has no code for it: RFC 9111 §5.2.1.7's status, with a name of
	// ours in S3's style.
	NotCached: {http.StatusGatewayTimeout, "NotCached"},
	// A configuration another API put that this API's format can not say
	// (docs/SERVING.md §4.6): S3's code for a request it can not honour
	// as made.
	NotConvertible: {http.StatusBadRequest, "InvalidRequest"},
}

// s3Table is S3's table with an API's own answers over it.
func s3Table(own map[Failure]Answer) [numFailures]Answer {
	t := table(s3Answers)
	for f, a := range own {
		t[f] = a
	}
	return t
}
