package configapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/qs"
)

// The QingStor API: PUT|GET|DELETE /BUCKET?mirror, as
// github.com/yunify/qingstor-sdk-go/v3's PutExternalMirror,
// GetExternalMirror and DeleteExternalMirror send them: always
// path-style, with the zone as the first label of the Host, signed
// "QS AK:SIG".
var qingstorAPI = &api{
	format: mirror.FormatQingStor, dialect: httpapi.QingStor, verify: qs.Verify,
	name: "QingStor PUT Bucket External Mirror", subresource: "mirror", jsonBody: true,
	checkBody: func(body []byte) *httpapi.Error {
		if json.Valid(body) {
			if member := qsForeignMember(body); member != "" {
				return httpapi.Fail(httpapi.InvalidArgument, member+`: an external mirror takes only "source_site"`)
			}
		}
		return nil
	},
	what: "an external mirror configuration", none: "the bucket has no external mirror", resource: "mirror",
}

// qsForeignMember names the first top-level member of a QingStor body
// other than one "source_site", the only member QingStor's External Mirror
// documents, or returns "". The engine reads field names
// case-insensitively and ignores unknown ones, so a body such as
// {"source_site": …, "bucketMirroringConfiguration": […]} would otherwise
// be stored whole and shown back by GET although only source_site is in
// force; a second "source_site" is refused too, since JSON readers differ
// on which of two equal names wins. A body that is not an object is left
// to the compiler, which words that problem.
func qsForeignMember(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := t.(string)
		if name != "source_site" || seen {
			return strconv.Quote(name)
		}
		seen = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}
