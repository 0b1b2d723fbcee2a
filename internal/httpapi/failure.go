package httpapi

import "time"

// Failure names why a request got no answer but an error, whatever API it
// came through. Each Dialect's table gives it a status and a code.
type Failure int

// The failures, in the order of the tables.
const (
	// InternalError: the gateway itself failed (a store, a bug); the
	// message never holds the cause, which goes to the log.
	InternalError Failure = iota
	// MethodNotAllowed: the resource does not take the method.
	MethodNotAllowed
	// InvalidBucketName: not ^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$.
	InvalidBucketName
	// InvalidObjectName: a key the engine refuses.
	InvalidObjectName
	// InvalidArgument: a query or a body member the API does not take.
	InvalidArgument
	// NoSuchBucket: no configuration and no stored object.
	NoSuchBucket
	// NoSuchKey: no such object, here or at the origin.
	NoSuchKey
	// SlowDown: too many fetches are running; try again.
	SlowDown
	// MirrorFailed: the origin gave no object (failed, too large, cut
	// short, a bad digest) or the store refused it.
	MirrorFailed

	// AccessDenied: not signed, or the key may not do this.
	AccessDenied
	// MalformedAuthorization: an Authorization header that does not parse.
	MalformedAuthorization
	// InvalidAccessKeyID: a key the gateway does not know.
	InvalidAccessKeyID
	// RequestExpired: the signature's time is too far from the gateway's.
	RequestExpired
	// SignatureDoesNotMatch: the signature is wrong.
	SignatureDoesNotMatch

	// EntityTooLarge: a configuration document over its limit.
	EntityTooLarge
	// BadDigest: the body does not match its Content-MD5.
	BadDigest
	// MalformedJSON: a body that is not JSON.
	MalformedJSON
	// InvalidConfiguration: JSON that is not a valid configuration.
	InvalidConfiguration
	// NoSuchConfiguration: the bucket has no configuration of this API.
	NoSuchConfiguration

	// NotImplemented: a bucket or service request the gateway does not
	// answer (yet).
	NotImplemented

	// MalformedXML: a body that is not the XML document the API takes.
	MalformedXML
	// NoSuchCORSConfiguration: the bucket has no CORS rules.
	NoSuchCORSConfiguration
	// CORSForbidden: no CORS rule of the bucket allows a preflight.
	CORSForbidden

	// NotCached: a read asked only for a stored object (Cache-Control:
	// only-if-cached) and none is stored (docs/SERVING.md §1).
	NotCached

	// NotConvertible: a configuration put through one provider's API
	// that another provider's format can not say (docs/SERVING.md §4.6).
	NotConvertible

	numFailures
)

// Error is a failure and what to tell people about it.
type Error struct {
	Failure Failure
	// Message is for people: it may name the bucket, the key or the
	// origin the client asked about, never an internal address or path.
	Message string
}

func (e *Error) Error() string { return e.Message }

// Fail makes an *Error.
func Fail(f Failure, message string) *Error { return &Error{f, message} }

// ErrBucketName is the answer for a bucket name that breaks BOS's rule,
// mirror.ValidBucket, on every API.
var ErrBucketName = Fail(InvalidBucketName,
	"the bucket name is not 3-63 of a-z 0-9 - starting and ending with a letter or digit")

// MaxClockSkew is how far a signature's time may be from the gateway's
// clock, on every API that signs requests.
const MaxClockSkew = 15 * time.Minute
