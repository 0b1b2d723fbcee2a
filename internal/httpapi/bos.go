package httpapi

import "net/http"

// BOS is Baidu BOS's dialect, as bce-sdk-go reads it: its codes, in JSON,
// with the id in X-Bce-Request-Id.
var BOS = &Dialect{
	Name: "bos", RequestIDHeader: "X-Bce-Request-Id", ContentType: "application/json; charset=utf-8",
	body: func(code, message, id string, _ *http.Request) []byte { return jsonBody(JSONError{code, message, id}) },
	table: s3Table(map[Failure]Answer{
		MalformedAuthorization: {http.StatusBadRequest, "InvalidHTTPAuthHeader"},
		InvalidConfiguration:   {http.StatusBadRequest, "InappropriateJSON"},
		NoSuchConfiguration:    {http.StatusNotFound, "NoSuchMirroring"},
	}),
}
