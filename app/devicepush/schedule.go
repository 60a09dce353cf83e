package devicepush

import (
	"cmp"
	"log/slog"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

// SchedulerOptions configure the Scheduler of grace tasks. Zero values
// take the defaults, except MaxRetry (0: no retry).
type SchedulerOptions struct {
	Types     webhook.Types // the types pushed, with their grace; nil: webhook.DefaultTypes
	Grace     time.Duration // the grace of types without their own (DefaultGrace)
	Queue     string        // asynq queue of grace and device tasks (DefaultQueue)
	MaxRetry  int           // retries of a grace task that failed (Redis, MySQL)
	Retention time.Duration // finished tasks stay this long, keeping their id taken (DefaultRetention)
	Logger    *slog.Logger
	Metrics   Metrics // nil: not counted
}

// NewScheduler returns the scheduler of grace tasks: a webhook.Scheduler
// enqueueing TaskType tasks with TaskID through q, one per message id,
// due once the message's grace has passed. A generic push gets one only
// when its sender asked for the offline fallback (app.Message.Webhook) and
// "push" is listed, as for the webhook.
func NewScheduler(q webhook.Enqueuer, opts SchedulerOptions) *webhook.Scheduler {
	var count func(string)
	if opts.Metrics != nil {
		count = opts.Metrics.PushTask
	} else {
		count = func(string) {}
	}
	return webhook.NewScheduler(q, webhook.SchedulerOptions{
		Types: opts.Types, Grace: app.OrDefault(opts.Grace, DefaultGrace), Queue: cmp.Or(opts.Queue, DefaultQueue),
		MaxRetry: opts.MaxRetry, Retention: app.OrDefault(opts.Retention, DefaultRetention), PostTimeout: DefaultTimeout,
		Logger: opts.Logger, TaskType: TaskType, TaskID: TaskID, Count: count, Target: "device push",
	})
}
