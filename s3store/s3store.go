// Package s3store keeps a mirror gateway's objects and configurations in
// any S3-compatible store, so that several gateways share one state
// (docs/SERVING.md §2). It implements pull.Store and
// bucketconfig.Store with github.com/minio/minio-go/v7, a maintained
// client made for S3-compatible endpoints.
//
// Each mirrored object is one S3 object holding exactly its bytes, with
// its headers as S3 system metadata and the rest as user metadata, so
// that other S3 tools can read the mirrored bucket. Objects live under
// PREFIX/objects/BUCKET/KEY; configurations under PREFIX/config/BUCKET.
package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/internal/tmpfile"
	"github.com/mirrorkit/mirror/pull"
)

// Store is a bucket (and a prefix in it) of an S3-compatible store.
type Store struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	// SpoolDir holds an upload's bytes until its commit (os.TempDir() when
	// empty): a commit is one PUT of the whole object.
	SpoolDir string
}

// Config says where a Store is.
type Config struct {
	// Endpoint is the store's URL: http(s)://HOST[:PORT].
	Endpoint string
	// Bucket and Prefix locate the gateway's state in it.
	Bucket, Prefix string
	// AccessKeyID and SecretAccessKey sign the requests.
	AccessKeyID, SecretAccessKey string
	// Region is the store's region ("us-east-1" when empty).
	Region string
	// Transport, when set, carries the requests (custom TLS roots).
	Transport http.RoundTripper
}

// New connects to a store. Buckets are addressed path-style, as
// S3-compatible servers expect.
func New(c Config) (*Store, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3store: endpoint %q is not http(s)://HOST[:PORT]", c.Endpoint)
	}
	if c.Bucket == "" {
		return nil, errors.New("s3store: no bucket")
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKeyID, c.SecretAccessKey, ""),
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    c.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	prefix := strings.Trim(c.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &Store{client: client, bucket: c.Bucket, prefix: prefix}, nil
}

// FromEnv connects to s3://BUCKET[/PREFIX] at endpoint (or, when it is
// empty, AWS_ENDPOINT_URL), with the credentials of AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, and the region of AWS_REGION.
func FromEnv(dataURL, endpoint string) (*Store, error) {
	rest, ok := strings.CutPrefix(dataURL, "s3://")
	if !ok {
		return nil, fmt.Errorf("s3store: %q is not s3://BUCKET[/PREFIX]", dataURL)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		return nil, errors.New("s3store: no endpoint: give -s3-endpoint or AWS_ENDPOINT_URL")
	}
	return New(Config{Endpoint: endpoint, Bucket: bucket, Prefix: prefix, AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), Region: os.Getenv("AWS_REGION")})
}

// Names. A key that makes a good S3 name is stored as
// PREFIX/objects/BUCKET/KEY. A key that can not be (the whole name would
// pass 1024 bytes; an empty, "." or ".." segment, which filesystem-backed
// servers refuse or resolve; a segment over 255 bytes, the usual file name
// limit), or whose PUT the server refuses ("x" beside "x/y" on such a
// server), is stored as PREFIX/hashed/BUCKET/H, H being the hex SHA-256 of
// the key, with the key in its metadata. Open looks at the plain name
// first, then the hashed one.

func (s *Store) plainName(bucket, key string) (string, bool) {
	name := s.prefix + "objects/" + bucket + "/" + key
	if len(name) > 1024 {
		return "", false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || len(seg) > 255 {
			return "", false
		}
	}
	return name, true
}

func (s *Store) hashedName(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return s.prefix + "hashed/" + bucket + "/" + hex.EncodeToString(sum[:])
}

// User metadata keys.
const (
	metaETag         = "Mirror-Etag"
	metaStorageClass = "Mirror-Storage-Class"
	metaKey          = "Mirror-Key"
	// metaAPI holds a configuration's format (it named the API that put
	// it before formats and APIs were one name; the key stays so that
	// stored configurations read back).
	metaAPI = "Mirror-Api"
	// metaExpires holds an Expires value that is not in the one date form
	// S3 keeps (http.TimeFormat), verbatim: "0" and other invalid dates
	// mean "already expired" to HTTP caches, and dirstore keeps them.
	metaExpires = "Mirror-Expires"
	// maxVerbatimExpires is the longest invalid Expires kept as it is.
	maxVerbatimExpires = 64
	// metaNoType marks an object stored without a Content-Type: S3 gives
	// every object one (application/octet-stream), and dirstore reads
	// such an object back without one.
	metaNoType = "Mirror-No-Type"
	// metaLastModified holds the object's Last-Modified as the gateway
	// served it on the miss (the origin's, or when its fetch began): S3's
	// own is the time of the PUT.
	metaLastModified = "Mirror-Last-Modified"
	// metaOriginETag, metaOriginModified and metaPulledAt are the
	// validators and age of docs/SERVING.md §3.9; metaOrigin,
	// metaOriginETag, metaOriginLastModified and metaPulledAt the
	// provenance of §3.7, under the names a hit sends them by
	// (pull.ObjectInfo.Provenance), so that other S3 tools see them as
	// x-amz-meta-mirror-origin and so on. metaPulledAt was metaFetched:
	// an object stored before the rename is read by the old name.
	metaOriginETag         = "Mirror-Origin-Etag"
	metaOriginModified     = "Mirror-Origin-Modified"
	metaPulledAt           = "Mirror-Pulled-At"
	metaFetched            = "Mirror-Fetched"
	metaOrigin             = "Mirror-Origin"
	metaOriginLastModified = "Mirror-Origin-Last-Modified"
)

// MaxConfigSize is the largest configuration document a Store keeps
// (16 MiB; docs/SERVING.md §2). PutConfig refuses a larger one, and
// GetConfig reports one that grew past it (written by another tool)
// rather than cutting it, so a stored configuration always reads back
// whole.
const MaxConfigSize = 16 << 20

func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey"
}

// Open returns a committed object, or an error wrapping pull.ErrNotFound.
func (s *Store) Open(ctx context.Context, bucket, key string) (pull.Object, error) {
	if !mirror.ValidBucket(bucket) {
		return nil, fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	names := []string{s.hashedName(bucket, key)}
	if plain, ok := s.plainName(bucket, key); ok {
		names = []string{plain, names[0]}
	}
	for i, name := range names {
		// One GET gives the object's bytes and what describes them, from
		// one version: a Stat and a GET are two requests, and a commit
		// between them gave one version's size with another's bytes.
		body, info, _, err := s.core().GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
		if notFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if i == len(names)-1 { // the hashed name: it names its key
			if k, _ := base64.RawURLEncoding.DecodeString(info.UserMetadata[metaKey]); string(k) != key {
				body.Close()
				return nil, fmt.Errorf("s3store: %s holds another key", name)
			}
		}
		return &object{s: s, ctx: ctx, name: name, etag: info.ETag, info: objectInfo(info), body: body}, nil
	}
	return nil, fmt.Errorf("%w: %s/%s", pull.ErrNotFound, bucket, key)
}

// objectInfo reads back what Commit wrote, as the store contract
// (internal/storetest) holds every store to: no
// Content-Type when none was stored, Expires verbatim, and never the
// aws-chunked content coding of an upload's transfer.
func objectInfo(i minio.ObjectInfo) pull.ObjectInfo {
	h := http.Header{}
	if i.ContentType != "" && i.UserMetadata[metaNoType] == "" {
		h.Set("Content-Type", i.ContentType)
	}
	for _, name := range pull.KeptHeaders[1:] {
		if v := i.Metadata.Get(name); v != "" {
			h.Set(name, v)
		}
	}
	if v := pull.StripAWSChunked(h.Get("Content-Encoding")); v != "" {
		h.Set("Content-Encoding", v)
	} else {
		h.Del("Content-Encoding")
	}
	if v := i.UserMetadata[metaExpires]; v != "" {
		h.Set("Expires", v)
	} else if h.Get("Expires") == "" && !i.Expires.IsZero() {
		h.Set("Expires", i.Expires.UTC().Format(http.TimeFormat))
	}
	etag, modified := i.UserMetadata[metaETag], i.LastModified
	if etag == "" {
		// Put by another tool: the store's own ETag (for a multipart
		// upload not an MD5; docs/SERVING.md §1).
		etag = strings.Trim(i.ETag, `"`)
	}
	if t, err := http.ParseTime(i.UserMetadata[metaLastModified]); err == nil {
		modified = t
	}
	info := pull.ObjectInfo{Size: i.Size, ETag: etag, LastModified: modified, Header: h,
		StorageClass: i.UserMetadata[metaStorageClass], OriginETag: i.UserMetadata[metaOriginETag],
		OriginModified: i.UserMetadata[metaOriginModified] != ""}
	fetched := i.UserMetadata[metaPulledAt]
	if fetched == "" {
		fetched = i.UserMetadata[metaFetched]
	}
	if t, err := time.Parse(time.RFC3339Nano, fetched); err == nil {
		info.Fetched = t
	}
	readProvenance(&info, i.UserMetadata) // meta.go
	return info
}

func (s *Store) core() minio.Core { return minio.Core{Client: s.client} }

// HasObjects reports whether the bucket holds a committed object.
func (s *Store) HasObjects(ctx context.Context, bucket string) (bool, error) {
	if !mirror.ValidBucket(bucket) {
		return false, nil
	}
	for _, p := range []string{s.prefix + "objects/" + bucket + "/", s.prefix + "hashed/" + bucket + "/"} {
		ctx, cancel := context.WithCancel(ctx)
		for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: p, Recursive: true, MaxKeys: 1}) {
			cancel()
			if o.Err != nil {
				return false, o.Err
			}
			return true, nil
		}
		cancel()
	}
	return false, nil
}

// Create starts an object: its bytes go to a local file, which is also
// the fetch's spool, and the commit PUTs the whole object with its
// metadata in one request, so that readers see all of it or none.
func (s *Store) Create(_ context.Context, bucket, key string) (pull.Upload, error) {
	if !mirror.ValidBucket(bucket) {
		return nil, fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	f, err := tmpfile.Create(s.SpoolDir, spoolPrefix+"*")
	if err != nil {
		return nil, err
	}
	return &upload{s: s, f: f, bucket: bucket, key: key}, nil
}

type upload struct {
	s           *Store
	f           *os.File
	bucket, key string
	n           int64
	done        bool
}

func (u *upload) Write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.n += int64(n)
	return n, err
}

// ReadAt reads back what was written: the fetch's spool.
func (u *upload) ReadAt(p []byte, off int64) (int, error) { return u.f.ReadAt(p, off) }

func (u *upload) Commit(ctx context.Context, info pull.ObjectInfo) error {
	if u.done {
		return errors.New("s3store: upload already ended")
	}
	u.done = true
	if info.Size != u.n {
		return fmt.Errorf("s3store: commit of %d bytes, %d were written", info.Size, u.n)
	}
	opts := minio.PutObjectOptions{
		ContentType:        info.Header.Get("Content-Type"),
		ContentEncoding:    info.Header.Get("Content-Encoding"),
		ContentDisposition: info.Header.Get("Content-Disposition"),
		ContentLanguage:    info.Header.Get("Content-Language"),
		CacheControl:       info.Header.Get("Cache-Control"),
		UserMetadata:       map[string]string{metaETag: info.ETag},
		PartSize:           commitPartSize,
	}
	if u.n <= commitPartSize {
		// One PUT. Over http, minio-go would sign its body in chunks
		// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and send Content-Encoding:
		// aws-chunked, which servers such as versitygw store as the
		// object's own. Content-MD5 covers the body instead (minio-go
		// hashes the spool file as it reads it, no buffer). A multipart
		// upload keeps its signed chunks: the object's metadata comes
		// from the request that starts it, which has no body.
		opts.DisableContentSha256, opts.SendContentMd5 = true, true
	}
	if opts.ContentType == "" {
		opts.UserMetadata[metaNoType] = "1"
	}
	if exp := info.Header.Get("Expires"); exp != "" {
		if t, err := http.ParseTime(exp); err == nil && t.UTC().Format(http.TimeFormat) == exp {
			opts.Expires = t // S3's own field, for other S3 tools
		} else {
			// Invalid: an HTTP cache reads any invalid Expires as "already
			// expired", so a long one is kept as "0", which says the same
			// in one byte: verbatim it could pass S3's 2 KiB of metadata
			// and make the object unstorable (found in review).
			if len(exp) > maxVerbatimExpires {
				exp = "0"
			}
			opts.UserMetadata[metaExpires] = exp
		}
	}
	if info.StorageClass != "" {
		opts.UserMetadata[metaStorageClass] = info.StorageClass
	}
	if !info.LastModified.IsZero() {
		opts.UserMetadata[metaLastModified] = info.LastModified.UTC().Format(http.TimeFormat)
	}
	if info.OriginModified {
		opts.UserMetadata[metaOriginModified] = "1"
	}
	own := opts.UserMetadata
	writeProvenance(own, info) // meta.go: the origin's ETag and date, pulled-at
	put := func(name string) error {
		// The origin URL and the user metadata, while they fit in S3's
		// 2 KiB beside the store's own (meta.go).
		opts.UserMetadata = fitMetadata(own, info.Origin, info.UserMeta)
		_, err := u.s.client.PutObject(ctx, u.s.bucket, name, io.NewSectionReader(u.f, 0, u.n), u.n, opts)
		return err
	}
	if plain, ok := u.s.plainName(u.bucket, u.key); ok {
		err := put(plain)
		r := minio.ToErrorResponse(err)
		if err == nil || r.StatusCode == 0 || r.StatusCode >= 500 {
			return err // stored, or not a refusal of the name
		}
	}
	own[metaKey] = base64.RawURLEncoding.EncodeToString([]byte(u.key))
	return put(u.s.hashedName(u.bucket, u.key))
}

// commitPartSize is the part size of a commit's upload: an object up to
// this size is one PUT, a larger one a multipart upload, all or nothing
// once completed (docs/SERVING.md §2).
const commitPartSize = 64 << 20

// Abort drops the local bytes (after a commit, the spool).
func (u *upload) Abort() {
	u.done = true
	u.f.Close()
	os.Remove(u.f.Name())
}

// GetConfig returns a bucket's configuration, or an error wrapping
// fs.ErrNotExist. A document over MaxConfigSize is an error, never cut.
func (s *Store) GetConfig(ctx context.Context, bucket string) (format mirror.Format, doc []byte, err error) {
	if !mirror.ValidBucket(bucket) {
		return "", nil, fmt.Errorf("s3store: invalid bucket name %q: %w", bucket, fs.ErrNotExist)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+"config/"+bucket, minio.GetObjectOptions{})
	if err != nil {
		return "", nil, err
	}
	defer obj.Close()
	info, err := obj.Stat()
	if notFound(err) {
		return "", nil, fmt.Errorf("s3store: no configuration for %s: %w", bucket, fs.ErrNotExist)
	}
	if err != nil {
		return "", nil, err
	}
	if info.Size > MaxConfigSize {
		return "", nil, fmt.Errorf("s3store: the configuration of %s is %d bytes, over the %d a store keeps", bucket, info.Size, MaxConfigSize)
	}
	doc, err = io.ReadAll(io.LimitReader(obj, MaxConfigSize+1))
	if err != nil {
		return "", nil, err
	}
	if len(doc) > MaxConfigSize {
		return "", nil, fmt.Errorf("s3store: the configuration of %s is over the %d bytes a store keeps", bucket, MaxConfigSize)
	}
	if f := info.UserMetadata[metaAPI]; f != "" {
		return mirror.Format(f), doc, nil
	}
	return mirror.FormatAuto, doc, nil // stored without a format
}

// PutConfig replaces a bucket's configuration: one PUT, durable when it
// returns. A document over MaxConfigSize is refused.
func (s *Store) PutConfig(ctx context.Context, bucket string, format mirror.Format, doc []byte) error {
	if !mirror.ValidBucket(bucket) || !utf8.ValidString(string(format)) {
		return fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	if len(doc) > MaxConfigSize {
		return fmt.Errorf("s3store: the configuration of %s is %d bytes, over the %d a store keeps", bucket, len(doc), MaxConfigSize)
	}
	meta := map[string]string{}
	if format != mirror.FormatAuto {
		meta[metaAPI] = string(format)
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+"config/"+bucket, bytes.NewReader(doc), int64(len(doc)),
		minio.PutObjectOptions{ContentType: "application/json", UserMetadata: meta,
			DisableContentSha256: true, SendContentMd5: true})
	return err
}

// GetPolicy returns a bucket's read policy, kept at PREFIX/acl/BUCKET, or
// an error wrapping fs.ErrNotExist.
func (s *Store) GetPolicy(ctx context.Context, bucket string) (bucketconfig.Policy, error) {
	if !mirror.ValidBucket(bucket) {
		return "", fmt.Errorf("s3store: invalid bucket name %q: %w", bucket, fs.ErrNotExist)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+"acl/"+bucket, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, 64))
	if notFound(err) {
		return "", fmt.Errorf("s3store: no read policy for %s: %w", bucket, fs.ErrNotExist)
	}
	if err != nil {
		return "", err
	}
	return bucketconfig.Policy(strings.TrimSpace(string(data))), nil
}

// PutPolicy replaces a bucket's read policy: one PUT, durable when it
// returns.
func (s *Store) PutPolicy(ctx context.Context, bucket string, p bucketconfig.Policy) error {
	if !mirror.ValidBucket(bucket) {
		return fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	data := []byte(string(p) + "\n")
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+"acl/"+bucket, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "text/plain", DisableContentSha256: true, SendContentMd5: true})
	return err
}

// DeleteConfig removes a bucket's configuration.
func (s *Store) DeleteConfig(ctx context.Context, bucket string) error {
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+"config/"+bucket, minio.RemoveObjectOptions{})
	if notFound(err) {
		return nil
	}
	return err
}

// spoolPrefix starts the names of the spool files in SpoolDir.
const spoolPrefix = "mirror-s3-"

// SweepSpool removes the spool files in SpoolDir that no process holds:
// those a gateway killed mid-fetch left. Every upload holds its spool's
// lock while it has it open, so gateways sharing SpoolDir lose nothing.
func (s *Store) SweepSpool() (removed int, err error) {
	dir := s.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	return tmpfile.Sweep(dir, spoolPrefix)
}

// EnsureBucket makes the store's bucket when it is missing.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil || ok {
		return err
	}
	return s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
}

// Ping reports whether the store answers: its bucket exists and the
// gateway's credentials may see it. mirror serve's readiness probe asks.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3store: %w", err)
	}
	if !ok {
		return fmt.Errorf("s3store: bucket %s does not exist", s.bucket)
	}
	return nil
}
