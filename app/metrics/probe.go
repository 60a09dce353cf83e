package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// probe is a collector that reads a slow source (Redis, MySQL) at scrape
// time within a timeout. A read that fails or overruns adds nothing to the
// scrape and counts in gateway_metrics_source_failures_total{source}; an
// overrunning read is left to finish, and no other starts meanwhile.
type probe struct {
	source   string
	timeout  time.Duration
	read     func(ctx context.Context) ([]prometheus.Metric, error)
	failures prometheus.Counter
	busy     atomic.Bool
}

// Describe implements prometheus.Collector: none, the metrics depend on
// the source (an unchecked collector).
func (p *probe) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (p *probe) Collect(ch chan<- prometheus.Metric) {
	if !p.busy.CompareAndSwap(false, true) {
		p.failures.Inc()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	type result struct {
		ms  []prometheus.Metric
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer p.busy.Store(false)
		ms, err := p.read(ctx)
		done <- result{ms, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			p.failures.Inc()
			return
		}
		for _, m := range r.ms {
			ch <- m
		}
	case <-ctx.Done():
		p.failures.Inc()
	}
}

// watch registers a probe of source.
func (m *Metrics) watch(source string, timeout time.Duration, read func(ctx context.Context) ([]prometheus.Metric, error)) {
	m.reg.MustRegister(&probe{source: source, timeout: timeout, read: read, failures: m.sourceFailures.WithLabelValues(source)})
}

// collectAll runs c's Collect and returns what it sent.
func collectAll(c prometheus.Collector) []prometheus.Metric {
	ch := make(chan prometheus.Metric)
	out := make(chan []prometheus.Metric)
	go func() {
		var ms []prometheus.Metric
		for m := range ch {
			ms = append(ms, m)
		}
		out <- ms
	}()
	c.Collect(ch)
	close(ch)
	return <-out
}
