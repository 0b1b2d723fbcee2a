package objectapi

import (
	"encoding/xml"
	"net/http"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/signature"
	"github.com/mirrorkit/mirror/pull"
)

// serveService answers a request for the service itself, GET / (S3's
// ListBuckets): signed, it names the buckets the key may read that hold
// objects or a configuration (docs/SERVING.md §1). An unsigned one is
// refused: bucket names are the gateway's, not the public's. own is the
// dialect the request speaks itself (nil: none).
func (h *Handler) serveService(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, own *httpapi.Dialect) {
	if r.Method != http.MethodGet || !onlyParams(r, "x-id") {
		e.Failf(httpapi.NotImplemented, "this gateway answers GET / (ListBuckets) of the service, nothing else")
		return
	}
	ak, signed, fail := signature.Verify(r, h.Credentials.Secret, time.Now())
	switch {
	case fail != nil:
		e.Fail(fail)
		return
	case !signed:
		e.Failf(httpapi.AccessDenied, "listing buckets needs a signed request")
		return
	}
	lister, ok := h.storeOf().(pull.Lister)
	if !ok || own != nil && own != httpapi.S3 {
		e.Failf(httpapi.NotImplemented, "this gateway lists buckets in S3's ListBuckets only")
		return
	}
	names, err := lister.Buckets(r.Context())
	if err != nil {
		h.internal(e, "listing the store", err)
		return
	}
	res := bucketsResult{Owner: owner{ID: ak, DisplayName: ak}}
	for _, b := range names {
		if h.Credentials.MayRead(ak, b) {
			res.Buckets.Bucket = append(res.Buckets.Bucket, bucketEntry{Name: b, CreationDate: bucketEpoch})
		}
	}
	writeXML(w, res)
}

// onlyParams reports whether a request's query has no parameter but the
// ones named.
func onlyParams(r *http.Request, names ...string) bool {
	for name := range r.URL.Query() {
		found := false
		for _, n := range names {
			found = found || n == name
		}
		if !found {
			return false
		}
	}
	return true
}

// bucketEpoch is the CreationDate of every bucket ListBuckets names: the
// gateway does not know when a bucket was made (docs/SERVING.md §1).
const bucketEpoch = "1970-01-01T00:00:00.000Z"

// bucketsResult is S3's ListAllMyBucketsResult.
type bucketsResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   owner    `xml:"Owner"`
	Buckets struct {
		Bucket []bucketEntry `xml:"Bucket"`
	} `xml:"Buckets"`
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
}
