package pull

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"
	"github.com/mirrorkit/mirror"
)

// s3:// origins (docs/SERVING.md §3.8): a private bucket of any server
// that speaks S3, fetched path-style as GET https://ENDPOINT/BUCKET/KEY,
// signed with AWS Signature V4 with the credentials of the gateway
// bucket whose rules name it. Like every origin request it goes through
// the dial guard and is never redirected: ask sends it with
// Transport.RoundTrip, which follows nothing.

// S3Credentials are the s3:// origin credentials of one gateway bucket,
// and the only endpoints and source buckets they may be used for. They
// are bound to the gateway bucket whose rules name an s3:// origin, never
// global: a tenant who may configure bucket X must not be able to read
// the owner's other private buckets by naming them as X's origin.
type S3Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// SessionToken, when set, is sent as X-Amz-Security-Token
	// (temporary credentials).
	SessionToken string `json:"sessionToken,omitempty"`
	// Region is the signature's region (DefaultS3Region when empty).
	Region string `json:"region,omitempty"`
	// Endpoints are the origins' host[:port] as the rules write them
	// (lower-case, the port only when the URL gives one).
	Endpoints []string `json:"endpoints"`
	// Buckets are the source buckets, as the rules write them.
	Buckets []string `json:"buckets"`
}

// DefaultS3Region is the region of S3Credentials that name none: AWS's
// default, and the one most S3-compatible servers take.
const DefaultS3Region = "us-east-1"

// emptyPayloadSHA256 is the hex SHA-256 of the empty body every origin
// request has, the X-Amz-Content-Sha256 of a signed GET.
const emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// s3Request signs req, the GET of an s3:// origin, with the gateway
// bucket's S3 credentials (over http when S3InsecureHTTP is set). It
// fails, with a reason, and the request is not sent (the fetch fails over
// as from an unreachable origin) when the bucket has no credentials, or
// they do not list the endpoint and the source bucket: an s3:// origin
// is never asked unsigned.
func (f *Fetcher) s3Request(req *http.Request, o *mirror.Origin, gatewayBucket string) (*http.Request, error) {
	var creds *S3Credentials
	if f.S3Credentials != nil {
		creds = f.S3Credentials(gatewayBucket)
	}
	if err := signS3(req, o, gatewayBucket, creds, f.S3InsecureHTTP); err != nil {
		return nil, err
	}
	return req, nil
}

// signS3 checks creds against the origin and signs req in place.
func signS3(req *http.Request, o *mirror.Origin, gatewayBucket string, creds *S3Credentials, insecure bool) error {
	switch {
	case o.Scheme != "s3" || o.Bucket == "":
		return fmt.Errorf("%s is not an s3:// origin", o)
	case creds == nil:
		return fmt.Errorf("no S3 origin credentials for bucket %s", gatewayBucket)
	case creds.AccessKeyID == "" || creds.SecretAccessKey == "":
		// minio-go's signer leaves a request without keys unsigned.
		return fmt.Errorf("the S3 origin credentials of bucket %s have no accessKeyId or secretAccessKey", gatewayBucket)
	case !slices.Contains(creds.Endpoints, o.Authority()):
		return fmt.Errorf("the S3 origin credentials of bucket %s do not list endpoint %s", gatewayBucket, o.Authority())
	case !slices.Contains(creds.Buckets, o.Bucket):
		return fmt.Errorf("the S3 origin credentials of bucket %s do not list source bucket %s", gatewayBucket, o.Bucket)
	case req.URL.RawQuery != "":
		return fmt.Errorf("an s3:// origin request has a query")
	case s3utils.EncodePath(req.URL.Path) != o.Path:
		// The signer signs the path it encodes again; it must be the
		// one on the request line (the engine's encoding is S3's).
		return fmt.Errorf("the path of %s would be signed as another", o)
	}
	if insecure {
		req.URL.Scheme = "http"
	}
	region := creds.Region
	if region == "" {
		region = DefaultS3Region
	}
	// Every header but User-Agent and Accept-Encoding is signed, host
	// included (the signer's rule); the payload is the empty body.
	req.Header.Del("Authorization")
	req.Header.Del("X-Amz-Security-Token")
	req.Header.Set("X-Amz-Content-Sha256", emptyPayloadSHA256)
	signed := signer.SignV4(*req, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, region)
	if signed.Header.Get("Authorization") == "" {
		return errors.New("the S3 origin request could not be signed")
	}
	req.Header = signed.Header
	return nil
}
