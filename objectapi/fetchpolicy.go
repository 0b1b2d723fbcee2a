package objectapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/requestlog"
	"github.com/mirrorkit/mirror/pull"
)

// What the gateway does with a decision's Policy beyond the origins it
// asks (docs/SERVING.md §3.10): mode redirectFetch answers at once with a
// redirect and fetches in the background, and an origin's error that the
// rule's fetch.passStatus lists is handed on. (A proxy-only rule,
// fetch.store false, is the pull package's: its fetch commits nothing.)

// redirectFetch answers a redirectFetch decision: the redirect, at once,
// to the origin a fetch would ask first, and the fetch into the store
// started (or joined) in the background, bounded by the Fetcher's slots
// as any fetch is. It reports false, having answered nothing, when that
// origin is a bos:// or s3:// one, whose URLs are private: such a
// decision is answered as a fetch rule's, synchronously.
func (h *Handler) redirectFetch(w http.ResponseWriter, r *http.Request, e *httpapi.Reply, bucket, key string, d *mirror.Decision) bool {
	i := firstPick(d, rand.IntN)
	if signedOrigin(d.Origins[i].Scheme) {
		return false
	}
	// The fetch is started, or joined, without waiting for the origin:
	// Fetch's ctx ends only its caller's wait, never the fetch, and this
	// one has ended already. So Fetch returns at once, a refusal
	// (SlowDown) included, and the flight runs on on its own context,
	// naming this request in its log line.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	cancel()
	dl, err := h.fetcherOf().Fetch(ctx, bucket, key, d)
	var fe *pull.FetchError
	switch {
	case err == nil:
		dl.Close() // the origin had answered already: the flight runs on
	case errors.As(err, &fe):
		h.logger().Warn("object request", "request", e.ID, "bucket", bucket, "key", key, "outcome", fe.Outcome,
			"error", "redirected, but the background fetch did not run: "+fe.Message)
	case !errors.Is(err, context.Canceled):
		h.logger().Warn("object request", "request", e.ID, "bucket", bucket, "key", key,
			"error", "redirected, but the background fetch did not run: "+err.Error())
	}
	requestlog.FromContext(r.Context()).SetOutcome("redirect_fetch")
	w.Header().Set("Location", d.URLs[i])
	w.WriteHeader(d.RedirectCode)
	return true
}

// firstPick is the index of the URL a fetch of d asks first, drawn as
// the pull package draws it (intn in [0, n)): the first primary when the
// pick is ordered (or the decision has no Policy); one primary uniformly
// when it is random; one primary by weight when it is weighted. The
// fetch draws again, on its own: the client may be sent to one primary
// while the gateway fetches from another (docs/SERVING.md §3.10).
func firstPick(d *mirror.Decision, intn func(n int) int) int {
	p := d.Policy
	if p == nil || p.Primaries < 2 || p.Primaries > len(d.URLs) {
		return 0
	}
	switch p.Pick {
	case mirror.PickRandom:
		return intn(p.Primaries)
	case mirror.PickWeighted:
		if len(p.Weights) != p.Primaries {
			return 0
		}
		total := 0
		for _, w := range p.Weights {
			total += w
		}
		if total <= 0 {
			return 0
		}
		at := intn(total)
		for i, w := range p.Weights {
			if at < w {
				return i
			}
			at -= w
		}
	}
	return 0
}

// signedOrigin reports whether an origin's scheme is a storage API's
// (bos://, s3://): its requests are signed with the gateway's own
// credentials, and neither its URL nor its answers are for clients.
func signedOrigin(scheme string) bool { return scheme == "bos" || scheme == "s3" }

// PassedHeader marks an answer that is an origin's error handed on by the
// rule's fetch.passStatus (docs/SERVING.md §3.10): "origin", or
// "origin; truncated" when its body was cut at pull.MaxPassedBody.
const PassedHeader = "X-Mirror-Passed"

// pass answers with an origin's error answer, as the pull package handed
// it on: its status, its kept headers and its body, in the origin's words,
// not the client's dialect. Its media type is the origin's, or
// application/octet-stream, never one sniffed; and it is sandboxed, as an
// error page needs no script.
func pass(w http.ResponseWriter, a *pull.PassedAnswer) {
	h := w.Header()
	for name, v := range a.Header {
		h[name] = v
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Content-Length", strconv.Itoa(len(a.Body)))
	mark := "origin"
	if a.Truncated {
		mark = "origin; truncated"
	}
	h.Set(PassedHeader, mark)
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body) // net/http drops it for a HEAD
}
