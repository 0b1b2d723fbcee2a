// Command bos configures a bucket's mirroring on a running `mirror serve`
// with Baidu's own Go SDK (github.com/baidubce/bce-sdk-go), reads it back,
// and prints it: BOS's PutBucketMirroring and GetBucketMirroring.
//
//	SSL_CERT_FILE=/tmp/mirror-tls/cert.pem go run ./bos -endpoint https://127.0.0.1:8443
//
// The gateway's certificate is trusted through SSL_CERT_FILE, which Go's
// crypto/x509 reads on Linux and the BSDs.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/baidubce/bce-sdk-go/bce"
	"github.com/baidubce/bce-sdk-go/services/bos"
	"github.com/baidubce/bce-sdk-go/services/bos/api"
)

func main() {
	endpoint := flag.String("endpoint", "https://127.0.0.1:8443", "the gateway's `URL`")
	bucket := flag.String("bucket", "my-bucket", "the gateway `bucket` to configure")
	ak := flag.String("ak", "AKIDADMIN", "an access key of the gateway's -credentials")
	sk := flag.String("sk", "admin-secret", "its secret")
	source := flag.String("source", "https://old-site.example.com", "the origin's `URL`")
	flag.Parse()

	cfg := bos.NewBosClientConfig(*ak, *sk, *endpoint)
	cfg.PathStyleEnable = true // the gateway's bucket is in the path
	cfg = cfg.WithRetryPolicy(bce.NewNoRetryPolicy())
	client, err := bos.NewClientWithConfig(cfg)
	if err != nil {
		fail(err)
	}
	err = client.PutBucketMirror(*bucket, &api.PutBucketMirrorArgs{
		BucketMirroringConfiguration: []api.MirrorConfigurationRule{{
			Mode: "fetch", SourceUrl: *source, Resource: "images/*",
			PassQueryString: true, StorageClass: "STANDARD_IA",
		}},
	})
	if err != nil {
		fail(err)
	}
	got, err := client.GetBucketMirror(*bucket)
	if err != nil {
		fail(err)
	}
	out, _ := json.Marshal(got)
	fmt.Printf("PutBucketMirror %s: ok\nGetBucketMirror: %s\n", *bucket, out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bos:", err)
	os.Exit(1)
}
