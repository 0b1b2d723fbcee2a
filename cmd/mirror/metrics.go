package main

import (
	"net/http"
	"strconv"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/objectapi"
	"github.com/mirrorkit/mirror/pull"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus metrics (docs/SERVING.md §5).
type metrics struct {
	reg      *prometheus.Registry
	fetches  *prometheus.CounterVec
	bytes    prometheus.Counter
	joined   prometheus.Counter
	origin   *prometheus.HistogramVec
	lookups  *prometheus.CounterVec
	changes  *prometheus.CounterVec
	inFlight prometheus.GaugeFunc
}

func newMetrics(f *pull.Fetcher) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.fetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mirror_fetches_total", Help: "Origin fetches by outcome (stored, not_modified, not_found, failed, too_large, cut_short, too_slow, bad_digest, store_error, slow_down, purged, proxied, passed).",
	}, []string{"outcome"})
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mirror_fetch_bytes_total", Help: "Body bytes received from origins.",
	})
	m.joined = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mirror_fetch_joined_total", Help: "Requests that joined a fetch another request started.",
	})
	m.origin = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mirror_origin_request_duration_seconds", Help: "Time to an origin's response headers, by status (0: no response).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"status"})
	m.lookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mirror_store_lookups_total", Help: "Object requests by whether the store held the object.",
	}, []string{"result"})
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mirror_config_changes_total", Help: "Configuration changes made through this gateway, by API and operation.",
	}, []string{"api", "op"})
	m.inFlight = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mirror_fetches_in_flight", Help: "Fetches running now.",
	}, func() float64 { return float64(f.Running()) })
	b := thisBuild()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mirror_build_info", Help: "Always 1; its labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": b.version, "revision": b.revision, "goversion": b.goVersion},
	})
	buildInfo.Set(1)
	m.reg.MustRegister(buildInfo)
	m.reg.MustRegister(healthCollector{f})
	m.reg.MustRegister(m.fetches, m.bytes, m.joined, m.origin, m.lookups, m.changes, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// wire hooks the metrics to the gateway's parts.
func (m *metrics) wire(f *pull.Fetcher, h *objectapi.Handler, r *bucketconfig.Registry) {
	f.Hooks = pull.Hooks{
		Fetch: func(res pull.FetchResult) {
			m.fetches.WithLabelValues(string(res.Outcome)).Inc()
			m.bytes.Add(float64(res.Bytes))
		},
		Origin: func(o pull.OriginResult) {
			m.origin.WithLabelValues(strconv.Itoa(o.Status)).Observe(o.Duration.Seconds())
		},
		Join: m.joined.Inc,
	}
	h.ObserveLookup = func(hit bool) {
		if hit {
			m.lookups.WithLabelValues("hit").Inc()
		} else {
			m.lookups.WithLabelValues("miss").Inc()
		}
	}
	r.ObserveChange = func(_ string, format mirror.Format, op string) { m.changes.WithLabelValues(string(format), op).Inc() }
}

// handler serves the metrics, and the probes when p is not nil.
func (m *metrics) handler(p *probes) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	if p != nil {
		probe := func(w http.ResponseWriter, r *http.Request) { p.serve(w, r) }
		mux.HandleFunc(healthyPath, probe)
		mux.HandleFunc(readyPath, probe)
	}
	return mux
}

// healthCollector reports the origins' breakers and the rules' probes as
// the Fetcher sees them at each scrape (docs/SERVING.md §5): only origins
// that failed have a breaker, so the series come and go with failures.
type healthCollector struct{ f *pull.Fetcher }

var (
	breakerOpenDesc = prometheus.NewDesc("mirror_origin_breaker_open",
		"1 while an origin's circuit breaker skips it for a gateway bucket, 0 while it counts failures.", []string{"bucket", "origin"}, nil)
	breakerFailuresDesc = prometheus.NewDesc("mirror_origin_breaker_failures",
		"Consecutive failures of an origin for a gateway bucket.", []string{"bucket", "origin"}, nil)
	probeUpDesc = prometheus.NewDesc("mirror_origin_probe_up",
		"1 when a rule's probe URL last answered 2xx (or has not answered yet), else 0.", []string{"bucket", "url"}, nil)
)

func (healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerOpenDesc
	ch <- breakerFailuresDesc
	ch <- probeUpDesc
}

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	origins, probes := c.f.Health()
	for _, o := range origins {
		open := 0.0
		if o.Open {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(breakerOpenDesc, prometheus.GaugeValue, open, o.Bucket, o.Origin)
		ch <- prometheus.MustNewConstMetric(breakerFailuresDesc, prometheus.GaugeValue, float64(o.Failures), o.Bucket, o.Origin)
	}
	for _, p := range probes {
		up := 0.0
		if p.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(probeUpDesc, prometheus.GaugeValue, up, p.Bucket, p.URL)
	}
}
