package httpapi

import "net/http"

// GatewayError is the JSON error body of the gateway's own object path
// (docs/SERVING.md §1).
type GatewayError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// Gateway is the object path's dialect: S3's codes, in JSON, with the id
// in X-Request-Id.
var Gateway = &Dialect{
	Name: "gateway", RequestIDHeader: "X-Request-Id", ContentType: "application/json; charset=utf-8",
	body: func(code, message, id string) []byte {
		return append(jsonBody(GatewayError{code, message, id}), '\n')
	},
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
		MalformedAuthorization: {http.StatusBadRequest, "AuthorizationHeaderMalformed"},
		InvalidAccessKeyID:     {http.StatusForbidden, "InvalidAccessKeyId"},
		RequestExpired:         {http.StatusForbidden, "RequestExpired"},
		SignatureDoesNotMatch:  {http.StatusForbidden, "SignatureDoesNotMatch"},
		EntityTooLarge:         {http.StatusBadRequest, "EntityTooLarge"},
		BadDigest:              {http.StatusBadRequest, "BadDigest"},
		MalformedJSON:          {http.StatusBadRequest, "MalformedJSON"},
		InvalidConfiguration:   {http.StatusBadRequest, "InvalidArgument"},
		NoSuchConfiguration:    {http.StatusNotFound, "NoSuchConfiguration"},
	}),
}
