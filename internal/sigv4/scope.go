package sigv4

import (
	"strings"

	"github.com/mirrorkit/mirror/internal/sigtext"
)

// scope is a credential: ACCESS-KEY/DATE/REGION/s3/aws4_request.
type scope struct {
	accessKey, date, region string
}

// String is the credential scope of the string to sign, without the key.
func (s scope) String() string {
	return s.date + "/" + s.region + "/" + Service + "/aws4_request"
}

// parseScope reads a Credential (header) or X-Amz-Credential (query) and
// checks it against the request's signing day. The access key is what
// precedes the last four parts, so a key holding "/" still reads, as
// MinIO reads it. Any region is accepted: the gateway is one endpoint for
// all of them, and the region is signed anyway.
func parseScope(credential, day string) (scope, string) {
	var parts [4]string
	rest := credential
	for i := 3; i >= 0; i-- {
		cut := strings.LastIndexByte(rest, '/')
		if cut < 0 {
			return scope{}, "the credential is not ACCESS-KEY/DATE/REGION/s3/aws4_request"
		}
		parts[i], rest = rest[cut+1:], rest[:cut]
	}
	s := scope{accessKey: rest, date: parts[0], region: parts[1]}
	switch {
	case s.accessKey == "" || s.region == "":
		return scope{}, "the credential is not ACCESS-KEY/DATE/REGION/s3/aws4_request"
	case parts[2] != Service:
		return scope{}, "the credential's service is " + quote(parts[2]) + ", not s3"
	case parts[3] != "aws4_request":
		return scope{}, "the credential does not end in aws4_request"
	case s.date != day:
		return scope{}, "the credential's date is not the day of the request's time, " + day
	}
	return s, ""
}

// quote quotes a client's text for a message (internal/sigtext).
var quote = sigtext.Quote
