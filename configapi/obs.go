package configapi

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/obssig"
)

// The Huawei OBS API: PUT|GET|DELETE /BUCKET?mirrorBackToSource (and
// /?mirrorBackToSource with the bucket in the Host under -domain), as
// github.com/huaweicloud/huaweicloud-sdk-go-obs's
// SetBucketMirrorBackToSource, GetBucketMirrorBackToSource and
// DeleteBucketMirrorBackToSource send them: the JSON document
// {"rules": [...]} (mirror.FormatOBS), signed "OBS AK:SIG" or, as the
// SDK signs path-style requests and by default, "AWS AK:SIG"
// (internal/obssig). Errors are OBS's XML (httpapi.OBS).
//
// The SDK sends the body without Content-MD5, so its signature does not
// cover the body: the replay rule holds it (writeOnce). A client that
// sends Content-MD5 (obs.WithCustomHeader) has it signed, and the handler
// holds the body to it.
var obsAPI = &api{
	format: mirror.FormatOBS, dialect: httpapi.OBS, virtualHost: true,
	name: "OBS SetBucketMirrorBackToSource", subresource: "mirrorBackToSource", jsonBody: true, docType: "application/json",
	verify: verifyOBS,
	what:   "a mirror back-to-source configuration", none: "the bucket has no mirror back-to-source rules",
	resource: "mirrorBackToSource",
}

// verifyOBS checks a configuration request's Authorization header, in
// either form, for the bucket the request names.
func verifyOBS(r *http.Request, secret func(string) (string, bool), now time.Time) (string, *httpapi.Error) {
	return obssig.VerifyHeader(r, obsHostBucket(r), secret, now)
}

// obsHostBucket is the bucket a configuration request names in its Host,
// or "" for one addressed path-style. OBS signs the bucket's name, which a
// virtual-host request's path does not hold, so the verifier must be told
// it. The verifier does not see the Handler's -domain; it does not need
// to: a configuration request addresses a bucket alone, so its path is
// "/" exactly when it is addressed virtual-host style, and then its bucket
// is the Host's first label. Where the router reads the request otherwise
// the two disagree only on requests the bucket check refuses: a path of
// "/" with a Host outside -domain has no bucket, and "/B" with a Host
// under it names "HOSTBUCKET/B".
func obsHostBucket(r *http.Request) string {
	if r.URL.Path != "/" && r.URL.Path != "" {
		// "" is "/" too: an absolute-form request line with no path
		// (found in review: it signed no bucket at all).
		return ""
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, _, found := strings.Cut(strings.ToLower(host), ".")
	if !found {
		return ""
	}
	return label
}
