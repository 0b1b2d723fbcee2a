package configapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/signature"
)

// A bucket's read policy (docs/SERVING.md §1.1) is set by PUT /BUCKET?acl
// with x-bce-acl or x-amz-acl, "private" or "public-read", signed with a
// key that may configure the bucket, in any scheme the object path takes;
// GET /BUCKET?acl says the policy in force. The answer's dialect follows
// the signature: BOS for BCE, QingStor for QS, the gateway's (S3's codes)
// for the rest.

// aclDialect is the dialect a policy request is answered in.
func aclDialect(r *http.Request) *httpapi.Dialect {
	auth := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(auth, "bce-auth-v1/") || r.URL.Query().Has("authorization"):
		return httpapi.BOS
	case strings.HasPrefix(auth, "QS ") || r.URL.Query().Has("signature"):
		return httpapi.QingStor
	}
	return httpapi.Gateway
}

// aclHeaders are where a policy is named, each only when signed.
var aclHeaders = []string{"x-bce-acl", "x-amz-acl"}

// serveACL serves one policy request.
func (h *Handler) serveACL(w http.ResponseWriter, r *http.Request) {
	rp := aclDialect(r).Start(w, r)
	if h.Credentials.Empty() {
		rp.Failf(httpapi.AccessDenied, "this gateway takes no configuration requests")
		return
	}
	bucket, key := httpapi.Router{Domain: h.Domain}.Route(r)
	if key != "" {
		bucket += "/" + key
	}
	e := h.mayConfigure(r, bucket)
	if e != nil {
		rp.Fail(e)
		return
	}
	switch r.Method {
	case http.MethodPut:
		p, e := policyOf(r)
		if e == nil && signature.Presigned(r) {
			e = httpapi.Fail(httpapi.AccessDenied, "a policy is set by a request signed in its Authorization header, never by a presigned URL")
		}
		if e != nil {
			rp.Fail(e)
			return
		}
		h.writeOnce(w, r, rp, []byte("acl "+p), func() bool {
			err := h.Registry.SetPolicy(r.Context(), bucket, p)
			if err != nil {
				h.internal(rp, "storing a read policy", "stored", err)
			}
			return err == nil
		})
	case http.MethodGet:
		stored, err := h.Registry.StoredPolicy(r.Context(), bucket)
		_, inForce, err2 := h.Registry.Bucket(r.Context(), bucket)
		if err == nil {
			err = err2
		}
		if err != nil {
			h.internal(rp, "reading a read policy", "read", err)
			return
		}
		body, _ := json.Marshal(struct {
			Policy bucketconfig.Policy `json:"policy"`
			Stored bool                `json:"stored"`
		}{inForce, stored != ""})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	default:
		w.Header().Set("Allow", "PUT, GET")
		rp.Failf(httpapi.MethodNotAllowed, "acl takes PUT and GET")
	}
}

// policyOf reads the policy a PUT names: one of the acl headers, signed,
// with a policy the gateway knows.
func policyOf(r *http.Request) (bucketconfig.Policy, *httpapi.Error) {
	signed := signature.SignedHeaders(r)
	var named []string
	for _, name := range aclHeaders {
		for _, v := range r.Header.Values(name) {
			if !slices.Contains(signed, name) {
				return "", httpapi.Fail(httpapi.MalformedAuthorization,
					"the Authorization header is invalid: "+name+" must be signed")
			}
			named = append(named, strings.TrimSpace(v))
		}
	}
	if len(named) != 1 {
		return "", httpapi.Fail(httpapi.InvalidArgument, "name the policy once, in x-bce-acl or x-amz-acl")
	}
	p, err := bucketconfig.ParsePolicy(named[0])
	if err != nil {
		return "", httpapi.Fail(httpapi.InvalidArgument, err.Error())
	}
	return p, nil
}

// mayConfigure judges a request of any signature scheme (the ?acl and
// ?cors sub-resources take them all) that would configure bucket: it
// must be signed, name a valid bucket, and by a key that may configure it.
func (h *Handler) mayConfigure(r *http.Request, bucket string) *httpapi.Error {
	ak, signed, e := signature.Verify(r, h.Credentials.Secret, h.now())
	switch {
	case e != nil:
		return e
	case !signed:
		return httpapi.Fail(httpapi.AccessDenied, "the request is not signed")
	case !mirror.ValidBucket(bucket):
		return httpapi.ErrBucketName
	case !h.Credentials.MayConfigure(ak, bucket):
		return httpapi.Fail(httpapi.AccessDenied, "the access key may not configure bucket "+bucket)
	}
	return nil
}
