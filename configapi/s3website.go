package configapi

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/crc64nvme"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/signature"
	"github.com/mirrorkit/mirror/internal/sigv4"
)

// The AWS S3 API: PUT|GET|DELETE /BUCKET?website (and /?website with the
// bucket in the Host under -domain), as
// github.com/aws/aws-sdk-go-v2/service/s3's PutBucketWebsite,
// GetBucketWebsite and DeleteBucketWebsite send them, signed with
// Signature V4 (internal/sigv4, the object path's verifier). It takes
// every ?website request the OSS API does not claim (those signed in
// OSS's schemes), so an unsigned one is answered in S3's words. The body is S3's XML
// WebsiteConfiguration, compiled as mirror.FormatS3: RoutingRules (each a
// redirect), or RedirectAllRequestsTo; IndexDocument and ErrorDocument
// are checked for shape, stored and shown back, and do nothing (the
// gateway is not a website endpoint).
var s3WebsiteAPI = &api{
	format: mirror.FormatS3, dialect: httpapi.S3Website, virtualHost: true,
	name: "S3 PutBucketWebsite", subresource: "website",
	verify: verifyS3, digests: s3Digests, checkBody: s3WebsiteXML,
	what: "a website configuration", none: "the specified bucket does not have a website configuration", resource: "website",
}

// verifyS3 is sigv4.Verify (the object path's verifier), with S3's answer
// to a presigned URL outside its time: 403 AccessDenied, as S3 answers
// "Request has expired" (a header signature out of its time is
// RequestTimeTooSkewed, the dialect's RequestExpired).
func verifyS3(r *http.Request, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error) {
	ak, e := sigv4.Verify(r, secret, now)
	if e != nil && e.Failure == httpapi.RequestExpired && signature.Presigned(r) {
		return "", httpapi.Fail(httpapi.AccessDenied, e.Message)
	}
	return ak, e
}

// s3BindingDigests are the signed headers that bind a body to its
// signature when x-amz-content-sha256 does not: a CRC does not (anyone
// can make another body with the same CRC).
var s3BindingDigests = []string{"content-md5", "x-amz-checksum-sha256", "x-amz-checksum-sha1"}

// s3BodyCovered says whether a PUT's signature covers its body:
// x-amz-content-sha256 holds its SHA-256 (sigv4.Verify has taken the
// header as signed; s3Digests holds the body to it), as aws-sdk-go-v2
// sends PutBucketWebsite over http and https, or the payload is
// UNSIGNED-PAYLOAD with a signed Content-MD5, x-amz-checksum-sha256 or
// x-amz-checksum-sha1.
func s3BodyCovered(r *http.Request) bool {
	if r.Header.Get("X-Amz-Content-Sha256") != unsignedPayload {
		return true
	}
	signed := signature.SignedHeaders(r)
	for _, name := range s3BindingDigests {
		if r.Header.Get(name) != "" && slices.Contains(signed, name) {
			return true
		}
	}
	return false
}

// s3Checksums are S3's flexible checksums, each with how to compute it:
// aws-sdk-go-v2 sends x-amz-checksum-crc32 (signed) with
// PutBucketWebsite, which S3 requires a checksum of.
var s3Checksums = []struct {
	name string
	hash func() hash.Hash
}{
	{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }},
	{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64nvme.New() }},
	{"X-Amz-Checksum-Sha1", sha1.New},
	{"X-Amz-Checksum-Sha256", sha256.New},
}

// s3Digests holds a PUT's body to what the request says of it (Content-MD5
// is the handler's to check): x-amz-content-sha256 (payloadMatches, as
// for ?cors) and every x-amz-checksum-* sent. A body the signature does
// not cover (UNSIGNED-PAYLOAD, no signed binding digest) is taken over
// https only, held to the replay rule (writeOnce): over plain http anyone
// on the path could swap it under a good signature.
func s3Digests(r *http.Request, body []byte) *httpapi.Error {
	if !s3BodyCovered(r) && r.TLS == nil {
		return httpapi.Fail(httpapi.MalformedAuthorization,
			"the Authorization header is invalid: over http a website configuration must be signed with its body, "+
				"in x-amz-content-sha256 (as the SDKs send it) or a signed Content-MD5, x-amz-checksum-sha256 or "+
				"x-amz-checksum-sha1; UNSIGNED-PAYLOAD is taken over https only")
	}
	if e := payloadMatches(r, body); e != nil {
		return e
	}
	for _, c := range s3Checksums {
		want := r.Header.Get(c.name)
		if want == "" {
			continue
		}
		d := c.hash()
		d.Write(body)
		if subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(d.Sum(nil))), []byte(want)) != 1 {
			return httpapi.Fail(httpapi.BadDigest, "the "+strings.ToLower(c.name)+" you specified did not match what was received")
		}
	}
	return nil
}

// s3Namespace is the namespace of S3's documents; a WebsiteConfiguration
// may also come without one.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3WebsiteSchema is the elements S3's WebsiteConfiguration has, each
// with the elements it may hold (nil: a value). The importer (import_s3.go)
// checks the rest: repeats, values, limits, the rules' meaning.
var s3WebsiteSchema = map[string]map[string]bool{
	"WebsiteConfiguration":  {"IndexDocument": true, "ErrorDocument": true, "RedirectAllRequestsTo": true, "RoutingRules": true},
	"IndexDocument":         {"Suffix": true},
	"ErrorDocument":         {"Key": true},
	"RedirectAllRequestsTo": {"HostName": true, "Protocol": true},
	"RoutingRules":          {"RoutingRule": true},
	"RoutingRule":           {"Condition": true, "Redirect": true},
	"Condition":             {"KeyPrefixEquals": true, "HttpErrorCodeReturnedEquals": true},
	"Redirect": {"Protocol": true, "HostName": true, "ReplaceKeyPrefixWith": true, "ReplaceKeyWith": true,
		"HttpRedirectCode": true},
}

// s3WebsiteXML refuses, as S3 does with 400 MalformedXML, a body that is
// not S3's XML: not well-formed, a DTD, a root other than
// WebsiteConfiguration, another namespace, an element S3's schema does
// not have where it stands. Among them are the JSON forms the s3 format
// also reads (aws s3api's --website-configuration): the API speaks XML
// only, and GET answers a document as it was put. What is left is the
// importer's to judge (400 InvalidArgument, every problem named by its
// path).
func s3WebsiteXML(body []byte) *httpapi.Error {
	if why := s3XMLProblem(body); why != "" {
		return httpapi.Fail(httpapi.MalformedXML,
			"The XML you provided was not well-formed or did not validate against our published schema: "+why)
	}
	return nil
}

// s3XMLProblem says what keeps body from being a WebsiteConfiguration in
// S3's schema, or "".
func s3XMLProblem(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.Entity = nil
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, errors.New("encoding " + label + " is not read; send UTF-8")
	}
	var open []string
	root := false
	for {
		tok, err := d.Token()
		switch {
		case err == io.EOF && root:
			return ""
		case err == io.EOF:
			return "the body holds no <WebsiteConfiguration>"
		case err != nil:
			var syn *xml.SyntaxError
			if errors.As(err, &syn) {
				return strings.TrimPrefix(syn.Msg, "xml: ")
			}
			return err.Error()
		}
		switch t := tok.(type) {
		case xml.Directive:
			return "a <!DOCTYPE> or <!ENTITY> declaration is refused"
		case xml.CharData:
			if len(open) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return "text outside the root element"
			}
		case xml.StartElement:
			name := t.Name.Local
			switch {
			case t.Name.Space != "" && t.Name.Space != s3Namespace:
				return "<" + name + "> is in the namespace " + quoteShortText(t.Name.Space) + ", not S3's"
			case len(open) == 0 && root:
				return "more than one root element"
			case len(open) == 0 && name != "WebsiteConfiguration":
				return "the root element is <" + quoteName(name) + ">, not <WebsiteConfiguration>"
			case len(open) > 0:
				kids := s3WebsiteSchema[open[len(open)-1]]
				if !kids[name] {
					return "<" + quoteName(name) + "> is not an element of <" + open[len(open)-1] + ">"
				}
			}
			root = true
			open = append(open, name)
		case xml.EndElement:
			open = open[:len(open)-1]
		}
	}
}

// quoteName and quoteShortText cut a client's text short for a message:
// a message never grows with hostile input.
func quoteName(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "..."
	}
	return s
}

func quoteShortText(s string) string { return strconv.Quote(quoteName(s)) }
