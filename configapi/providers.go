package configapi

import (
	"net/http"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// refuseAll is the verifier of an API not built yet.
func refuseAll(*http.Request, func(string) (string, bool), time.Time) (string, *httpapi.Error) {
	return "", httpapi.Fail(httpapi.NotImplemented, "this configuration API is not answered yet")
}
