package httpapi

import "net/http"

// QingStorError is QingStor's error body.
type QingStorError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	URL       string `json:"url"`
}

// qingstorCodes is where QingStor documents its error codes; every error
// body links it, as QingStor's own do.
const qingstorCodes = "https://docs.qingcloud.com/qingstor/api/common/error_code"

// QingStor is QingStor's dialect, as qingstor-sdk-go reads it: its codes
// and statuses (401 for a bad key or signature), in JSON whose
// Content-Type is exactly application/json (the SDK reads an error's code
// only from such a response), with the id in X-QS-Request-ID.
var QingStor = &Dialect{
	Name: "qingstor", RequestIDHeader: "X-QS-Request-ID", ContentType: "application/json",
	body: func(code, message, id string, _ *http.Request) []byte {
		return jsonBody(QingStorError{code, message, id, qingstorCodes})
	},
	table: table(map[Failure]Answer{
		InternalError:          {http.StatusInternalServerError, "internal_server_error"},
		MethodNotAllowed:       {http.StatusMethodNotAllowed, "method_not_allowed"},
		InvalidBucketName:      {http.StatusBadRequest, "invalid_bucket_name"},
		InvalidObjectName:      {http.StatusBadRequest, "invalid_object_name"},
		InvalidArgument:        {http.StatusBadRequest, "invalid_argument"},
		NoSuchBucket:           {http.StatusNotFound, "bucket_not_exists"},
		NoSuchKey:              {http.StatusNotFound, "object_not_exists"},
		SlowDown:               {http.StatusServiceUnavailable, "service_unavailable"},
		MirrorFailed:           {http.StatusFailedDependency, "mirror_failed"},
		AccessDenied:           {http.StatusForbidden, "permission_denied"},
		MalformedAuthorization: {http.StatusUnauthorized, "invalid_access_key_id"},
		InvalidAccessKeyID:     {http.StatusUnauthorized, "invalid_access_key_id"},
		RequestExpired:         {http.StatusForbidden, "request_expired"},
		SignatureDoesNotMatch:  {http.StatusUnauthorized, "signature_not_matched"},
		EntityTooLarge:         {http.StatusBadRequest, "invalid_request"},
		BadDigest:              {http.StatusBadRequest, "bad_digest"},
		MalformedJSON:          {http.StatusBadRequest, "invalid_json"},
		InvalidConfiguration:   {http.StatusBadRequest, "invalid_argument"},
		NoSuchConfiguration:    {http.StatusNotFound, "mirror_not_exists"},
		NotImplemented:         {http.StatusNotImplemented, "not_implemented"},

		// The CORS failures: QingStor's nearest codes.
		MalformedXML:            {http.StatusBadRequest, "invalid_request"},
		NoSuchCORSConfiguration: {http.StatusNotFound, "cors_not_configured"},
		CORSForbidden:           {http.StatusForbidden, "permission_denied"},

		// QingStor has none: RFC 9111's status, in its style.
		NotCached: {http.StatusGatewayTimeout, "object_not_cached"},
		// A configuration another API put that QingStor's can not say.
		NotConvertible: {http.StatusBadRequest, "invalid_request"},
	}),
}
