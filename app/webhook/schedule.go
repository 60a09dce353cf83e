package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
)

// Enqueuer enqueues asynq tasks (asynq.Client).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// SchedulerOptions configure a Scheduler. Zero values take the defaults,
// except MaxRetry (0: no retry).
type SchedulerOptions struct {
	Types       Types         // the types posted, with their grace; nil: DefaultTypes
	Grace       time.Duration // the grace of types without their own (DefaultGrace)
	Queue       string        // asynq queue (DefaultQueue)
	MaxRetry    int           // retries after the first attempt; then the task is archived
	Retention   time.Duration // finished tasks stay (in the UI, and keeping their id taken) this long (DefaultRetention)
	PostTimeout time.Duration // the Handler's timeout of one post (DefaultTimeout): bounds a run with the delivery check
	Now         func() time.Time
	Logger      *slog.Logger
	Metrics     Metrics // nil: not counted

	// TaskType and TaskID name the tasks (TaskType and TaskID when unset):
	// the device push (app/devicepush) schedules its grace tasks with a
	// Scheduler of its own.
	TaskType string
	TaskID   func(msgID string) string
	// Count, when set, counts each schedule's result (TaskScheduled,
	// TaskDuplicate, TaskFailed) instead of Metrics.WebhookTask.
	Count func(result string)
	// Target names what is scheduled in log lines ("webhook" when unset).
	Target string
}

// runSlack is how much longer than one post a task run may take: the
// delivery check, which waits for the nodes' cursors (redis.DefaultFlushWait).
const runSlack = 30 * time.Second

// scheduleConcurrency bounds the enqueues of one batch in flight at once.
const scheduleConcurrency = 8

// Scheduler enqueues the webhook task of each published message whose type
// opts in: one task per message id (TaskID), however often the message is
// published and on however many nodes, due once its grace has passed.
type Scheduler struct {
	q    Enqueuer
	opts SchedulerOptions
}

// NewScheduler returns a Scheduler enqueueing through q.
func NewScheduler(q Enqueuer, opts SchedulerOptions) *Scheduler {
	if opts.Types == nil {
		opts.Types = DefaultTypes()
	}
	opts.Grace = app.OrDefault(opts.Grace, DefaultGrace)
	opts.Queue = cmp.Or(opts.Queue, DefaultQueue)
	opts.Retention = app.OrDefault(opts.Retention, DefaultRetention)
	opts.PostTimeout = app.OrDefault(opts.PostTimeout, DefaultTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	opts.TaskType = cmp.Or(opts.TaskType, TaskType)
	if opts.TaskID == nil {
		opts.TaskID = TaskID
	}
	opts.Target = cmp.Or(opts.Target, "webhook")
	return &Scheduler{q: q, opts: opts}
}

// Schedule enqueues the webhook task of m, published at pos, if its type
// is posted: due at now + its grace, rounded up to a whole second (asynq
// keeps whole seconds and must not run it early). A task that message id
// has already (scheduled, running, retrying, archived, or finished within
// the retention) is left as it is: nil. A failed enqueue is logged,
// counted and returned as app.EUnavailable.
func (s *Scheduler) Schedule(ctx context.Context, m app.Message, pos app.Position) error {
	grace, ok := s.opts.Types.grace(m, s.opts.Grace)
	if !ok {
		return nil
	}
	b, err := json.Marshal(Task{ID: m.ID, UserID: m.UserID, Type: m.Type(), Epoch: pos.Epoch, Seq: pos.Seq, Body: m.Payload,
		Muted: m.Muted || pos.Muted})
	if err != nil {
		return fmt.Errorf("%s task of %s: %w", s.opts.Target, m.ID, err)
	}
	due := s.opts.Now().Add(grace)
	if t := due.Truncate(time.Second); t.Before(due) {
		due = t.Add(time.Second)
	}
	_, err = s.q.EnqueueContext(ctx, asynq.NewTask(s.opts.TaskType, b), asynq.TaskID(s.opts.TaskID(m.ID)), asynq.Queue(s.opts.Queue),
		asynq.ProcessAt(due), asynq.MaxRetry(s.opts.MaxRetry), asynq.Retention(s.opts.Retention),
		asynq.Timeout(s.opts.PostTimeout+runSlack))
	switch {
	case err == nil:
		s.count(TaskScheduled)
		return nil
	case errors.Is(err, asynq.ErrTaskIDConflict):
		s.count(TaskDuplicate)
		return nil
	}
	s.count(TaskFailed)
	s.opts.Logger.WarnContext(ctx, "scheduling the "+s.opts.Target+" failed", "msg_id", m.ID, "user_id", m.UserID, "err", err)
	return fmt.Errorf("%w: %w", app.Errorf(app.EUnavailable, "%s of message %s not scheduled; retry", s.opts.Target, m.ID), err)
}

// ScheduleAll schedules each of msgs, published at the positions of the
// same index, a few at once, and returns the first error.
func (s *Scheduler) ScheduleAll(ctx context.Context, msgs []app.Message, positions []app.Position) error {
	if len(positions) != len(msgs) {
		return fmt.Errorf("%s: %d positions for %d messages", s.opts.Target, len(positions), len(msgs))
	}
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, scheduleConcurrency)
		errs  = make([]error, len(msgs))
	)
	for i, m := range msgs {
		if _, ok := s.opts.Types.grace(m, s.opts.Grace); !ok {
			continue // most messages of a push that did not ask: no goroutine
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = s.Schedule(ctx, m, positions[i])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Scheduler) count(result string) {
	if s.opts.Count != nil {
		s.opts.Count(result)
	} else if s.opts.Metrics != nil {
		s.opts.Metrics.WebhookTask(result)
	}
}

// Inner publishes messages (redis.Publisher).
type Inner interface {
	Publish(ctx context.Context, m app.Message) (app.Position, error)
	PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error)
}

// OnScheduleError says what a publish does when the webhook task of a
// message it published cannot be enqueued (Redis refused it).
type OnScheduleError int

const (
	// FailPublish returns the error, the message being stored and
	// published: for callers that retry the whole publish until it
	// succeeds (the reservation outbox, hence reminders), a republish of
	// the same id delivering nothing twice and scheduling the task.
	FailPublish OnScheduleError = iota
	// KeepPublish reports the publish as done: for callers whose retry
	// would deliver the message again (pushes without an idempotency key).
	// The Scheduler has logged and counted the failure.
	KeepPublish
)

// Target schedules the offline work of published messages: a Scheduler
// (the webhook's, the device push's), or Targets.
type Target interface {
	// Schedule schedules the work of m, published at pos, if any.
	Schedule(ctx context.Context, m app.Message, pos app.Position) error
	// ScheduleAll schedules the work of msgs, published at the positions
	// of the same index.
	ScheduleAll(ctx context.Context, msgs []app.Message, positions []app.Position) error
}

var _ Target = (*Scheduler)(nil)

// Targets schedule with each of their targets in turn (the webhook, the
// device push): each target is scheduled even when another failed, and
// the first error is returned.
type Targets []Target

var _ Target = Targets(nil)

// Schedule schedules m with every target.
func (ts Targets) Schedule(ctx context.Context, m app.Message, pos app.Position) error {
	var first error
	for _, t := range ts {
		if err := t.Schedule(ctx, m, pos); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ScheduleAll schedules msgs with every target.
func (ts Targets) ScheduleAll(ctx context.Context, msgs []app.Message, positions []app.Position) error {
	var first error
	for _, t := range ts {
		if err := t.ScheduleAll(ctx, msgs, positions); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Publisher publishes through an Inner publisher, then schedules the
// offline work of each message published (a Target: the webhook's
// Scheduler, the device push's, or both as Targets). It implements the
// publishers that reservation.Service, reservation.Relay and push.Service
// declare.
type Publisher struct {
	inner  Inner
	sched  Target
	policy OnScheduleError
}

// NewPublisher returns a Publisher over inner, scheduling with sched.
func NewPublisher(inner Inner, sched Target, policy OnScheduleError) *Publisher {
	return &Publisher{inner: inner, sched: sched, policy: policy}
}

// Publish publishes m, then schedules its offline work.
func (p *Publisher) Publish(ctx context.Context, m app.Message) (app.Position, error) {
	pos, err := p.inner.Publish(ctx, m)
	if err != nil {
		return pos, err
	}
	if err := p.sched.Schedule(ctx, m, pos); err != nil && p.policy == FailPublish {
		return app.Position{}, err
	}
	return pos, nil
}

// PublishBatch publishes msgs, then schedules their offline work. When
// the publish fails nothing is scheduled: the caller's retry (with the
// same ids) does it.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	positions, err := p.inner.PublishBatch(ctx, msgs)
	if err != nil {
		return positions, err
	}
	if err := p.sched.ScheduleAll(ctx, msgs, positions); err != nil && p.policy == FailPublish {
		return nil, err
	}
	return positions, nil
}
