package pull_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/pull"
)

// What an embedder writes: a Store, a Fetcher over it, and a Handler that
// asks the bucket's rules on a miss. The first GET fetches the object
// from the origin while streaming it; the second is served from the store.
func ExampleHandler() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("origin asked for", r.URL.Path)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from the old site")
	}))
	defer origin.Close()

	dir, _ := os.MkdirTemp("", "mirror-example-")
	defer os.RemoveAll(dir)
	store, err := pull.OpenDirStore(dir)
	if err != nil {
		panic(err)
	}
	defer store.Close()

	// The origin is on 127.0.0.1, which a real gateway refuses: the rules
	// and the dial guard must both allow it here.
	rules, err := mirror.Compiler{AllowPrivateOrigins: true}.Load(
		[]byte(`{"source_site": "`+origin.URL+`/site"}`), mirror.FormatQingStor)
	if err != nil {
		panic(err)
	}
	fetcher := &pull.Fetcher{Store: store, AllowPrivateOrigins: true}
	gateway := httptest.NewServer(&pull.Handler{
		Store:   store,
		Fetcher: fetcher,
		Rules: func(_ context.Context, bucket string) (*mirror.Engine, error) {
			if bucket == "my-bucket" {
				return rules, nil
			}
			return nil, nil // no configuration: 404 NoSuchBucket
		},
	})
	defer gateway.Close()
	defer fetcher.Shutdown(context.Background())

	for range 2 {
		resp, err := http.Get(gateway.URL + "/my-bucket/docs/a.txt")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// origin asked for /site/docs/a.txt
	// 200 hello from the old site
	// 200 hello from the old site
}
