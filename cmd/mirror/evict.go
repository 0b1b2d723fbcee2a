package main

import "github.com/prometheus/client_golang/prometheus"

// usager is a store that keeps under a size cap (dirstore.Store with
// -max-size, docs/SERVING.md §2.3).
type usager interface {
	Usage() (bytes, evictions int64)
}

// wireStore adds the metrics of a capped store: the bytes it tracks and
// the objects it evicted. A store without a cap adds none.
func (m *metrics) wireStore(store any, capped bool) {
	u, ok := store.(usager)
	if !ok || !capped {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mirror_store_bytes", Help: "Bytes of the directory store's object files, kept under -max-size.",
		}, func() float64 { b, _ := u.Usage(); return float64(b) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mirror_store_evictions_total", Help: "Objects the directory store evicted to stay under -max-size.",
		}, func() float64 { _, n := u.Usage(); return float64(n) }),
	)
}
