package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

// The probes of mirror serve, for load balancers and orchestrators, on
// paths no bucket can take, as Prometheus has them: "-" starts no valid
// bucket name, and a Host that names a bucket (-domain) is left to its
// bucket, whose keys may start with "-/" (docs/SERVING.md §5).
const (
	healthyPath = "/-/healthy" // liveness: 200 while the process serves
	readyPath   = "/-/ready"   // readiness: 200 while requests can be served
)

// pinger is a store that can tell whether it answers.
type pinger interface {
	Ping(ctx context.Context) error
}

// probes answers the two probe paths.
type probes struct {
	store    pinger // nil: a store that can not tell, taken as answering
	router   httpapi.Router
	stopping atomic.Bool // set when the gateway begins to shut down
}

// pingTimeout bounds the store's answer to a readiness probe.
const pingTimeout = 2 * time.Second

// serve answers r when it is a probe, and says whether it was.
func (p *probes) serve(w http.ResponseWriter, r *http.Request) bool {
	if (r.URL.Path != healthyPath && r.URL.Path != readyPath) || p.router.VirtualHost(r) {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "GET or HEAD", http.StatusMethodNotAllowed)
		return true
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == healthyPath {
		_, _ = w.Write([]byte("OK\n"))
		return true
	}
	switch why := p.notReady(r.Context()); why {
	case "":
		_, _ = w.Write([]byte("ready\n"))
	default:
		// Why, but never the store's own error: it may name internal
		// addresses or paths.
		http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
	}
	return true
}

// notReady says why requests can not be served now ("" when they can).
func (p *probes) notReady(ctx context.Context) string {
	if p.stopping.Load() {
		return "shutting down"
	}
	if p.store != nil {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		if err := p.store.Ping(ctx); err != nil {
			return "the store does not answer"
		}
	}
	return ""
}
