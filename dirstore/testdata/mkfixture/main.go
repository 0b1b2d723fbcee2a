// mkfixture wrote datadir-v0 with the DirStore of commit 3615758, the
// last before the serving packages were reshaped (issue 15); it builds
// only at that commit: go run ./cmd/mkfixture DIR.
package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"os"

	"github.com/mirrorkit/mirror/pull"
)

func main() {
	s, err := pull.OpenDirStore(os.Args[1])
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	put := func(bucket, key, data, class string, h http.Header) {
		up, err := s.Create(ctx, bucket, key)
		if err != nil {
			panic(err)
		}
		io.WriteString(up, data)
		sum := md5.Sum([]byte(data))
		if err := up.Commit(ctx, pull.ObjectInfo{Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]), Header: h, StorageClass: class}); err != nil {
			panic(err)
		}
		up.Abort()
	}
	put("old-bucket", "docs/a.txt", "hello from the old site\n", "", http.Header{"Content-Type": {"text/plain"}})
	put("old-bucket", "img/日本 a+b.png", "\x89PNG fake", "COLD", http.Header{"Content-Type": {"image/png"},
		"Cache-Control": {"max-age=60"}, "Expires": {"0"}, "Content-Disposition": {`attachment; filename="日本.png"`}})
	put("old-bucket", "a/../../x", "hostile", "", http.Header{})
	put("old-bucket", "empty", "", "", http.Header{"Content-Type": {"application/octet-stream"}})
	put("other-bucket", "k", "gz bytes", "STANDARD_IA", http.Header{"Content-Encoding": {"gzip"}, "Content-Language": {"de"}})
	for bucket, c := range map[string][2]string{
		"old-bucket":    {"bos", `{"bucketMirroringConfiguration":[{"mode":"fetch","sourceUrl":"https://origin.example.com","resource":"*"}]}`},
		"other-bucket":  {"qingstor", `{"source_site":"https://qs-origin.example.com/base"}`},
		"native-bucket": {"native", `{"rules":[{"mode":"redirect","sourceUrl":"https://cdn.example.com","resource":"v/*","redirectCode":302}]}`},
		"auto-bucket":   {"", `{"source_site":"https://auto.example.com"}`},
	} {
		if err := s.PutConfig(ctx, bucket, c[0], []byte(c[1])); err != nil {
			panic(err)
		}
	}
}
