package objectapi

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A purge that lands while a revalidation waits for its origin, which
// then answers 304: refresh finds the object gone and returns nil with
// the flight marked stored, so the client is sent to read a store that
// no longer holds the object, and gets 500 InternalError ("the gateway
// failed reading the object just stored"), an error of the gateway's own
// for an ordinary purge race.
func TestAPurgeDuringA304RevalidationIsNoServerError(t *testing.T) {
	var g *gateway
	var purgeNext atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			if purgeNext.Load() {
				require.NoError(t, g.fetcher.Purge(context.Background(), "bkt", "k"))
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Length", strconv.Itoa(len("body")))
		_, _ = w.Write([]byte("body"))
	})
	g = newGateway(t)
	g.setRules("bkt", fetchRule(o.URL+"/"))
	b, err := body(g.do("GET", "/bkt/k"))
	require.NoError(t, err)
	require.Equal(t, "body", b)
	g.handler.MaxAge = func(string) time.Duration { return 1 }

	purgeNext.Store(true)
	resp := g.do("GET", "/bkt/k")
	b, _ = body(resp)
	assert.NotEqual(t, http.StatusInternalServerError, resp.StatusCode, b)
}
