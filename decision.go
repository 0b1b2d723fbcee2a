package mirror

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"unsafe"
)

// Decision says where to get a missing object from.
type Decision struct {
	// Rule is the index of the rule that covers the key.
	Rule int
	// Mode is ModeFetch or ModeRedirect.
	Mode Mode
	// URLs are, in fetch mode, the primary origin's URL and then the
	// backup's when the rule has one; in redirect mode, the one Location.
	// A rule of the extended model has its primaries then its backups
	// (Policy says how many primaries); in redirectFetch mode they are
	// the fetch's, and the client is redirected to the first one picked.
	URLs []string
	// Origins are the same URLs taken apart, in the same order, so that
	// an embedder dials them without parsing a string.
	Origins []Origin
	// Header holds the headers to send to the origin (fetch mode only),
	// names canonical; nil when there are none. Host is never in it.
	// ResolveTo leaves it nil and sets Fields instead.
	Header http.Header
	// Fields are, after ResolveTo, the same headers as name/value pairs:
	// one pair per value, by name in byte order, values in the order
	// Header would hold them. Resolve leaves it nil. HeaderMap gives
	// either as an http.Header.
	Fields []Header
	// StorageClass is the storage class for the fetched copy ("" unset;
	// fetch mode only), upper-case.
	StorageClass string
	// RedirectCode is the redirect's status code (redirect and
	// redirectFetch modes).
	RedirectCode int
	// Policy is, for a fetch or redirectFetch rule of the extended model
	// (docs/SEMANTICS.md §11), how the serving layer uses the URLs:
	// which are primaries and which backups, how to pick, when to fail
	// over, the fetch options and whether to store. nil for other rules,
	// whose URLs are the primary and then the backup. It is the rule's
	// own: do not modify it.
	Policy *Policy

	buf []byte // ResolveTo: the bytes of URLs and Origins, reused
}

// HeaderMap returns the headers to send as an http.Header: Header when it
// is set (Resolve), else a new map of Fields (ResolveTo); nil when there
// are none.
func (d *Decision) HeaderMap() http.Header {
	if d.Header != nil || len(d.Fields) == 0 {
		return d.Header
	}
	h := make(http.Header, len(d.Fields))
	values := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		values[i] = f.Value
	}
	for i := 0; i < len(d.Fields); {
		j := i + 1
		for j < len(d.Fields) && d.Fields[j].Name == d.Fields[i].Name {
			j++
		}
		h[d.Fields[i].Name] = values[i:j:j]
		i = j
	}
	return h
}

// Origin is one origin URL of a decision, taken apart. Every field is a
// piece of what the engine wrote; nothing in it was parsed back from a
// string, and no key, query or header can have moved it off the rule's
// configured origin.
type Origin struct {
	// Scheme is "http", "https", "bos" or "s3".
	Scheme string
	// Host is the host in canonical form: a lower-case DNS name, a
	// dotted-quad IPv4 address, or an IPv6 address in brackets. For
	// bos:// and s3:// it is the endpoint.
	Host string
	// Port is the port in decimal, "" when it is the scheme's default (80
	// for http, 443 for https) or, for bos:// and s3://, when the URL gave
	// none.
	Port string
	// Path is the URL's path exactly as the engine wrote it: the origin's
	// base path and the origin key, percent-encoded, starting with "/".
	// For bos:// and s3:// it starts with "/" and the bucket (path-style).
	Path string
	// RawQuery is the forwarded query without "?", "" when there is none.
	// A bos:// or s3:// origin never gets one.
	RawQuery string
	// Bucket and Key are, for bos:// and s3:// only, the source bucket and
	// the object key in it: the origin's base path after the bucket, then
	// the origin key, decoded.
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
// A bos:// or s3:// origin becomes a GET of https://Host/Path
// (path-style: the bucket, then the key), which the caller must sign
// before sending it: with BCE credentials for bos://, with AWS Signature
// V4 for s3://.
func (o *Origin) NewRequest(ctx context.Context) (*http.Request, error) {
	scheme := o.Scheme
	if scheme == "bos" || scheme == "s3" {
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

// Resolve answers for a key the storage did not find: the first rule
// covering it, the origin URL(s) and the headers to send. The error wraps
// ErrInvalidKey, ErrNoRule, ErrUnsafeKey or ErrInvalidQuery, checked in
// that order; a decision is never returned with an error. The same engine
// and request always give an identical decision.
func (e *Engine) Resolve(req *Request) (*Decision, error) {
	p, err := e.prepare(req)
	if err != nil {
		return nil, err
	}
	return newDecision(&p, req), nil
}

// ResolveTo is Resolve for a caller that reuses memory, such as a proxy
// that keeps one Decision per worker: it fills d, reusing the memory of
// its slices, and once they have grown to size it allocates nothing.
// It differs from Resolve in two ways:
//   - the headers are in d.Fields, as name/value pairs, and d.Header is
//     nil (HeaderMap makes an http.Header of them when one is needed);
//   - the strings of d.URLs and d.Origins are views of a buffer d keeps,
//     which the next ResolveTo into d overwrites: copy (strings.Clone)
//     what must outlive that, and do not copy d while it is in use.
//
// The header values and the rule's strings are shared, as with Resolve.
// On error d is left holding no decision (Rule -1) and the error is
// Resolve's. What still allocates: a request header name that is not in
// canonical form (net/http's server gives canonical ones) is
// canonicalised into a new string, and a refused key gets an error value
// that says why.
func (e *Engine) ResolveTo(d *Decision, req *Request) error {
	p, err := e.prepare(req)
	if err != nil {
		*d = Decision{Rule: -1, URLs: d.URLs[:0], Origins: d.Origins[:0], Fields: d.Fields[:0], buf: d.buf[:0]}
		return err
	}
	d.resolveInto(&p, req)
	return nil
}

// decisionBox lets a decision, its slices and its first header values be
// one allocation.
type decisionBox struct {
	d       Decision
	urls    [2]string
	origins [2]Origin
	values  [8]string
}

// newDecision writes the decision of a prepared request for Resolve.
func newDecision(p *prepared, req *Request) *Decision {
	box := &decisionBox{}
	d := &box.d
	n := d.start(p)
	if n <= len(box.urls) {
		d.URLs, d.Origins = box.urls[:n], box.origins[:n]
	} else {
		d.URLs, d.Origins = make([]string, n), make([]Origin, n)
	}
	// Both URLs go into one buffer, on the stack when they fit, and
	// become one string that the URLs and the Origins' parts share.
	var stack [512]byte
	buf, ends := appendURLs(stack[:0], p)
	d.setURLs(p, string(buf), ends)
	if d.Mode != ModeRedirect {
		d.Header = p.rule.headers.headers(req.Header, box.values[:0])
	}
	return d
}

// resolveInto writes the decision of a prepared request into d for
// ResolveTo, reusing d's slices and buffer: the strings of the URLs and
// Origins are views of d.buf, which the next resolveInto overwrites.
func (d *Decision) resolveInto(p *prepared, req *Request) {
	buf, urls, origins, fields := d.buf[:0], d.URLs[:0], d.Origins[:0], d.Fields[:0]
	*d = Decision{}
	n := d.start(p)
	buf, ends := appendURLs(buf, p)
	d.buf = buf
	// slices.Grow and a cleared reslice, not append(s, make(...)...):
	// the compiler elides that make only when it is not instrumented
	// (go test -race), and this path must allocate nothing in both.
	urls, origins = slices.Grow(urls, n)[:n], slices.Grow(origins, n)[:n]
	clear(urls)
	clear(origins)
	d.URLs, d.Origins = urls, origins
	d.setURLs(p, unsafe.String(unsafe.SliceData(buf), len(buf)), ends)
	d.Fields = fields
	if d.Mode != ModeRedirect {
		d.Fields = p.rule.headers.appendFields(fields, req.Header)
	}
}

// start sets the decision's fields but its URLs and headers, and returns
// the number of URLs.
func (d *Decision) start(p *prepared) int {
	r := p.rule
	d.Rule, d.Mode = int(p.index), r.mode
	if r.mode != ModeFetch {
		d.RedirectCode = int(r.redirectCode)
		if d.RedirectCode == 0 {
			d.RedirectCode = 302
		}
	}
	if r.mode != ModeRedirect {
		d.StorageClass = r.storageClass
		if r.ext != nil {
			d.Policy = r.ext.policy
		}
	}
	return len(p.origins())
}

// urlEnds are where, in the buffer, a URL's path and the URL end, and
// then the decoded key of a bos:// or s3:// origin.
type urlEnds [maxOriginsBoth]struct{ path, url, key int }

// appendURLs writes the decision's URLs one after the other, each
// followed by its decoded key when it is a bos:// or s3:// origin's.
func appendURLs(buf []byte, p *prepared) ([]byte, urlEnds) {
	var ends urlEnds
	for i, o := range p.origins() {
		buf = appendURL(buf, o, &p.key, "")
		ends[i].path = len(buf)
		if p.query != "" && !o.signed() {
			buf = appendQuery(buf, p.query)
		}
		ends[i].url = len(buf)
		if o.signed() {
			buf = append(buf, o.keyPrefix...)
			for _, part := range p.key.parts[:p.key.n] {
				buf = append(buf, part...)
			}
		}
		ends[i].key = len(buf)
	}
	return buf, ends
}

// setURLs fills d.URLs and d.Origins (of the right length) from s, the
// URLs written by appendURLs.
func (d *Decision) setURLs(p *prepared, s string, ends urlEnds) {
	start := 0
	for i, o := range p.origins() {
		u := s[start:ends[i].url]
		d.URLs[i] = u
		og := &d.Origins[i]
		*og = Origin{url: u, Scheme: o.scheme, Host: o.host, Port: o.port}
		pathStart := start + len(o.scheme) + len("://") + len(o.hostport)
		og.Path = s[pathStart:ends[i].path]
		if ends[i].url > ends[i].path {
			og.RawQuery = s[ends[i].path+1 : ends[i].url]
		}
		if o.signed() {
			og.Bucket = o.bucket
			og.Key = s[ends[i].url:ends[i].key]
		}
		start = ends[i].key
	}
}
