package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/bce"
)

// The origin client: the transport every origin request goes through, with
// its dial guard; the request itself, signed for bos:// origins; and the
// walk over a decision's origins that fails over (docs/SERVING.md §3.3).

// GuardError is a connection the dial guard refused: the address actually
// dialled, after DNS, is not publicly routable (mirror.NonRoutable).
type GuardError struct {
	Addr  netip.Addr
	Block netip.Prefix
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("dial guard: %s is in %s, which is not publicly routable; private origins are not allowed without -allow-private-origins (Fetcher.AllowPrivateOrigins)", e.Addr, e.Block)
}

// guardControl refuses, on the socket about to connect, any address in
// the engine's table of non-routable blocks. It judges the address the
// kernel will dial, so a name that resolves to 127.0.0.1 or
// 169.254.169.254 is refused whatever the name was.
func guardControl(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial guard: unexpected address %q", address)
	}
	if block, bad := nonRoutable(ap.Addr()); bad {
		return &GuardError{Addr: ap.Addr().Unmap(), Block: block}
	}
	return nil
}

// nonRoutable is the guard's table (a variable so that a test can treat
// one loopback address as public).
var nonRoutable = mirror.NonRoutable

// originIdle is how long a connection to an origin is kept idle.
const originIdle = 2 * time.Second

// newTransport builds the transport origins are fetched with: no proxy
// from the environment (the guard must judge the origin, not a proxy), the
// dial guard unless private origins are allowed, the -resolve mappings,
// and no transparent decompression (the stored bytes are the origin's).
func (f *Fetcher) newTransport() *http.Transport {
	d := &net.Dialer{Timeout: f.dialTimeout(), KeepAlive: 30 * time.Second}
	if !f.AllowPrivateOrigins {
		d.ControlContext = guardControl
	}
	resolve := make(map[string]string, len(f.Resolve))
	for hostport, addr := range f.Resolve {
		if _, port, err := net.SplitHostPort(hostport); err == nil {
			resolve[hostport] = net.JoinHostPort(addr, port)
		}
	}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := resolve[addr]; ok {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		},
		// Connections to origins are kept alive, as nginx's upstream
		// keepalive keeps them: a dial, its goroutines and a TCP
		// handshake per fetch cost a small miss more than its body
		// (issue 18). No request is ever sent twice (originRequest), and
		// an idle connection is closed after originIdle, well before the
		// shortest keep-alive timeout origins commonly have (5 s), so
		// that reuse rarely meets a connection its origin is closing
		// (docs/SERVING.md §3.3).
		MaxIdleConns:          4 * f.maxFetches(),
		MaxIdleConnsPerHost:   f.maxFetches(),
		IdleConnTimeout:       originIdle,
		TLSClientConfig:       f.TLSClientConfig,
		TLSHandshakeTimeout:   f.dialTimeout(),
		ResponseHeaderTimeout: f.headerTimeout(),
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// ask sends the origin request to each origin in turn (docs/SERVING.md
// §3.3), in the order the rule's pick gives (policy.go): the next one is
// tried when the current one fails before any body byte, by a dial, TLS
// or guard error, no headers in time, or a status of the rule's
// failoverOn (by default 429, 500, 502, 503 or 504). A 404 is the answer
// unless failoverOn lists it and another origin is left, and any other
// status ends the fetch. Redirects are followed as the rule's
// fetch.followRedirects allows (redirect.go), and origins whose breaker is
// open, or primaries whose probe is down while a backup is left, are
// skipped (health.go).
//
// With cond (a revalidation's validators), a 304 is an answer too.
func (f *Fetcher) ask(ctx context.Context, bucket string, d *mirror.Decision, cond http.Header, res *FetchResult) (*http.Response, error) {
	var last string
	lastNotFound := false
	order := originOrder(d, pickRand)
	// Where the rule names a probe URL that is down, its primaries are
	// asked after the backups (health.go): the probe steers, it never
	// makes a fetch fail that a primary could serve (found in review).
	if p := d.Policy; p != nil && p.Probe != "" && p.Primaries < len(order) && !f.probeUp(bucket, p.Probe, time.Now()) {
		order = append(order[p.Primaries:len(order):len(order)], order[:p.Primaries]...)
	}
	for n, i := range order {
		o := &d.Origins[i]
		more := n < len(order)-1
		res.Origin, res.Status = o.String(), 0
		req, err := f.originRequest(ctx, bucket, o, d.Header)
		if err != nil {
			last, lastNotFound = fmt.Sprintf("%s: %v", o, err), false
			continue
		}
		if i == 0 {
			// The validators are the primary's: a backup holding other
			// bytes could answer 304 to its date (found in review). A
			// backup's answer is a whole object, replacing the stored one.
			for name, v := range cond {
				req.Header[name] = v
			}
		}
		k := breakerKey{bucket, o.Scheme + "://" + o.Authority()}
		if !f.allow(k, f.clock()) {
			last, lastNotFound = fmt.Sprintf("%s: skipped, its circuit breaker is open", o), false
			continue
		}
		began := time.Now()
		resp, err := f.transport.RoundTrip(req)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		f.Hooks.origin(OriginResult{Origin: o.String(), Status: status, Duration: time.Since(began)})
		if err == nil && isRedirect(status) {
			resp, err = f.follow(ctx, o, d.Policy, req, resp) // redirect.go
			status = 0
			if err == nil {
				status = resp.StatusCode
			}
		}
		var redirect *RedirectError
		if ctx.Err() != nil {
			f.untest(k) // the fetch ended, not the origin
		} else {
			f.record(k, err != nil && !errors.As(err, &redirect) || status >= 500 && !listsCode(d.Policy, status), f.clock())
		}
		res.Status = status
		if err != nil {
			last, lastNotFound = fmt.Sprintf("%s: %v", o, err), false
			continue
		}
		switch {
		case status == http.StatusOK, status == http.StatusNotModified && cond != nil && i == 0:
			return resp, nil
		case passes(d.Policy, o, status) && !(more && failsOver(d.Policy, status)):
			// The rule hands this status on (passthrough.go), once no
			// failover is left to try.
			return nil, passThrough(o, resp, f.idleTimeout())
		case failsOver(d.Policy, status) && (more || status != http.StatusNotFound):
			// The rule's failoverOn, or the default set (policy.go); a
			// listed 404 moves on while another origin is left.
			resp.Body.Close()
			last, lastNotFound = fmt.Sprintf("%s answered %s", o, resp.Status), status == http.StatusNotFound
			continue
		case status == http.StatusNotFound:
			resp.Body.Close()
			return nil, &FetchError{Outcome: OutcomeNotFound, Message: fmt.Sprintf("the origin %s has no such object", o)}
		}
		resp.Body.Close()
		return nil, &FetchError{Outcome: OutcomeFailed, Message: fmt.Sprintf("%s answered %s", o, resp.Status)}
	}
	if lastNotFound {
		return nil, &FetchError{Outcome: OutcomeNotFound, Message: "no origin has the object; the last: " + last}
	}
	return nil, &FetchError{Outcome: OutcomeFailed, Message: "every origin failed; the last: " + last}
}

// originRequest is the GET of docs/SERVING.md §3.8: the decision's URL
// exactly as written, its headers, a User-Agent unless the rule sets one,
// Accept-Encoding: identity, and the loop marker. A bos:// or s3://
// origin is signed with the gateway bucket's own credentials.
func (f *Fetcher) originRequest(ctx context.Context, bucket string, o *mirror.Origin, h http.Header) (*http.Request, error) {
	req, err := o.NewRequest(ctx)
	if err != nil {
		return nil, err
	}
	for name, values := range h {
		req.Header[name] = values
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("Via", LoopMarker)
	// Not http.NoBody: a request with a body net/http can not rewind is
	// one it never sends again by itself, and it would send a GET again
	// when a kept-alive connection broke before the answer. The body is
	// empty, and the "identity" transfer coding keeps net/http from
	// sending it chunked, or from starting a goroutine to find out that
	// it is empty (Request.Write's documentation): the request on the
	// wire is a plain GET.
	req.Body, req.GetBody, req.ContentLength = sendOnce{}, nil, 0
	req.TransferEncoding = []string{"identity"}
	if o.Scheme == "bos" {
		var creds *BOSCredentials
		if f.BOSCredentials != nil {
			creds = f.BOSCredentials(bucket)
		}
		if err := bosRequest(req, o, bucket, creds, f.BOSInsecureHTTP, time.Now()); err != nil {
			return nil, err
		}
	}
	if o.Scheme == "s3" {
		return f.s3Request(req, o, bucket) // s3origin.go
	}
	return req, nil
}

// sendOnce is the empty body of every origin request.
type sendOnce struct{}

func (sendOnce) Read([]byte) (int, error) { return 0, io.EOF }
func (sendOnce) Close() error             { return nil }

// LoopMarker is the Via header of every origin request. A request that
// arrives with a Via naming mirrorkit never starts a fetch, so that a rule
// whose origin is a mirror gateway can not loop.
const LoopMarker = "1.1 mirrorkit"

// UserAgent is what origin requests carry unless the rule sets one.
var UserAgent = "mirrorkit/" + version()

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
			if m.Path == "github.com/mirrorkit/mirror" && m.Version != "" && m.Version != "(devel)" {
				return m.Version
			}
		}
	}
	return "devel"
}

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
