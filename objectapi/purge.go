package objectapi

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minio/crc64nvme"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/requestlog"
	"github.com/mirrorkit/mirror/internal/signature"
	"github.com/mirrorkit/mirror/pull"
)

// Purges (docs/SERVING.md §2.2): DELETE /BUCKET/KEY (S3's DeleteObject)
// and POST /BUCKET?delete (S3's DeleteObjects, which aws s3 rm
// --recursive sends for the keys it lists), signed by a key that may
// configure the bucket, remove stored objects through the Fetcher, so
// that the next GET pulls them again.

// servePurge answers a purge request, and reports whether r was one:
// DELETE of a key, or POST ?delete of a bucket.
func (h *Handler) servePurge(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, own *httpapi.Dialect, bucket, key string) bool {
	switch {
	case r.Method == http.MethodDelete && key != "":
		if !onlyParams(r, "x-id") {
			e.Failf(httpapi.NotImplemented, "this gateway keeps no versions: DELETE takes no query")
			return true
		}
		if fail := h.mayPurge(r, bucket); fail != nil {
			e.Fail(fail)
			return true
		}
		requestlog.FromContext(r.Context()).SetOutcome("purge")
		if err := h.fetcherOf().Purge(r.Context(), bucket, key); err != nil {
			h.purgeFailed(e, err)
			return true
		}
		w.WriteHeader(http.StatusNoContent)
		return true
	case r.Method == http.MethodPost && key == "" && r.URL.Query().Has("delete"):
		if !onlyParams(r, "delete", "x-id") {
			e.Failf(httpapi.NotImplemented, "POST ?delete takes no other parameter")
			return true
		}
		h.deleteObjects(w, r, e, own, bucket)
		return true
	}
	return false
}

// mayPurge judges a purge: signed in its Authorization header (a
// presigned URL lives for days), by a key that may configure the bucket,
// as the configuration APIs judge a write.
func (h *Handler) mayPurge(r *http.Request, bucket string) *httpapi.Error {
	ak, signed, fail := signature.Verify(r, h.Credentials.Secret, time.Now())
	switch {
	case fail != nil:
		return fail
	case !signed:
		return httpapi.Fail(httpapi.AccessDenied, "a purge must be signed by a key that may configure the bucket")
	case signature.Presigned(r):
		return httpapi.Fail(httpapi.AccessDenied, "a purge is signed in its Authorization header, never by a presigned URL")
	case !h.Credentials.MayConfigure(ak, bucket):
		return httpapi.Fail(httpapi.AccessDenied, "the access key may not configure, nor purge, bucket "+bucket)
	}
	return nil
}

// purgeFailed answers a purge the store could not make.
func (h *Handler) purgeFailed(e *httpapi.Reply, err error) {
	if errors.Is(err, pull.ErrNoDelete) {
		e.Failf(httpapi.NotImplemented, "this gateway's store can not delete objects")
		return
	}
	h.internal(e, "deleting from the store", err)
}

// maxDeleteKeys is the most keys one DeleteObjects names, and
// maxDeleteBody the largest body taken: a thousand keys of 1,024 bytes,
// escaped, in their elements.
const (
	maxDeleteKeys = 1000
	maxDeleteBody = 8 << 20
)

// deleteRequest is S3's Delete document.
type deleteRequest struct {
	Quiet   bool `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID string  `xml:"VersionId"`
	} `xml:"Object"`
}

// deleteResult is S3's DeleteResult.
type deleteResult struct {
	XMLName xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedEntry  `xml:"Deleted"`
	Errors  []deleteFailure `xml:"Error"`
}

type deletedEntry struct {
	Key string `xml:"Key"`
}

type deleteFailure struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// deleteObjects answers S3's DeleteObjects: the body is checked as S3
// checks it (a Content-MD5 or an x-amz-checksum-*, required; at most 1000
// keys), and must be covered by the signature; each key is purged, and
// the answer names each one deleted (none in quiet mode) and each failure.
func (h *Handler) deleteObjects(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, own *httpapi.Dialect, bucket string) {
	if own != nil && own != httpapi.S3 {
		e.Failf(httpapi.NotImplemented, "DeleteObjects is S3's: sign it with Signature V4")
		return
	}
	if fail := h.mayPurge(r, bucket); fail != nil {
		e.Fail(fail)
		return
	}
	if signature.SchemeOf(r) != signature.SigV4 {
		e.Failf(httpapi.NotImplemented, "DeleteObjects is S3's: sign it with Signature V4")
		return
	}
	crcOnly, fail := deleteBodySigned(r)
	if fail != nil {
		e.Fail(fail)
		return
	}
	if r.ContentLength > maxDeleteBody {
		e.Failf(httpapi.EntityTooLarge, "a DeleteObjects body is at most 8 MiB")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDeleteBody+1))
	if err != nil || len(body) > maxDeleteBody {
		e.Failf(httpapi.EntityTooLarge, "a DeleteObjects body is at most 8 MiB")
		return
	}
	if fail := deleteBodyMatches(r, body); fail != nil {
		e.Fail(fail)
		return
	}
	if crcOnly {
		// The same purge sent again purges again, which is harmless; a
		// captured signature with another body is refused.
		if _, fail := h.seen.Replay(httpapi.ReplayKey(r.Header.Get("Authorization")), r.Method, body, time.Now()); fail != nil {
			e.Fail(fail)
			return
		}
	}
	requestlog.FromContext(r.Context()).SetOutcome("purge")
	var req deleteRequest
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil || len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		e.Failf(httpapi.MalformedXML, "want a Delete document naming 1 to 1000 objects")
		return
	}
	res := deleteResult{}
	for _, o := range req.Objects {
		switch {
		case o.Key == nil || *o.Key == "":
			res.Errors = append(res.Errors, deleteFailure{Code: "InvalidArgument", Message: "an Object without a Key"})
		case o.VersionID != "":
			res.Errors = append(res.Errors, deleteFailure{Key: *o.Key, Code: "NotImplemented", Message: "this gateway keeps no versions"})
		default:
			if err := h.fetcherOf().Purge(r.Context(), bucket, *o.Key); err != nil {
				h.logger().Warn("purge failed", "bucket", bucket, "key", *o.Key, "error", err)
				res.Errors = append(res.Errors, deleteFailure{Key: *o.Key, Code: "InternalError", Message: "the store could not delete the object"})
				continue
			}
			if !req.Quiet {
				res.Deleted = append(res.Deleted, deletedEntry{Key: *o.Key})
			}
		}
	}
	writeXML(w, res)
}

// unsignedPayload is SigV4's payload hash of a body it does not sign.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// checksumHeaders are the digests S3 takes for a body whose integrity it
// requires, each with how to compute it: Content-MD5 and the flexible
// checksums that SDKs send instead since 2025 (aws-cli and
// aws-sdk-go-v2 send x-amz-checksum-crc32 for DeleteObjects).
//
// A CRC is an integrity check anyone can match with another body (found
// in review): a purge signed over a CRC alone is taken only over TLS,
// where nobody on the path can swap its body, as aws-cli and
// aws-sdk-go-v2 sign over HTTPS (UNSIGNED-PAYLOAD and
// x-amz-checksum-crc32); and its signature is remembered with its body,
// so that a captured one is refused with another
// (internal/httpapi.SeenWrites).
var checksumHeaders = []struct {
	name    string
	hash    func() hash.Hash
	binding bool
}{
	{"Content-Md5", md5.New, true},
	{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }, false},
	{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }, false},
	{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64nvme.New() }, false},
	{"X-Amz-Checksum-Sha1", sha1.New, true},
	{"X-Amz-Checksum-Sha256", sha256.New, true},
}

// deleteBodySigned requires the signature to cover the body, as every
// write of the configuration APIs must (docs/SERVING.md §4.3): through
// x-amz-content-sha256 holding the body's SHA-256, or a signed digest
// header. A signature that leaves the body out could carry other keys
// while it is good.
//
// crcOnly reports a body that only a signed CRC stands for: the caller
// holds its signature to that body (SeenWrites).
func deleteBodySigned(r *http.Request) (crcOnly bool, _ *httpapi.Error) {
	if r.Header.Get("X-Amz-Content-Sha256") != unsignedPayload {
		return false, nil
	}
	signed := signature.SignedHeaders(r)
	for _, c := range checksumHeaders {
		if r.Header.Get(c.name) != "" && slices.Contains(signed, strings.ToLower(c.name)) {
			if c.binding {
				return false, nil
			}
			crcOnly = true
		}
	}
	if crcOnly && r.TLS != nil {
		return true, nil
	}
	return false, httpapi.Fail(httpapi.MalformedAuthorization,
		"the Authorization header is invalid: a purge must sign its body, in x-amz-content-sha256 or a signed Content-MD5, "+
			"x-amz-checksum-sha256 or x-amz-checksum-sha1 (a signed CRC is taken over HTTPS only)")
}

// deleteBodyMatches checks the body against x-amz-content-sha256 (which
// sigv4.Verify takes as signed, not checked) and against every digest
// header sent, of which S3 requires one.
func deleteBodyMatches(r *http.Request, body []byte) *httpapi.Error {
	if want := r.Header.Get("X-Amz-Content-Sha256"); want != unsignedPayload {
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) != 1 {
			return httpapi.Fail(httpapi.BadDigest, "the x-amz-content-sha256 you specified did not match what was received")
		}
	}
	found := false
	for _, c := range checksumHeaders {
		want := r.Header.Get(c.name)
		if want == "" {
			continue
		}
		found = true
		d := c.hash()
		d.Write(body)
		if subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(d.Sum(nil))), []byte(want)) != 1 {
			return httpapi.Fail(httpapi.BadDigest, "the "+c.name+" you specified did not match what was received")
		}
	}
	if !found {
		return httpapi.Fail(httpapi.InvalidArgument, "Missing required header for this request: Content-MD5 (or an x-amz-checksum-*)")
	}
	return nil
}
