package objectapi

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/pull"
)

// serveBucket answers a request for the bucket itself, never taken for an
// empty key (docs/SERVING.md §1): GET ?location (S3's GetBucketLocation,
// which minio-go and mc ask first), HEAD (HeadBucket), and GET with
// nothing but listing parameters (ListObjectsV2 with list-type=2, else
// ListObjects), of a bucket that has a configuration or objects; every
// other bucket request is 501 NotImplemented in the client's dialect.
// The read check came first: listing follows the bucket's read policy.
// own is the dialect the request speaks itself (nil: none).
func (h *Handler) serveBucket(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, own *httpapi.Dialect, bucket string, eng *mirror.Engine) {
	q := r.URL.Query()
	location := r.Method == http.MethodGet && q.Has("location")
	list := r.Method == http.MethodGet && !location && onlyListing(q)
	if r.Method != http.MethodHead && !location && !list {
		e.Failf(httpapi.NotImplemented, "this gateway answers GET ?location, HEAD and listings of a bucket, not other bucket requests")
		return
	}
	lister, canList := h.storeOf().(pull.Lister)
	if list && (!canList || own != nil && own != httpapi.S3) {
		// S3's ListObjects is the one listing spoken here: a BOS or
		// QingStor SDK would not read its XML.
		e.Failf(httpapi.NotImplemented, "this gateway lists buckets in S3's ListObjects and ListObjectsV2 only")
		return
	}
	exists := eng != nil
	if !exists {
		var err error
		if exists, err = h.storeOf().HasObjects(r.Context(), bucket); err != nil {
			h.internal(e, "reading the store", err)
			return
		}
	}
	if !exists {
		e.Failf(httpapi.NoSuchBucket, "the bucket has no mirror configuration and no objects")
		return
	}
	switch {
	case r.Method == http.MethodHead:
		w.WriteHeader(http.StatusOK)
	case location:
		// One region, S3's default: an empty constraint says us-east-1.
		writeXML(w, locationResult{})
	default:
		h.list(w, r, e, lister, bucket)
	}
}

// listingParams are the query parameters of S3's ListObjects and
// ListObjectsV2 (x-id is what aws-sdk-go-v2 adds to name the operation).
var listingParams = map[string]bool{"list-type": true, "prefix": true, "delimiter": true, "max-keys": true,
	"continuation-token": true, "start-after": true, "encoding-type": true, "fetch-owner": true, "marker": true,
	"x-id": true}

// onlyListing reports whether a bucket GET asks for a listing: it has no
// parameter but a listing's, so that a sub-resource (?policy, ?versions,
// ?uploads) is never answered with a listing its client would misread.
func onlyListing(q url.Values) bool {
	for name := range q {
		if !listingParams[name] {
			return false
		}
	}
	return true
}

// maxListKeys is the most a page holds, and its size when unasked: S3's.
const maxListKeys = 1000

// maxListParam bounds a listing parameter: a prefix, marker or key is at
// most 1024 bytes; a continuation token is one in base64.
const maxListParam = 2048

// list answers ListObjects and ListObjectsV2 from the store's committed
// objects (docs/SERVING.md §1).
func (h *Handler) list(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, lister pull.Lister, bucket string) {
	q := r.URL.Query()
	v2 := q.Has("list-type")
	if v2 && q.Get("list-type") != "2" {
		e.Failf(httpapi.InvalidArgument, "list-type must be 2")
		return
	}
	for name := range q {
		if v := q.Get(name); len(v) > maxListParam || !utf8.ValidString(v) {
			e.Failf(httpapi.InvalidArgument, name+" is not UTF-8 of at most 2048 bytes")
			return
		}
	}
	encode := q.Get("encoding-type")
	if encode != "" && encode != "url" {
		e.Failf(httpapi.InvalidArgument, "encoding-type must be url")
		return
	}
	maxKeys := maxListKeys
	if v := q.Get("max-keys"); q.Has("max-keys") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			e.Failf(httpapi.InvalidArgument, "max-keys must be a non-negative integer")
			return
		}
		maxKeys = min(n, maxListKeys)
	}
	query := pull.ListQuery{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), Limit: maxKeys}
	if v2 {
		query.After = q.Get("start-after")
		if q.Has("continuation-token") {
			after, err := base64.RawURLEncoding.DecodeString(q.Get("continuation-token"))
			if err != nil || !utf8.Valid(after) {
				e.Failf(httpapi.InvalidArgument, "the continuation token is not one this gateway gave")
				return
			}
			query.After = string(after)
		}
	} else {
		query.After = q.Get("marker")
	}
	var page pull.ListPage
	if maxKeys > 0 {
		var err error
		if page, err = lister.List(r.Context(), bucket, query); err != nil {
			h.internal(e, "listing the store", err)
			return
		}
	}
	if encode != "url" && !xmlSafePage(page) {
		// encoding/xml would write U+FFFD for such a character: the
		// client would read another key, and a ListObjects marker made
		// of it would list the same page again, forever.
		e.Failf(httpapi.InvalidArgument, "this page holds a key XML 1.0 can not carry: list with encoding-type=url")
		return
	}
	name := func(s string) string {
		if encode == "url" {
			return s3Escape(s)
		}
		return s
	}
	res := listResult{Name: bucket, Prefix: name(query.Prefix), MaxKeys: maxKeys, IsTruncated: page.Truncated}
	if query.Delimiter != "" {
		res.Delimiter = ptr(name(query.Delimiter))
	}
	if encode != "" {
		res.EncodingType = &encode
	}
	for _, o := range page.Objects {
		class := o.Info.StorageClass
		if class == "" {
			class = "STANDARD"
		}
		res.Contents = append(res.Contents, listEntry{Key: name(o.Key),
			LastModified: o.Info.LastModified.UTC().Format(s3Time), ETag: `"` + o.Info.ETag + `"`,
			Size: o.Info.Size, StorageClass: class})
	}
	for _, p := range page.Prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{name(p)})
	}
	if v2 {
		res.KeyCount = ptr(len(page.Objects) + len(page.Prefixes))
		if q.Has("continuation-token") {
			res.ContinuationToken = ptr(q.Get("continuation-token"))
		}
		if q.Has("start-after") {
			res.StartAfter = ptr(name(q.Get("start-after")))
		}
		if page.Truncated {
			res.NextContinuationToken = ptr(base64.RawURLEncoding.EncodeToString([]byte(page.Next)))
		}
	} else {
		res.Marker = ptr(name(query.After))
		if page.Truncated {
			res.NextMarker = ptr(name(page.Next))
		}
	}
	writeXML(w, res)
}

// s3Time is the form of S3's listing times.
const s3Time = "2006-01-02T15:04:05.000Z"

// listResult is S3's ListBucketResult, of either version: the fields of
// the other are nil.
type listResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker"`
	NextMarker            *string        `xml:"NextMarker"`
	ContinuationToken     *string        `xml:"ContinuationToken"`
	NextContinuationToken *string        `xml:"NextContinuationToken"`
	StartAfter            *string        `xml:"StartAfter"`
	KeyCount              *int           `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             *string        `xml:"Delimiter"`
	EncodingType          *string        `xml:"EncodingType"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listEntry    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type locationResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
}

// writeXML answers 200 with v as an XML document.
func writeXML(w http.ResponseWriter, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		// Every value written here marshals: a failure is a bug.
		panic(err)
	}
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// xmlSafePage reports whether every key and common prefix of a page is
// text XML 1.0 can carry.
func xmlSafePage(p pull.ListPage) bool {
	for _, o := range p.Objects {
		if !xmlSafe(o.Key) {
			return false
		}
	}
	for _, cp := range p.Prefixes {
		if !xmlSafe(cp) {
			return false
		}
	}
	return xmlSafe(p.Next)
}

// xmlSafe reports whether s is UTF-8 of XML 1.0's characters only (its
// Char production: no control character but tab, newline and carriage
// return, no U+FFFE or U+FFFF).
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000:
		default:
			return false
		}
	}
	return true
}

// s3Escape is a name as encoding-type=url gives it: every byte but the
// unreserved ones and "/" percent-encoded, which SDKs decode with a query
// unescape (a "+" is sent as %2B, a space as %20). It is how a key holding
// a character XML 1.0 can not carry is listed whole (docs/SERVING.md §1).
func s3Escape(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
