package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mirrorkit/mirror/access"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/configapi"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/requestlog"
	"github.com/mirrorkit/mirror/objectapi"
	"github.com/mirrorkit/mirror/pull"
	"github.com/mirrorkit/mirror/s3store"
)

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// bytesFlag is a size in decimal bytes, positive: "0100" is a hundred,
// not sixty-four, and "0x10" is an error.
type bytesFlag int64

func (b *bytesFlag) String() string { return strconv.FormatInt(int64(*b), 10) }
func (b *bytesFlag) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("want a positive number of bytes in decimal")
	}
	*b = bytesFlag(n)
	return nil
}

// The defaults that belong to serve alone; the Fetcher's and the
// Registry's are their packages' (pull.Default…, bucketconfig.Default…).
const (
	defaultListen = "127.0.0.1:8080"
	defaultGrace  = 30 * time.Second
	// defaultSmallObject is -small-object's: 256 KiB arrives in a moment.
	defaultSmallObject = 256 << 10
	// readHeaderTimeout and clientIdleTimeout bound a client's request
	// headers and an idle keep-alive connection; no write timeout, which
	// would cut long downloads (docs/SERVING.md §3.5).
	readHeaderTimeout = 10 * time.Second
	clientIdleTimeout = 120 * time.Second
)

// serveConfig is what the serve flags say.
type serveConfig struct {
	listen, data, domain   string
	s3Endpoint             string
	credentials            string
	configTTL              time.Duration
	drain                  time.Duration
	tlsCert, tlsKey        string
	metrics                string
	originFlags            // originflags.go
	buckets, acls          listFlag
	cors                   listFlag // cors.go
	grace, progress        time.Duration
	headWait               time.Duration
	headNoFetch            bool
	smallObject            bytesFlag
	errors                 string
	logFormat              string
	accessLog              string
	maxAge                 maxAges
	fsync                  dirstore.Fsync
	maxSize                bytesFlag
	readHeader, idleClient time.Duration
}

func serveFlags(fs *flag.FlagSet) func(*env) int {
	c := &serveConfig{}
	c.originFlags.register(fs)
	fs.StringVar(&c.listen, "listen", defaultListen, "`address` to serve on (127.0.0.1:0 picks a free port)")
	fs.StringVar(&c.data, "data", "", "the store: a `directory` (made if missing), or s3://BUCKET[/PREFIX] (endpoint from -s3-endpoint or AWS_ENDPOINT_URL, credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&c.s3Endpoint, "s3-endpoint", "", "the S3-compatible store's `URL` for -data s3://...")
	fs.Var(&c.buckets, "bucket", "`NAME=FILE`: store FILE (format auto-detected) as bucket NAME's configuration at start (repeatable)")
	fs.Var(&c.acls, "acl", "`NAME=private|public-read`: store bucket NAME's read policy at start (repeatable); without one, a bucket whose rules reach a bos:// origin or send an origin credentials is private, any other public-read")
	fs.Var(&c.cors, "cors", "`NAME=FILE`: store FILE (S3's CORSConfiguration XML or BOS's CORS JSON) as bucket NAME's CORS rules at start (repeatable)")
	fs.StringVar(&c.credentials, "credentials", "", `JSON `+"`file`"+` of the keys that may configure buckets: {"AK": "SECRET"} or {"AK": {"secret", "buckets": ["tenant-a-*"]}}; without it the configuration APIs answer 403`)
	fs.DurationVar(&c.configTTL, "config-ttl", bucketconfig.DefaultTTL, "how soon a configuration another gateway put in the shared store is in force here")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `file` (with -tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "the private key `file` of -tls-cert")
	fs.StringVar(&c.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics")
	fs.StringVar(&c.domain, "domain", "", "serve BUCKET.`DOMAIN` virtual-host style too")
	fs.IntVar(&c.fetcher.MaxFetches, "max-fetches", pull.DefaultMaxFetches, "most fetches running at once")
	fs.IntVar(&c.fetcher.MaxBucketFetches, "max-bucket-fetches", 0, "most fetches of one bucket running at once (0: a quarter of -max-fetches, at least 1)")
	fs.StringVar(&c.errors, "errors", "s3", "the dialect of object errors for requests that do not say theirs: s3 (XML), bos, qingstor or json")
	c.smallObject = defaultSmallObject
	fs.Var(&c.smallObject, "small-object", "a miss of at most these decimal `bytes` whose ETag the origin does not give (no Content-MD5) is answered once stored, with its ETag")
	fs.BoolVar(&c.headNoFetch, "head-no-fetch", false, "a HEAD of a missing key never fetches: 404 NoSuchKey (by default it pulls, as a GET would)")
	fs.DurationVar(&c.headWait, "head-wait", objectapi.DefaultHeadWait, "longest a HEAD of a miss whose ETag is not known before its body waits for the commit, to answer with the ETag (0: no wait)")
	fs.DurationVar(&c.progress, "progress-timeout", objectapi.DefaultProgressTimeout, "longest one write to a client may block before the client is dropped")
	fs.Var(&c.maxAge, "max-age", "`NAME=DURATION`: revalidate bucket NAME's stored objects older than DURATION with their origin (conditional GET) before serving them; NAME * for every bucket (repeatable; default: never, as the providers)")
	fs.DurationVar(&c.fetcher.NegativeTTL, "negative-ttl", 0, "remember an origin's 404 this long (0: not at all)")
	fs.DurationVar(&c.grace, "grace", defaultGrace, "on SIGINT or SIGTERM, how long running fetches may take to finish")
	fs.DurationVar(&c.drain, "drain", 0, "on SIGINT or SIGTERM, how long to go on serving while /-/ready says 503, so that load balancers stop sending first (a second signal ends it)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log lines as json or text")
	fs.StringVar(&c.accessLog, "access-log", "-", "one line per request: - (standard error, with the other lines), off, or a `file` to append to (reopened on SIGHUP)")
	fs.Var(&c.maxSize, "max-size", "cap a directory store's object files at these decimal `bytes`, evicting the least recently used objects past it, as nginx's max_size (default: no cap; an S3 store is capped by its own lifecycle rules)")
	fs.Var(&c.fsync, "fsync", "`mode` of a directory store's commits: commit (the default: an object is synced before it is acknowledged, concurrent commits sharing their directory syncs) or none (nothing synced, as nginx's proxy_store: a power cut may lose acknowledged objects; one left damaged is fetched again, never served)")
	c.readHeader, c.idleClient = readHeaderTimeout, clientIdleTimeout
	return func(e *env) int { return serve(e, c) }
}

// gatewayStore is what a gateway keeps its state in: objects and the
// buckets' configurations.
type gatewayStore interface {
	pull.Store
	bucketconfig.Store
}

// openStore opens -data: a directory, or an S3-compatible store.
func openStore(ctx context.Context, c *serveConfig) (gatewayStore, func(), error) {
	if strings.HasPrefix(c.data, "s3://") {
		st, err := s3store.FromEnv(c.data, c.s3Endpoint)
		if err != nil {
			return nil, nil, err
		}
		if err := st.EnsureBucket(ctx); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.data, err)
		}
		// Spools a killed gateway left behind; those in use are held.
		go func() { _, _ = st.SweepSpool() }()
		return st, func() {}, nil
	}
	if strings.Contains(c.data, "://") {
		return nil, nil, fmt.Errorf("-data %q: want a directory or s3://BUCKET[/PREFIX]", c.data)
	}
	st, err := dirstore.OpenWith(c.data, dirstore.Options{Fsync: c.fsync, MaxSize: int64(c.maxSize)})
	if err != nil {
		return nil, nil, err
	}
	return st, func() { st.Close() }, nil
}

func serve(e *env, c *serveConfig) int {
	if len(e.args) > 0 {
		e.errorf("unexpected argument %q", e.args[0])
		return 2
	}
	if c.data == "" {
		e.errorf("-data is required: the directory objects are stored in")
		return 2
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		e.errorf("-tls-cert and -tls-key go together")
		return 2
	}
	for name, d := range map[string]time.Duration{"config-ttl": c.configTTL, "dial-timeout": c.fetcher.DialTimeout, "header-timeout": c.fetcher.HeaderTimeout,
		"idle-timeout": c.fetcher.IdleTimeout, "fetch-timeout": c.fetcher.FetchTimeout, "grace": c.grace, "progress-timeout": c.progress} {
		if d <= 0 {
			e.errorf("-%s must be positive", name)
			return 2
		}
	}
	if c.drain < 0 {
		e.errorf("-drain must not be negative")
		return 2
	}
	if c.headWait < 0 {
		e.errorf("-head-wait must not be negative")
		return 2
	}
	if c.fetcher.NegativeTTL < 0 || c.fetcher.MaxFetches <= 0 || c.fetcher.MaxBucketFetches < 0 || c.fetcher.MinRate <= 0 {
		e.errorf("-negative-ttl and -max-bucket-fetches must not be negative, and -max-fetches and -min-rate must be positive")
		return 2
	}
	if c.maxSize != 0 && strings.Contains(c.data, "://") {
		e.errorf("-max-size is for a directory -data: cap an S3 store with its own lifecycle rules (docs/SERVING.md §2.3)")
		return 2
	}
	if c.fsync != dirstore.FsyncCommit && strings.Contains(c.data, "://") {
		e.errorf("-fsync %v is for a directory -data: an S3 store's durability is its server's", c.fsync)
		return 2
	}
	switch c.errors {
	case "s3", "bos", "qingstor", "json":
	default:
		e.errorf("-errors %q is not s3, bos, qingstor or json", c.errors)
		return 2
	}
	var newHandler func(io.Writer) slog.Handler
	switch c.logFormat {
	case "json":
		newHandler = func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }
	case "text":
		newHandler = func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }
	default:
		e.errorf("-log-format %q is not json or text", c.logFormat)
		return 2
	}
	handler := newHandler(e.stderr)
	logger := slog.New(handler)
	accessLogger, accessFile, err := accessLogger(c.accessLog, e.stderr, newHandler)
	if err != nil {
		e.errorf("%v", err)
		return 2
	}
	if accessFile != nil {
		defer accessFile.Close()
	}

	resolve, err := c.resolveMap()
	if err != nil {
		e.errorf("%v", err)
		return 2
	}
	buckets, err := parseBucketFlags(c.buckets)
	if err != nil {
		e.errorf("%v", err)
		return 2
	}
	fl := &files{buckets: buckets, credentials: c.credentials, bosFile: c.bosCredentials, s3File: c.s3Credentials, cert: c.tlsCert, certKey: c.tlsKey}
	if c.credentials != "" {
		fl.creds = &access.Credentials{}
	}
	if err := fl.loadSecrets(); err != nil {
		e.errorf("%v", err)
		return 2
	}
	store, closeStore, err := openStore(context.Background(), c)
	if err != nil {
		e.errorf("-data: %v", err)
		return 2
	}
	defer closeStore()
	registry := &bucketconfig.Registry{Store: store, Compiler: mirror.Compiler{AllowPrivateOrigins: c.allowPrivate},
		TTL: c.configTTL, Logger: logger}
	f := c.wire(store, resolve, fl)
	f.Logger = logger
	objects := &objectapi.Handler{Fetcher: f, Registry: registry, Credentials: fl.creds, Domain: c.domain,
		Logger: logger, ProgressTimeout: c.progress, NoHeadFetch: c.headNoFetch, Errors: c.errors,
		SmallObject: int64(c.smallObject), HeadWait: c.headWait}
	if len(c.maxAge) > 0 {
		objects.MaxAge = c.maxAge.of
	}
	if c.headWait == 0 {
		objects.HeadWait = -1 // the Handler's zero is its default
	}
	configs := &configapi.Handler{Registry: registry, Credentials: fl.creds, Domain: c.domain, Logger: logger}
	m := newMetrics(f)
	m.wire(f, objects, registry)
	m.wireStore(store, c.maxSize > 0) // evict.go
	// The ready line comes first on standard error (docs/SERVING.md §5):
	// the configurations -bucket stores are logged after it.
	registry.Logger = slog.New(slog.DiscardHandler)
	fl.registry = registry
	startBuckets, err := fl.readBuckets(true)
	if err == nil {
		// Logged after the ready line, below.
		err = fl.putBuckets(context.Background(), startBuckets)
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			e.errorf("%s", line)
		}
		return 2
	}
	if code := loadPolicies(e, registry, c.acls); code != 0 {
		return code
	}
	if code := loadCORS(e, registry, c.cors); code != 0 {
		return code
	}
	registry.Logger = logger
	probe := &probes{router: httpapi.Router{Domain: c.domain}}
	if p, ok := store.(pinger); ok {
		probe.store = p
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probe.serve(w, r) {
			return
		}
		if configapi.IsConfigRequest(r) {
			rec := requestlog.FromContext(r.Context())
			rec.SetObject(httpapi.Router{Domain: c.domain}.Route(r))
			rec.SetOutcome("config")
			configs.ServeHTTP(w, r)
			return
		}
		objects.ServeHTTP(w, r)
	})
	if accessLogger != nil {
		h = &requestlog.Handler{Next: h, Logger: accessLogger}
	}
	var metricsLn net.Listener
	if c.metrics != "" {
		if metricsLn, err = net.Listen("tcp", c.metrics); err != nil {
			e.errorf("-metrics: %v", err)
			return 2
		}
		// The metrics listener is as exposed as any other: a client that
		// trickles its request is cut as on the main one.
		msrv := &http.Server{Handler: m.handler(probe), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readHeaderTimeout,
			WriteTimeout: readHeaderTimeout, IdleTimeout: clientIdleTimeout, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(handler, slog.LevelWarn)}
		go func() { _ = msrv.Serve(metricsLn) }()
		defer metricsLn.Close()
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		e.errorf("%v", err)
		return 2
	}
	// Small answers leave in one write (httpapi.Hold).
	ln = httpapi.HoldingListener(ln)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: c.readHeader, IdleTimeout: c.idleClient, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(handler, slog.LevelWarn), ConnContext: httpapi.HoldingConnContext}
	if c.tlsCert != "" {
		// The certificate in force, which SIGHUP may replace.
		srv.TLSConfig = &tls.Config{GetCertificate: fl.certificate}
	}
	// Signals are ours before anyone can know we are ready.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	// The ready line comes before any other line that holds a URL.
	fmt.Fprintf(e.stderr, "listening on %s://%s\n", scheme, ln.Addr())
	build := thisBuild()
	logger.Info("build", "version", build.version, "revision", build.revision, "modified", build.modified, "go", build.goVersion)
	for _, b := range startBuckets {
		if bf := fl.buckets[b.i]; b.doc != nil {
			logger.Info("configuration", "bucket", bf.name, "file", bf.file, "op", "put")
		} else {
			logger.Info("configuration", "bucket", bf.name, "op", "delete")
		}
	}
	if metricsLn != nil {
		logger.Info("metrics", "url", "http://"+metricsLn.Addr().String()+"/metrics")
	}
	served := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	for running := true; running; {
		select {
		case err := <-served:
			e.errorf("%v", err)
			return 1
		case <-hup:
			if accessFile != nil {
				if err := accessFile.reopen(); err != nil {
					logger.Error("reopening the access log", "error", err.Error())
				}
			}
			fl.reload(ctx, logger)
		case <-ctx.Done():
			running = false
		}
	}
	probe.stopping.Store(true)
	if c.drain > 0 {
		// Not ready, still serving: the load balancers that probe
		// /-/ready stop sending before the listener closes.
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM) // a second signal ends the drain
		stop()
		logger.Info("draining", "drain", c.drain)
		select {
		case <-time.After(c.drain):
		case <-again:
		}
		signal.Stop(again)
	}
	logger.Info("shutting down", "grace", c.grace)
	shutdown, cancel := context.WithTimeout(context.Background(), c.grace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("shutdown", "error", err)
	}
	if err := f.Shutdown(shutdown); err != nil {
		logger.Warn("fetches cut at the end of the grace period", "error", err)
	}
	return 0
}

// parseResolve reads curl's HOST:PORT:ADDR; ADDR may be an IPv6 address,
// in brackets or not, and so may HOST, in brackets.
func parseResolve(v string) (hostport, addr string, ok bool) {
	host, rest := "", v
	if strings.HasPrefix(v, "[") {
		end := strings.Index(v, "]:")
		if end < 0 {
			return "", "", false
		}
		host, rest = v[:end+1], v[end+2:]
	} else {
		var found bool
		if host, rest, found = strings.Cut(v, ":"); !found {
			return "", "", false
		}
	}
	port, addr, found := strings.Cut(rest, ":")
	if !found || host == "" {
		return "", "", false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port {
		return "", "", false
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"))
	if err != nil || ip.Zone() != "" {
		return "", "", false
	}
	return net.JoinHostPort(strings.ToLower(strings.Trim(host, "[]")), port), ip.String(), true
}

// loadPolicies stores each -acl NAME=POLICY as NAME's read policy.
func loadPolicies(e *env, registry *bucketconfig.Registry, acls []string) int {
	for _, a := range acls {
		name, value, ok := strings.Cut(a, "=")
		p, err := bucketconfig.ParsePolicy(value)
		if !ok || !mirror.ValidBucket(name) || err != nil {
			e.errorf("-acl %q: want NAME=private or NAME=public-read with a valid bucket name", a)
			return 2
		}
		if err := registry.SetPolicy(context.Background(), name, p); err != nil {
			e.errorf("-acl %q: %v", a, err)
			return 2
		}
	}
	return 0
}
