package objectapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/objectapi"
	"github.com/mirrorkit/mirror/pull"
)

// What an embedder writes: a Store, a Registry of the buckets' rules in
// it, and a Handler that asks them on a miss. The first GET fetches the
// object from the origin while streaming it; the second is served from
// the store.
func ExampleHandler() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("origin asked for", r.URL.Path)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from the old site")
	}))
	defer origin.Close()

	dir, _ := os.MkdirTemp("", "mirror-example-")
	defer os.RemoveAll(dir)
	store, err := dirstore.Open(dir)
	if err != nil {
		panic(err)
	}
	defer store.Close()

	// The origin is on 127.0.0.1, which a real gateway refuses: the rules
	// and the dial guard must both allow it here.
	configs := &bucketconfig.Registry{Store: store, Compiler: mirror.Compiler{AllowPrivateOrigins: true}}
	err = configs.Put(context.Background(), "my-bucket", mirror.FormatQingStor,
		[]byte(`{"source_site": "`+origin.URL+`/site"}`))
	if err != nil {
		panic(err)
	}
	handler := &objectapi.Handler{
		Fetcher:  &pull.Fetcher{Store: store, AllowPrivateOrigins: true}, // the store, named once
		Registry: configs,                                                // a bucket without a configuration: 404 NoSuchBucket
	}
	gateway := httptest.NewServer(handler)
	defer gateway.Close()
	defer handler.Shutdown(context.Background())

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
