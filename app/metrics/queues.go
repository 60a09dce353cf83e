package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

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
