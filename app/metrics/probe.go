package metrics

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
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

// Outbox is what WatchOutbox reads (mysql.Store): the creation time of the
// oldest message waiting in the transactional outbox, ok false when none.
type Outbox interface {
	OldestOutboxMessage(ctx context.Context) (created time.Time, ok bool, err error)
}

var outboxAge = prometheus.NewDesc("gateway_outbox_oldest_age_seconds",
	"Age of the oldest notification waiting in the MySQL outbox (0 when empty). Rows live for milliseconds when Redis "+
		"takes them; the relay retries every second, so an age of minutes means publishing to Redis keeps failing.", nil, nil)

// WatchOutbox exports gateway_outbox_oldest_age_seconds, read from o at
// each scrape within timeout (one indexed MIN query). Call it once.
func (m *Metrics) WatchOutbox(o Outbox, timeout time.Duration) {
	m.watch("outbox", timeout, func(ctx context.Context) ([]prometheus.Metric, error) {
		created, ok, err := o.OldestOutboxMessage(ctx)
		if err != nil {
			return nil, err
		}
		age := 0.0
		if ok {
			age = max(0, time.Since(created).Seconds())
		}
		return []prometheus.Metric{prometheus.MustNewConstMetric(outboxAge, prometheus.GaugeValue, age)}, nil
	})
}

// WatchQueues exports asynq's queue metrics, read through insp at each
// scrape within timeout, under the names of asynq's own exporter
// (github.com/hibiken/asynq/x/metrics), which the asynq UI's Metrics page
// queries: asynq_tasks_enqueued_total{queue,state} (tasks in each state
// now: pending, active, scheduled, retry, archived, completed; a gauge
// despite its name), asynq_queue_size, asynq_queue_latency_seconds (age of
// the oldest pending task), asynq_queue_memory_usage_approx_bytes,
// asynq_tasks_processed_total and asynq_tasks_failed_total,
// asynq_queue_paused_total. The queues are the deployment's, so every node
// exports the same values. Call it once.
func (m *Metrics) WatchQueues(insp *asynq.Inspector, timeout time.Duration) {
	c := asynqmetrics.NewQueueMetricsCollector(insp)
	m.watch("asynq", timeout, func(context.Context) ([]prometheus.Metric, error) {
		// The exporter logs its errors and sends nothing: ask first, so
		// that a Redis that does not answer counts as a failure.
		if _, err := insp.Queues(); err != nil {
			return nil, fmt.Errorf("asynq queues: %w", err)
		}
		return collectAll(c), nil
	})
}
