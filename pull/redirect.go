package pull

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
)

// Redirect following (docs/SERVING.md §3.3.2): an origin's 301, 302, 303,
// 307 or 308 is followed when the rule's fetch.followRedirects allows,
// each hop a new GET through the same guarded transport (so its address is
// judged after DNS like the first), counted as the origin's request.

// isRedirect reports a status whose Location the fetch may follow.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// RedirectError is an origin redirect the fetch did not follow: past the
// rule's hop count, to a URL that is not http or https, or from a bos://
// or s3:// origin. It fails over like an unreachable origin.
type RedirectError struct{ Reason string }

func (e *RedirectError) Error() string { return "redirect not followed: " + e.Reason }

// follow follows resp's redirects as the rule allows and returns the first
// answer that is not a redirect to follow. A redirect the rule does not
// ask to follow (followRedirects 0) is returned as it is, an answer like
// any other status; one it may not follow is a *RedirectError.
func (f *Fetcher) follow(ctx context.Context, o *mirror.Origin, p *mirror.Policy, req *http.Request, resp *http.Response) (*http.Response, error) {
	hops := 0
	if p != nil {
		hops = p.FollowRedirects
	}
	first, crossed := req.URL, false
	for n := 0; isRedirect(resp.StatusCode); n++ {
		switch {
		case o.Scheme == "bos" || o.Scheme == "s3":
			// A signed origin's redirect would carry its signature, or
			// send the fetch to a bucket nobody named.
			resp.Body.Close()
			return nil, &RedirectError{Reason: fmt.Sprintf("%s answered %s; redirects of %s:// origins are never followed", o, resp.Status, o.Scheme)}
		case hops == 0:
			return resp, nil
		case n >= hops:
			resp.Body.Close()
			return nil, &RedirectError{Reason: fmt.Sprintf("%s redirected more than the rule's %d times", o, hops)}
		}
		loc := resp.Header.Get("Location")
		resp.Body.Close()
		next, err := req.URL.Parse(loc)
		switch {
		case loc == "" || err != nil:
			return nil, &RedirectError{Reason: fmt.Sprintf("%s redirected without a valid Location", o)}
		case next.Scheme != "http" && next.Scheme != "https":
			return nil, &RedirectError{Reason: fmt.Sprintf("%s redirected to a %q URL, not http or https", o, next.Scheme)}
		case next.User != nil:
			return nil, &RedirectError{Reason: fmt.Sprintf("%s redirected to a URL with credentials in it", o)}
		}
		next.Fragment, next.RawFragment = "", ""
		hop, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
		if err != nil {
			return nil, &RedirectError{Reason: fmt.Sprintf("%s redirected to a URL that can not be asked", o)}
		}
		hop.Body, hop.GetBody, hop.ContentLength, hop.TransferEncoding = sendOnce{}, nil, 0, []string{"identity"}
		// Once another host answered, no later hop gets the headers back.
		crossed = crossed || !sameOrigin(first, next)
		if !crossed {
			hop.Header = req.Header.Clone()
		} else {
			// Another host (or scheme, or port): the rule's headers and
			// any credentials or validators stay with the origin they
			// were written for.
			hop.Header = http.Header{"User-Agent": {UserAgent}}
		}
		hop.Header.Set("Accept-Encoding", "identity")
		hop.Header.Set("Via", LoopMarker)
		began := time.Now()
		resp, err = f.transport.RoundTrip(hop)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		f.Hooks.origin(OriginResult{Origin: o.String(), Status: status, Duration: time.Since(began)})
		if err != nil {
			return nil, err
		}
		req = hop
	}
	return resp, nil
}

// sameOrigin compares scheme and host:port, ASCII case-insensitively.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}
