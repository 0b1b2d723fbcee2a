package configapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// A bucket has one configuration, whichever API put it (docs/SERVING.md
// §4.6). A GET through the API that put it returns the document as it was
// put; through another API, the same rules converted to that API's format
// (mirror.Engine.Export), or, where that format can not say them, that
// API's NoSuchConfiguration-class error naming the API that owns the
// configuration and the first rule or field it can not say.

// get is the document a GET through api answers with, or the failure.
func (h *Handler) get(r *http.Request, bucket string, api *api) (doc []byte, e *httpapi.Error, err error) {
	format, doc, ok, err := h.Registry.Config(r.Context(), bucket)
	switch {
	case err != nil:
		return nil, nil, err
	case !ok:
		return nil, httpapi.Fail(httpapi.NoSuchConfiguration, api.none), nil
	case format == api.format && inWireForm(api, doc):
		return doc, nil, nil
	}
	eng, err := h.Registry.Engine(r.Context(), bucket)
	if err != nil {
		return nil, nil, err
	}
	if eng == nil { // removed between the two reads
		return nil, httpapi.Fail(httpapi.NoSuchConfiguration, api.none), nil
	}
	out, err := eng.Export(api.format)
	var ce *mirror.CompileError
	switch {
	case errors.As(err, &ce):
		first := ce.Error()
		if i := strings.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		return nil, httpapi.Fail(httpapi.NotConvertible, "the bucket's configuration was put through "+ownerName(format)+
			" and can not be said as "+api.what+": "+first), nil
	case err != nil:
		return nil, nil, err
	}
	return out, nil, nil
}

// ownerName names the API that puts documents of format f.
func ownerName(f mirror.Format) string {
	for _, a := range apis {
		if a.format == f {
			return a.name
		}
	}
	return "the -bucket flag (format " + string(f) + ")"
}

// inWireForm says whether a stored document is in the syntax api's
// clients read (JSON or XML): an S3 document stored from `aws s3api`'s
// JSON by -bucket is answered through S3's XML API converted, not as it
// was put (the SDK would read JSON as an empty configuration).
func inWireForm(api *api, doc []byte) bool {
	for _, c := range doc {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return api.jsonBody
		}
		return !api.jsonBody
	}
	return true
}
