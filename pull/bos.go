package pull

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/bce"
)

// BOSCredentials are the origin credentials of one gateway bucket, and
// the only BOS endpoints and source buckets they may be used for. They
// are bound to the gateway bucket whose rules name a bos:// origin, never
// global: a tenant who may configure bucket X must not be able to read the
// owner's other private buckets by naming them as X's origin.
type BOSCredentials struct {
	AccessKeyID     string   `json:"accessKeyId"`
	SecretAccessKey string   `json:"secretAccessKey"`
	Endpoints       []string `json:"endpoints"`
	Buckets         []string `json:"buckets"`
}

// bosExpireSeconds is how long a signed origin request is valid.
const bosExpireSeconds = 300

// bosRequest turns a bos:// origin into a signed GET of
// https://ENDPOINT/BUCKET/KEY (http when insecure), with the credentials
// of the gateway bucket; it fails, with a reason, when those do not list
// the endpoint and the source bucket.
func bosRequest(req *http.Request, o *mirror.Origin, gatewayBucket string, creds *BOSCredentials, insecure bool, now time.Time) error {
	switch {
	case creds == nil:
		return fmt.Errorf("no BOS origin credentials for bucket %s", gatewayBucket)
	case !slices.Contains(creds.Endpoints, o.Authority()):
		return fmt.Errorf("the BOS origin credentials of bucket %s do not list endpoint %s", gatewayBucket, o.Authority())
	case !slices.Contains(creds.Buckets, o.Bucket):
		return fmt.Errorf("the BOS origin credentials of bucket %s do not list source bucket %s", gatewayBucket, o.Bucket)
	}
	if insecure {
		req.URL.Scheme = "http"
	}
	prefix := bce.Prefix(creds.AccessKeyID, now, bosExpireSeconds)
	headers, signed := bce.CanonicalHeaders(map[string]string{"host": req.Host})
	sig := bce.Signature(creds.SecretAccessKey, prefix, http.MethodGet, o.Path, "", headers)
	req.Header.Set("Authorization", prefix+"/"+signed+"/"+sig)
	return nil
}
