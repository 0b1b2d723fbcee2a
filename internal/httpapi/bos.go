package httpapi

import "net/http"

// BOSError is Baidu BOS's error body.
type BOSError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// BOS is Baidu BOS's dialect, as bce-sdk-go reads it: its codes, in JSON,
// with the id in X-Bce-Request-Id.
var BOS = &Dialect{
	Name: "bos", RequestIDHeader: "X-Bce-Request-Id", ContentType: "application/json; charset=utf-8",
	body: func(code, message, id string) []byte { return jsonBody(BOSError{code, message, id}) },
	table: table(map[Failure]Answer{
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
		MalformedAuthorization: {http.StatusBadRequest, "InvalidHTTPAuthHeader"},
		InvalidAccessKeyID:     {http.StatusForbidden, "InvalidAccessKeyId"},
		RequestExpired:         {http.StatusForbidden, "RequestExpired"},
		SignatureDoesNotMatch:  {http.StatusForbidden, "SignatureDoesNotMatch"},
		EntityTooLarge:         {http.StatusBadRequest, "EntityTooLarge"},
		BadDigest:              {http.StatusBadRequest, "BadDigest"},
		MalformedJSON:          {http.StatusBadRequest, "MalformedJSON"},
		InvalidConfiguration:   {http.StatusBadRequest, "InappropriateJSON"},
		NoSuchConfiguration:    {http.StatusNotFound, "NoSuchMirroring"},
	}),
}
