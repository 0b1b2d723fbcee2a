package main

import (
	"flag"
	"fmt"

	"github.com/mirrorkit/mirror/pull"
)

// originFlags are how origins are fetched, which serve and warm share, so
// that a warm pulls a key exactly as the gateway's miss would: the dial
// guard, -resolve, bos:// credentials, and one fetch's timeouts and limits.
type originFlags struct {
	allowPrivate    bool
	resolve         listFlag
	bosCredentials  string
	bosInsecureHTTP bool
	fetcher         pull.Fetcher // the timeouts, the minimum rate, and serve's slots
	maxObjectSize   bytesFlag
}

// register sets the flags into o, with the Fetcher's defaults.
func (o *originFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.allowPrivate, "allow-private-origins", false, "allow loopback, private and other non-routable origins (rules and dial guard)")
	fs.Var(&o.resolve, "resolve", "`HOST:PORT:ADDR`: dial ADDR for HOST:PORT, as curl --resolve (repeatable); the dial guard judges ADDR")
	fs.StringVar(&o.bosCredentials, "bos-origin-credentials", "", `JSON `+"`file`"+` of bos:// origin credentials per gateway bucket: {"BUCKET": {"accessKeyId", "secretAccessKey", "endpoints", "buckets"}}`)
	fs.BoolVar(&o.bosInsecureHTTP, "bos-insecure-http", false, "fetch bos:// origins over http (loopback tests only)")
	fs.DurationVar(&o.fetcher.DialTimeout, "dial-timeout", pull.DefaultDialTimeout, "connect and TLS handshake timeout per origin")
	fs.DurationVar(&o.fetcher.HeaderTimeout, "header-timeout", pull.DefaultHeaderTimeout, "wait for an origin's response headers")
	fs.DurationVar(&o.fetcher.IdleTimeout, "idle-timeout", pull.DefaultIdleTimeout, "wait for the next body byte from an origin")
	fs.DurationVar(&o.fetcher.FetchTimeout, "fetch-timeout", pull.DefaultFetchTimeout, "bound on a whole fetch")
	o.maxObjectSize = pull.DefaultMaxObjectSize
	fs.Var(&o.maxObjectSize, "max-object-size", "largest object fetched, in decimal `bytes`")
	fs.Int64Var(&o.fetcher.MinRate, "min-rate", pull.DefaultMinRate, "fewest `bytes` a second an origin may send, over each 30 s spent waiting for it")
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
// bos gives a gateway bucket's bos:// credentials.
func (o *originFlags) wire(store pull.Store, resolve map[string]string, bos func(string) *pull.BOSCredentials) *pull.Fetcher {
	f := &o.fetcher
	f.Store, f.AllowPrivateOrigins, f.Resolve = store, o.allowPrivate, resolve
	f.MaxObjectSize, f.BOSInsecureHTTP, f.BOSCredentials = int64(o.maxObjectSize), o.bosInsecureHTTP, bos
	return f
}
