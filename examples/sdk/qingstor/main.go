// Command qingstor configures a bucket's external mirror on a running
// `mirror serve` with QingStor's own Go SDK
// (github.com/yunify/qingstor-sdk-go/v3), reads it back, and prints it:
// QingStor's PUT and GET Bucket External Mirror.
//
//	SSL_CERT_FILE=/tmp/mirror-tls/cert.pem go run ./qingstor -host localhost -port 8443 -dial 127.0.0.1:8443
//
// The SDK sends every request to ZONE.HOST (pek3b.localhost here), which
// needs wildcard DNS; -dial connects to the gateway whatever the name, as
// curl's --connect-to does, so the example runs on loopback. The TLS name
// checked is still ZONE.HOST: the certificate must cover it
// (*.localhost).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/yunify/qingstor-sdk-go/v3/config"
	"github.com/yunify/qingstor-sdk-go/v3/service"
)

func main() {
	host := flag.String("host", "localhost", "the gateway's `host` name; requests go to ZONE.HOST")
	port := flag.Int("port", 8443, "the gateway's `port`")
	protocol := flag.String("protocol", "https", "https or http")
	dial := flag.String("dial", "", "connect to this `ADDR` (HOST:PORT) whatever the request's host (empty: resolve ZONE.HOST)")
	bucket := flag.String("bucket", "qs-bucket", "the gateway `bucket` to configure")
	zone := flag.String("zone", "pek3b", "the `zone` label the SDK puts before the host")
	ak := flag.String("ak", "AKIDADMIN", "an access key of the gateway's -credentials")
	sk := flag.String("sk", "admin-secret", "its secret")
	source := flag.String("source", "https://old-site.example.com/files", "the origin's `URL`")
	flag.Parse()

	conf, err := config.New(*ak, *sk)
	if err != nil {
		fail(err)
	}
	conf.Host, conf.Port, conf.Protocol = *host, *port, *protocol
	if *dial != "" {
		conf.Connection = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, *dial)
			},
		}}
	}
	svc, err := service.Init(conf)
	if err != nil {
		fail(err)
	}
	b, err := svc.Bucket(*bucket, *zone)
	if err != nil {
		fail(err)
	}
	if _, err := b.PutExternalMirror(&service.PutBucketExternalMirrorInput{SourceSite: service.String(*source)}); err != nil {
		fail(err)
	}
	got, err := b.GetExternalMirror()
	if err != nil {
		fail(err)
	}
	fmt.Printf("PutExternalMirror %s: ok\nGetExternalMirror: source_site %s\n", *bucket, service.StringValue(got.SourceSite))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "qingstor:", err)
	os.Exit(1)
}
