package mirror

import (
	"context"
	"net/http"
	"net/url"
)

// Request is what the storage did not find: the object key exactly as
// stored (no leading "/" added or removed), the raw query string without
// "?", and the client's request headers.
type Request struct {
	Key      string
	RawQuery string
	Header   http.Header
}

// Decision says where to get a missing object from.
type Decision struct {
	// Rule is the index of the rule that covers the key.
	Rule int
	// Mode is ModeFetch or ModeRedirect.
	Mode Mode
	// URLs are, in fetch mode, the primary origin's URL and then the
	// backup's when the rule has one; in redirect mode, the one Location.
	URLs []string
	// Origins are the same URLs taken apart, in the same order, so that
	// an embedder dials them without parsing a string.
	Origins []Origin
	// Header holds the headers to send to the origin (fetch mode only),
	// names canonical; nil when there are none. Host is never in it.
	Header http.Header
	// StorageClass is the storage class for the fetched copy ("" unset;
	// fetch mode only), upper-case.
	StorageClass string
	// RedirectCode is the redirect's status code (redirect mode only).
	RedirectCode int
}

// Origin is one origin URL of a decision, taken apart. Every field is a
// piece of what the engine wrote; nothing in it was parsed back from a
// string, and no key, query or header can have moved it off the rule's
// configured origin.
type Origin struct {
	// Scheme is "http", "https" or "bos".
	Scheme string
	// Host is the host in canonical form: a lower-case DNS name, a
	// dotted-quad IPv4 address, or an IPv6 address in brackets. For
	// bos:// it is the BOS endpoint.
	Host string
	// Port is the port in decimal, "" when it is the scheme's default (80
	// for http, 443 for https) or, for bos://, when the URL gave none.
	Port string
	// Path is the URL's path exactly as the engine wrote it: the origin's
	// base path and the origin key, percent-encoded, starting with "/".
	// For bos:// it starts with "/" and the bucket.
	Path string
	// RawQuery is the forwarded query without "?", "" when there is none.
	// A bos:// origin never gets one.
	RawQuery string
	// Bucket and Key are, for bos:// only, the source bucket and the
	// object key in it: the origin's base path after the bucket, then the
	// origin key, decoded.
	Bucket, Key string

	url string
}

// String returns the origin URL: the same string as the decision's URLs
// entry.
func (o *Origin) String() string { return o.url }

// Authority returns Host, with ":" and Port when Port is set: the URL's
// host part, and the Host header of a request to the origin.
func (o *Origin) Authority() string {
	if o.Port == "" {
		return o.Host
	}
	return o.Host + ":" + o.Port
}

// NewRequest returns a GET request for the origin whose request line
// carries Path and RawQuery byte for byte as the engine wrote them. (Go's
// url.URL re-encodes a path it is given decoded; the request sets RawPath
// so that it does not.) The request has no headers yet: add the
// decision's Header.
//
// A bos:// origin becomes a GET of https://Host/Path, which the caller
// must sign with the source bucket's BCE credentials before sending it.
func (o *Origin) NewRequest(ctx context.Context) (*http.Request, error) {
	scheme := o.Scheme
	if scheme == "bos" {
		scheme = "https"
	}
	path, err := url.PathUnescape(o.Path)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+o.Authority()+"/", nil)
	if err != nil {
		return nil, err
	}
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, o.Path, o.RawQuery
	return req, nil
}

// decisionBox lets a decision and its slices be one allocation.
type decisionBox struct {
	d       Decision
	urls    [2]string
	origins [2]Origin
}

// newDecision writes the decision of a prepared request: both URLs go into
// one buffer, on the stack when they fit, and become one string that the
// URLs and the Origins' parts share.
func newDecision(p *prepared) *Decision {
	r := p.rule
	box := &decisionBox{}
	d := &box.d
	d.Rule, d.Mode = int(p.index), r.mode
	origins := [2]*origin{r.primary}
	n := 1
	if r.mode == ModeFetch && r.backup != nil {
		origins[1] = r.backup
		n = 2
	}
	var stack [512]byte
	buf := stack[:0]
	var ends [2]struct{ path, url int }
	for i, o := range origins[:n] {
		buf = appendURL(buf, o, &p.key, "")
		ends[i].path = len(buf)
		if p.query != "" && o.scheme != "bos" {
			buf = appendQuery(buf, p.query)
		}
		ends[i].url = len(buf)
	}
	s := string(buf)
	start := 0
	for i, o := range origins[:n] {
		u := s[start:ends[i].url]
		box.urls[i] = u
		og := &box.origins[i]
		og.url = u
		og.Scheme, og.Host, og.Port = o.scheme, o.host, o.port
		pathStart := start + len(o.scheme) + len("://") + len(o.hostport)
		og.Path = s[pathStart:ends[i].path]
		if ends[i].url > ends[i].path {
			og.RawQuery = s[ends[i].path+1 : ends[i].url]
		}
		if o.scheme == "bos" {
			og.Bucket = o.bucket
			og.Key = o.keyPrefix + p.key.String()
		}
		start = ends[i].url
	}
	d.URLs, d.Origins = box.urls[:n], box.origins[:n]
	return d
}
