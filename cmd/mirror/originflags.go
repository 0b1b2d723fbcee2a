package main

import (
	"flag"
	"fmt"

	"github.com/mirrorkit/mirror/pull"
)

// originFlags are how origins are fetched, which serve and warm share, so
// that a warm pulls a key exactly as the gateway's miss would: the dial
// guard, -resolve, bos:// and s3:// credentials, and one fetch's timeouts
// and limits.
type originFlags struct {
	allowPrivate    bool
	resolve         listFlag
	bosCredentials  string
	bosInsecureHTTP bool
	s3Credentials   string
	s3InsecureHTTP  bool
	fetcher         pull.Fetcher // the timeouts, the minimum rate, and serve's slots
	maxObjectSize   bytesFlag
}

// register sets the flags into o, with the Fetcher's defaults.
func (o *originFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.allowPrivate, "allow-private-origins", false, "allow loopback, private and other non-routable origins (rules and dial guard)")
	fs.Var(&o.resolve, "resolve", "`HOST:PORT:ADDR`: dial ADDR for HOST:PORT, as curl --resolve (repeatable); the dial guard judges ADDR")
	fs.StringVar(&o.bosCredentials, "bos-origin-credentials", "", `JSON `+"`file`"+` of bos:// origin credentials per gateway bucket: {"BUCKET": {"accessKeyId", "secretAccessKey", "endpoints", "buckets"}}`)
	fs.BoolVar(&o.bosInsecureHTTP, "bos-insecure-http", false, "fetch bos:// origins over http (loopback tests only)")
	fs.StringVar(&o.s3Credentials, "s3-origin-credentials", "", `JSON `+"`file`"+` of credentials for the rules' s3://ENDPOINT/BUCKET origins (private S3 buckets, `+
		`signed with AWS Signature V4), per gateway bucket: {"BUCKET": {"accessKeyId", "secretAccessKey", "sessionToken" (optional), `+
		`"region" (default us-east-1), "endpoints", "buckets"}}; an s3:// origin whose gateway bucket has no entry, or whose entry `+
		`does not list its endpoint and source bucket, fails over without being asked (not the -data store's credentials)`)
	fs.BoolVar(&o.s3InsecureHTTP, "s3-insecure-http", false, "fetch the rules' s3:// origins over http, not https (loopback tests only; not the -data store's -s3-endpoint)")
	fs.DurationVar(&o.fetcher.DialTimeout, "dial-timeout", pull.DefaultDialTimeout, "connect and TLS handshake timeout per origin")
	fs.DurationVar(&o.fetcher.HeaderTimeout, "header-timeout", pull.DefaultHeaderTimeout, "wait for an origin's response headers")
	fs.DurationVar(&o.fetcher.IdleTimeout, "idle-timeout", pull.DefaultIdleTimeout, "wait for the next body byte from an origin")
	fs.DurationVar(&o.fetcher.FetchTimeout, "fetch-timeout", pull.DefaultFetchTimeout, "bound on a whole fetch")
	o.maxObjectSize = pull.DefaultMaxObjectSize
	fs.Var(&o.maxObjectSize, "max-object-size", "largest object fetched, in decimal `bytes`")
	fs.Int64Var(&o.fetcher.MinRate, "min-rate", pull.DefaultMinRate, "fewest `bytes` a second an origin may send, over each 30 s spent waiting for it")
	fs.IntVar(&o.fetcher.BreakerFailures, "breaker-failures", pull.DefaultBreakerFailures, "consecutive failures (transport errors, timeouts, 5xx) that open an origin's circuit breaker for a gateway bucket; -1 turns the breakers off")
	fs.DurationVar(&o.fetcher.BreakerCoolDown, "breaker-cool-down", pull.DefaultBreakerCoolDown, "how long an open breaker skips its origin before one request tests it")
	fs.DurationVar(&o.fetcher.ProbeInterval, "probe-interval", pull.DefaultProbeInterval, "how often a rule's fetch.probe URL is asked")
}

// resolveMap reads the -resolve flags.
func (o *originFlags) resolveMap() (map[string]string, error) {
	resolve := map[string]string{}
	for _, r := range o.resolve {
		hostport, addr, ok := parseResolve(r)
		if !ok {
			return nil, fmt.Errorf("-resolve %q: want HOST:PORT:ADDR, an IPv6 address in brackets or not", r)
		}
		resolve[hostport] = addr
	}
	return resolve, nil
}

// wire gives the Fetcher of o the flags' origin options, over store;
// secrets gives a gateway bucket's bos:// and s3:// credentials.
func (o *originFlags) wire(store pull.Store, resolve map[string]string, secrets *files) *pull.Fetcher {
	f := &o.fetcher
	f.Store, f.AllowPrivateOrigins, f.Resolve = store, o.allowPrivate, resolve
	f.MaxObjectSize, f.BOSInsecureHTTP, f.BOSCredentials = int64(o.maxObjectSize), o.bosInsecureHTTP, secrets.bosCredentials
	f.S3InsecureHTTP, f.S3Credentials = o.s3InsecureHTTP, secrets.s3Credentials
	return f
}
