package httpapi

import (
	"net"
	"net/http"
	"strings"
)

// Router finds the bucket and key a request addresses: path-style
// /BUCKET/KEY, or /KEY when the Host is BUCKET.Domain (any port, any case),
// as S3 addresses buckets (docs/SERVING.md §1).
type Router struct {
	// Domain, when set, makes a request whose Host is BUCKET.Domain
	// address the bucket virtual-host style. Empty: path-style only.
	Domain string
}

// Route returns the bucket and the key. The key is the path after the
// bucket, percent-decoded exactly once (Go's r.URL.Path), so "%2F" is a
// "/" in the key and "%252F" a literal "%2F"; it is "" for /BUCKET and
// /BUCKET/. The bucket is not checked: mirror.ValidBucket is the caller's
// to ask, when its API says.
func (rt Router) Route(r *http.Request) (bucket, key string) {
	p := r.URL.Path
	if b, ok := rt.hostBucket(r.Host); ok {
		return b, strings.TrimPrefix(p, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return bucket, key
}

// VirtualHost reports whether a request names its bucket in the Host.
func (rt Router) VirtualHost(r *http.Request) bool {
	_, ok := rt.hostBucket(r.Host)
	return ok
}

// hostBucket is the bucket named by a Host of BUCKET.Domain.
func (rt Router) hostBucket(host string) (string, bool) {
	if rt.Domain == "" {
		return "", false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	b, ok := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(rt.Domain))
	return b, ok
}
