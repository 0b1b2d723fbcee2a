package configapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/signature"
)

// A bucket's CORS rules (docs/SERVING.md §4.5) are put, read and deleted
// by PUT|GET|DELETE /BUCKET?cors, signed by a key that may configure the
// bucket: S3's CORSConfiguration XML signed with Signature V4, as
// aws-sdk-go-v2's PutBucketCors, GetBucketCors and DeleteBucketCors send
// it, or BOS's JSON signed with BCE auth v1, as bce-sdk-go's do. The
// signature's scheme says which: the body, the answer and its errors are
// in that provider's dialect. A write's body must be covered by its
// signature, and a write is taken once per signature (replay.go).

// corsDialect is what one provider's ?cors says differently.
type corsDialect struct {
	dialect *httpapi.Dialect
	parse   func([]byte) (*bucketconfig.CORS, error)
	write   func(*bucketconfig.CORS) []byte
	// malformed is the failure of a body that does not parse.
	malformed httpapi.Failure
}

var (
	s3CORS  = &corsDialect{httpapi.S3, bucketconfig.ParseS3CORS, (*bucketconfig.CORS).S3XML, httpapi.MalformedXML}
	bosCORS = &corsDialect{httpapi.BOS, bucketconfig.ParseBOSCORS, (*bucketconfig.CORS).BOSJSON, httpapi.MalformedJSON}
)

// corsDialectOf is the dialect of a ?cors request signed with scheme:
// nil for QingStor's, whose CORS API the gateway does not speak (its
// refusal is in QingStor's dialect). An unsigned request is answered in
// S3's: ?cors is S3's sub-resource before it is BOS's.
func corsDialectOf(scheme signature.Scheme) (*corsDialect, *httpapi.Dialect) {
	switch scheme {
	case signature.BCE:
		return bosCORS, httpapi.BOS
	case signature.QingStor:
		return nil, httpapi.QingStor
	}
	return s3CORS, httpapi.S3
}

// serveCORS serves one ?cors request: the signature first (it covers the
// path), then the bucket name, then the key's scope, as for ?acl.
func (h *Handler) serveCORS(w http.ResponseWriter, r *http.Request) {
	scheme := signature.SchemeOf(r)
	api, d := corsDialectOf(scheme)
	rp := d.Start(w, r)
	if h.Credentials.Empty() {
		rp.Failf(httpapi.AccessDenied, "this gateway takes no configuration requests")
		return
	}
	bucket, key := httpapi.Router{Domain: h.Domain}.Route(r)
	if key != "" {
		bucket += "/" + key // CORS rules are a bucket's, never an object's
	}
	e := h.mayConfigure(r, bucket)
	switch {
	case e != nil:
	case api == nil:
		e = httpapi.Fail(httpapi.NotImplemented, "?cors takes S3's XML signed with Signature V4, or BOS's JSON signed with BCE auth v1")
	}
	if e != nil {
		rp.Fail(e)
		return
	}
	switch r.Method {
	case http.MethodPut:
		h.putCORS(w, r, rp, api, bucket)
	case http.MethodGet:
		c, err := h.Registry.CORS(r.Context(), bucket)
		switch {
		case err != nil:
			h.internal(rp, "reading CORS rules", "read", err)
		case c == nil:
			rp.Failf(httpapi.NoSuchCORSConfiguration, "the bucket has no CORS configuration")
		default:
			body := api.write(c)
			w.Header().Set("Content-Type", d.ContentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	case http.MethodDelete:
		h.writeOnce(w, r, rp, []byte("cors"), func() bool {
			_, err := h.Registry.DeleteCORS(r.Context(), bucket)
			if err != nil {
				h.internal(rp, "deleting CORS rules", "deleted", err)
			}
			return err == nil
		})
	default:
		w.Header().Set("Allow", "PUT, GET, DELETE")
		rp.Failf(httpapi.MethodNotAllowed, "cors takes PUT, GET and DELETE")
	}
}

// putCORS checks and stores a PUT's rules.
func (h *Handler) putCORS(w http.ResponseWriter, r *http.Request, rp *httpapi.Reply, api *corsDialect, bucket string) {
	if signature.Presigned(r) {
		rp.Failf(httpapi.AccessDenied, "CORS rules are set by a request signed in its Authorization header, never by a presigned URL")
		return
	}
	if e := corsBodySigned(r); e != nil {
		rp.Fail(e)
		return
	}
	body, ok := readBody(r)
	if !ok {
		rp.Failf(httpapi.EntityTooLarge, "a CORS configuration is at most 64 KiB")
		return
	}
	if e := bodyMatches(r, body); e != nil {
		rp.Fail(e)
		return
	}
	if e := payloadMatches(r, body); e != nil {
		rp.Fail(e)
		return
	}
	c, err := api.parse(body)
	if ce := (*bucketconfig.CORSError)(nil); errors.As(err, &ce) {
		f := httpapi.InvalidConfiguration
		if ce.Malformed {
			f = api.malformed
		}
		rp.Failf(f, ce.Error())
		return
	}
	h.writeOnce(w, r, rp, append([]byte("cors\n"), body...), func() bool {
		err := h.Registry.PutCORS(r.Context(), bucket, c)
		if err != nil {
			h.internal(rp, "storing CORS rules", "stored", err)
		}
		return err == nil
	})
}

// unsignedPayload is SigV4's payload hash of a body it does not sign.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// corsBodySigned requires a write's signature to cover its body: BCE's as
// for every BOS write (bodySigned); SigV4's through x-amz-content-sha256,
// which the signature always covers, holding the body's SHA-256 (as
// aws-sdk-go-v2 sends it for PutBucketCors), or else a signed
// Content-MD5. A signature that leaves the body out could carry any body
// while it is good.
func corsBodySigned(r *http.Request) *httpapi.Error {
	if signature.SchemeOf(r) != signature.SigV4 {
		return bodySigned(r)
	}
	if r.Header.Get("X-Amz-Content-Sha256") != unsignedPayload ||
		(slices.Contains(signature.SignedHeaders(r), "content-md5") && r.Header.Get("Content-Md5") != "") {
		return nil
	}
	return httpapi.Fail(httpapi.MalformedAuthorization,
		"the Authorization header is invalid: a write must sign its body, in x-amz-content-sha256 or a signed content-md5")
}

// payloadMatches checks the body against a SigV4 request's
// x-amz-content-sha256 (which sigv4.Verify takes as signed, not checked:
// it reads no body).
func payloadMatches(r *http.Request, body []byte) *httpapi.Error {
	want := r.Header.Get("X-Amz-Content-Sha256")
	if want == "" || want == unsignedPayload {
		// Checked whenever sent, whatever else the query names (found in
		// review: a signed foreign parameter skipped the check).
		return nil
	}
	sum := sha256.Sum256(body)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) != 1 {
		return httpapi.Fail(httpapi.BadDigest, "the x-amz-content-sha256 you specified did not match what was received")
	}
	return nil
}
