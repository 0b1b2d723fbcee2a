package pull

import "time"

// Hooks are what a Fetcher tells as it runs, for metrics and logs, gathered
// as net/http/httptrace.ClientTrace gathers a request's: wiring them is one
// literal. Each may be nil. They are called on the fetch's goroutines, so
// they must be quick and safe for concurrent use.
type Hooks struct {
	// Fetch is called once per fetch that ran (or was refused with
	// SlowDown), with how it ended.
	Fetch func(FetchResult)
	// Origin is called once per origin request.
	Origin func(OriginResult)
	// Join is called once per request that joined a fetch another one
	// started.
	Join func()
}

// FetchResult describes one fetch, for logs and metrics.
type FetchResult struct {
	Bucket, Key string
	Rule        int
	Origin      string // the URL of the last origin asked
	Status      int    // its status, 0 when it gave none
	Bytes       int64
	Duration    time.Duration
	Outcome     Outcome
	Err         error // nil when stored
	// RequestID is the id of the request that started the fetch, when
	// it came through an access log (internal/requestlog).
	RequestID string
}

// OriginResult describes one origin request.
type OriginResult struct {
	Origin   string
	Status   int // 0: no response (dial, TLS, guard or timeout)
	Duration time.Duration
}

func (h *Hooks) fetch(r FetchResult) {
	if h.Fetch != nil {
		h.Fetch(r)
	}
}

func (h *Hooks) origin(r OriginResult) {
	if h.Origin != nil {
		h.Origin(r)
	}
}

func (h *Hooks) join() {
	if h.Join != nil {
		h.Join()
	}
}
