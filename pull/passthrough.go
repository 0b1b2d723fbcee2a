package pull

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/mirrorkit/mirror"
)

// MaxPassedBody bounds the body of an origin's error answer that a rule's
// fetch.passStatus hands to the client (docs/SERVING.md §3.10): the
// rest is not read.
const MaxPassedBody = 64 << 10

// PassedAnswer is an origin's error answer handed to the client as it is
// (OSS TransparentMirrorResponseCodes, COS TransparentErrorCode): its
// status, the headers an object keeps (KeptHeaders, filtered as for a
// 200) and at most MaxPassedBody bytes of its body. It is the origin's
// text, not the client's dialect.
type PassedAnswer struct {
	Status int
	Header http.Header
	Body   []byte
	// Truncated reports that the origin's body was longer than Body.
	Truncated bool
}

// passes says whether the rule hands an origin's status to the client:
// listed in fetch.passStatus (codes, "4xx", "5xx"), never a 2xx or 3xx,
// and never from a bos:// or s3:// origin, whose error bodies name
// private buckets and keys.
func passes(p *mirror.Policy, o *mirror.Origin, status int) bool {
	if p == nil || status < 400 || o.Scheme == "bos" || o.Scheme == "s3" {
		return false
	}
	for _, s := range p.PassStatus {
		switch {
		case s == "4xx" && status < 500, s == "5xx" && status >= 500 && status < 600, s == strconv.Itoa(status):
			return true
		}
	}
	return false
}

// passThrough reads the answer to hand on, and closes its body. An origin
// that stops sending it for idle is cut off as a stalled body is (found in
// review: a read without the idle timer held the fetch's slot and its
// clients for the whole fetch timeout).
func passThrough(o *mirror.Origin, resp *http.Response, idle time.Duration) *FetchError {
	defer resp.Body.Close()
	stall := time.AfterFunc(idle, func() { resp.Body.Close() })
	defer stall.Stop()
	body, err := io.ReadAll(&idleReader{r: io.LimitReader(resp.Body, MaxPassedBody+1), t: stall, idle: idle})
	a := &PassedAnswer{Status: resp.StatusCode, Header: keptHeaders(resp.Header)}
	if len(body) > MaxPassedBody {
		body, a.Truncated = body[:MaxPassedBody], true
	}
	if err != nil {
		a.Truncated = true // what arrived is handed on, marked short
	}
	a.Body = body
	return &FetchError{Outcome: OutcomePassed, Passed: a,
		Message: fmt.Sprintf("%s answered %s, which the rule passes through", o, resp.Status)}
}

// idleReader renews its timer on every read that brings bytes.
type idleReader struct {
	r    io.Reader
	t    *time.Timer
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.idle)
	}
	return n, err
}
