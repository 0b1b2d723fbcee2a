package configapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/osssig"
)

// The Aliyun OSS API: PUT|GET|DELETE /BUCKET?website (and /?website with
// the bucket in the Host under -domain), as
// github.com/aliyun/alibabacloud-oss-go-sdk-v2's PutBucketWebsite,
// GetBucketWebsite and DeleteBucketWebsite send them, signed with OSS V1
// or V4 (internal/osssig), answered in OSS's dialect (httpapi.OSS). It
// shares ?website with S3's PutBucketWebsite: a request signed in an OSS
// scheme (osssig.Claims) is OSS's, the rest S3's.
//
// The SDK sends a Content-MD5 of the body with every PutBucketWebsite,
// and both versions sign it (V1 in its string to sign, V4 as a default
// signed header): so a PUT must carry one, and its body must match it,
// which makes the body covered by the signature. A GET or DELETE has no
// body to cover.
var ossAPI = &api{
	format: mirror.FormatOSS, dialect: httpapi.OSS, virtualHost: true,
	name: "OSS PutBucketWebsite", subresource: "website", claims: osssig.Claims,
	verify:    ossVerify,
	checkBody: ossWellFormed,
	what:      "a website configuration", none: "the bucket has no website configuration", resource: "website",
}

// ossVerify checks an OSS signature whose resource is the bucket the
// request addresses: the path's first segment (path-style), or, for the
// path "/", the Host's first label (virtual host: the signature names the
// bucket although the path does not). Where the handler's router reads
// the request otherwise (a Host not under -domain, a path naming more
// than a bucket), it finds no valid bucket name and refuses it, so a
// signature can configure only the bucket it was made for.
//
// A PUT must carry Content-MD5, which the signature covers: without it
// the body would be covered by nothing but the replay rule.
func ossVerify(r *http.Request, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error) {
	bucket, key := httpapi.Router{}.Route(r)
	if bucket == "" && key == "" {
		bucket, _ = osssig.HostBucket(r.Host)
	}
	ak, e := osssig.VerifyFor(r, bucket, key, secret, now)
	if e == nil && r.Method == http.MethodPut && r.Header.Get("Content-Md5") == "" {
		return "", httpapi.Fail(httpapi.MalformedAuthorization,
			"a PutBucketWebsite must carry the Content-MD5 of its body, which its signature covers")
	}
	return ak, e
}

// ossWellFormed refuses a body that is not one well-formed XML document
// whose root is WebsiteConfiguration, with OSS's MalformedXML; what such
// a document says is the compiler's to judge.
func ossWellFormed(body []byte) *httpapi.Error {
	malformed := func(why string) *httpapi.Error {
		return httpapi.Fail(httpapi.MalformedXML, "the XML you provided was not well-formed or did not validate: "+why)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return malformed("it does not parse")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 || t.Name.Local != "WebsiteConfiguration" {
					return malformed("the document is not one <WebsiteConfiguration>")
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return malformed("text outside the root element")
			}
		}
	}
	if roots == 0 {
		return malformed("the document is not one <WebsiteConfiguration>")
	}
	return nil
}
