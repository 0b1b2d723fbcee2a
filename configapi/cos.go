package configapi

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/cossig"
	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The Tencent COS API: PUT|GET|DELETE /?origin with the bucket in the
// Host under -domain (BUCKETNAME-APPID.DOMAIN, as COS names its buckets;
// the gateway's bucket is that whole name), or /BUCKET?origin, as
// github.com/tencentyun/cos-go-sdk-v5's Bucket.PutOrigin, GetOrigin and
// DeleteOrigin send them, signed with COS's q-sign-algorithm=sha1 scheme
// (internal/cossig). The SDK only addresses buckets virtual-host style:
// its BucketURL's path is replaced by "/". The body is COS's XML
// OriginConfiguration, compiled as mirror.FormatCOS; answers and errors
// are COS's (httpapi.COS).
var cosAPI = &api{
	format: mirror.FormatCOS, dialect: httpapi.COS, virtualHost: true,
	name: "COS PutBucketOrigin", subresource: "origin",
	verify: cossig.Verify, digests: cosDigests, checkBody: cosXML,
	what: "an origin configuration", none: "the specified bucket does not have an origin configuration", resource: "origin",
}

// cosBodyCovered says whether a COS request's signature covers its body:
// through a signed, sent Content-MD5 (cos-go-sdk-v5 computes and signs
// one for every PutOrigin) or x-cos-content-sha1. The gateway holds the
// body to each (bodyMatches, cosDigests).
func cosBodyCovered(r *http.Request) bool {
	signed := cossig.SignedHeaders(r)
	return (slices.Contains(signed, "content-md5") && r.Header.Get("Content-Md5") != "") ||
		(slices.Contains(signed, "x-cos-content-sha1") && r.Header.Get("X-Cos-Content-Sha1") != "")
}

// cosDigests refuses a PUT whose signature leaves its body out (a
// captured request could carry any body while its signature is good; the
// SDK always signs Content-MD5, so this asks nothing of it), and a body
// that does not match its x-cos-content-sha1 (hex SHA-1, as COS defines
// it). Content-MD5 is checked by bodyMatches.
func cosDigests(r *http.Request, body []byte) *httpapi.Error {
	if !cosBodyCovered(r) {
		return httpapi.Fail(httpapi.MalformedAuthorization,
			"the COS signature is invalid: a PUT must sign content-md5 (cos-go-sdk-v5 always does) or x-cos-content-sha1 (q-header-list)")
	}
	if want := r.Header.Get("X-Cos-Content-Sha1"); want != "" {
		sum := sha1.Sum(body)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(want))) != 1 {
			return httpapi.Fail(httpapi.BadDigest, "the x-cos-content-sha1 you specified did not match what was received")
		}
	}
	return nil
}

// cosXML refuses, as COS does with 400 MalformedXML, a body that is not
// one well-formed UTF-8 XML document whose root is OriginConfiguration
// (JSON included: the format's importer reads only XML, but the API
// would otherwise answer its words for a rule set). What is left is the
// importer's to judge (400 InvalidArgument, every problem named by its
// path).
func cosXML(body []byte) *httpapi.Error {
	if why := cosXMLProblem(body); why != "" {
		return httpapi.Fail(httpapi.MalformedXML,
			"The XML you provided was not well-formed or did not validate against our published schema: "+why)
	}
	return nil
}

func cosXMLProblem(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, errors.New("encoding " + label + " is not read; send UTF-8")
	}
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		switch {
		case err == io.EOF && roots == 1:
			return ""
		case err == io.EOF:
			return "no root element"
		case err != nil:
			return err.Error()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 || t.Name.Local != "OriginConfiguration" {
					return "the root element is not one OriginConfiguration"
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return "text outside the root element"
			}
		case xml.Directive:
			return "a DTD or other directive"
		}
	}
}
