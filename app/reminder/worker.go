package reminder

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

// DefaultPollInterval is WorkerOptions.PollInterval when zero.
const DefaultPollInterval = 200 * time.Millisecond

// WorkerOptions configure the asynq worker of a node.
type WorkerOptions struct {
	Queues          map[string]int // queue -> priority
	Concurrency     int
	PollInterval    time.Duration                   // scheduled-task forwarding and idle polling (default 200 ms)
	ShutdownTimeout time.Duration                   // in-flight tasks get this long on shutdown, then are requeued
	RetryDelay      func(attempt int) time.Duration // default: asynq's exponential backoff; not for ErrNotConfirmedYet
	// TaskRetryDelay is the retry delay of the other task types the
	// worker runs (handlers added to its mux), by task type.
	TaskRetryDelay map[string]asynq.RetryDelayFunc
	Logger         *slog.Logger
}

// NewWorker returns an asynq server that runs reminder tasks with h, and
// its mux, to which the node adds the handlers of other task types (their
// retry delays in TaskRetryDelay). The default polling (5 s forwarding of scheduled tasks, 1 s idle sleep) would
// make reminders up to 6 s late; PollInterval bounds the lateness instead.
func NewWorker(rdb goredis.UniversalClient, h *Handler, opts WorkerOptions) (*asynq.Server, *asynq.ServeMux) {
	opts.PollInterval = app.OrDefault(opts.PollInterval, DefaultPollInterval)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	delay := asynq.DefaultRetryDelayFunc
	if opts.RetryDelay != nil {
		delay = func(n int, _ error, _ *asynq.Task) time.Duration { return opts.RetryDelay(n) }
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if f := opts.TaskRetryDelay[t.Type()]; f != nil {
				return f(n, err, t)
			}
			if errors.Is(err, ErrNotConfirmedYet) {
				return notConfirmedRetryDelay(n)
			}
			return delay(n, err, t)
		},
		Queues:                   opts.Queues,
		Concurrency:              opts.Concurrency,
		DelayedTaskCheckInterval: opts.PollInterval,
		TaskCheckInterval:        opts.PollInterval,
		ShutdownTimeout:          opts.ShutdownTimeout,
		Logger:                   slogAdapter{opts.Logger},
		LogLevel:                 asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.Handle(TypeViewingReminder, h)
	return srv, mux
}

// notConfirmedRetryDelay is the wait before retry n (0 first) of a task
// whose reservation was still pending: its confirm is most likely about to
// commit, and a reminder is due at an exact time. 1 s, growing by 0.5 s,
// at most 5 s; asynq rounds the retry time down to a whole second.
func notConfirmedRetryDelay(n int) time.Duration {
	return min(time.Second+time.Duration(n)*500*time.Millisecond, 5*time.Second)
}

// slogAdapter writes asynq's log lines to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
