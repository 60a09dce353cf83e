package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

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
