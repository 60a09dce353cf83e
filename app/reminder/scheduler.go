package reminder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
)

// Options configure a Scheduler.
type Options struct {
	Leads           []time.Duration // e.g. 24h, 1h
	ImmediateIfLate bool            // a viewing nearer than every lead gets one reminder at once
	Task            TaskOptions
	Now             func() time.Time
	Logger          *slog.Logger
	Metrics         Metrics // nil: none
}

// Metrics counts what reminders do, for the scheduler and the handler. It
// must not block.
type Metrics interface {
	// ReminderScheduled counts a reminder task enqueued (not one that
	// existed already).
	ReminderScheduled()
	// ReminderFired counts a reminder sent.
	ReminderFired()
	// ReminderSkipped counts a reminder of a cancelled or rejected viewing.
	ReminderSkipped()
}

// Scheduler enqueues and deletes the reminder tasks of reservations.
type Scheduler struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	opts      Options
}

// NewScheduler returns a Scheduler on an asynq client and inspector of the
// deployment's Redis DB.
func NewScheduler(client *asynq.Client, inspector *asynq.Inspector, opts Options) *Scheduler {
	opts.Task.Queue = cmp.Or(opts.Task.Queue, DefaultQueue)
	opts.Task.Retention = app.OrDefault(opts.Task.Retention, DefaultRetention)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Scheduler{client: client, inspector: inspector, opts: opts}
}

// plan lists the reminders of r as lead -> time, skipping leads already past.
func (s *Scheduler) plan(r *app.Reservation) map[time.Duration]time.Time {
	now := s.opts.Now()
	out := map[time.Duration]time.Time{}
	for _, lead := range s.opts.Leads {
		if at := r.ReserveTime.Add(-lead); at.After(now) {
			out[lead] = at
		}
	}
	if len(out) == 0 && s.opts.ImmediateIfLate && r.ReserveTime.After(now) {
		out[0] = now
	}
	return out
}

// Schedule enqueues r's reminders. Enqueuing one that exists already (same
// task id) is success: a retry or a second node changes nothing. The one
// exception is an archived task, whose retries ran out while r was still
// pending (a confirm that did not commit): it is replaced, so that this
// confirm gets its reminders. A completed task stays: its reminder was sent
// or skipped.
func (s *Scheduler) Schedule(ctx context.Context, r *app.Reservation) error {
	for lead, at := range s.plan(r) {
		task, err := NewTask(r, lead, at, s.opts.Task)
		if err != nil {
			return err
		}
		id := Key(r.ID, leadName(lead))
		_, err = s.client.EnqueueContext(ctx, task)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			err = s.replaceArchived(ctx, task, id)
		} else if err == nil {
			s.scheduled()
		}
		if err != nil {
			return fmt.Errorf("schedule reminder %s: %w", id, err)
		}
	}
	return nil
}

// replaceArchived enqueues task again if the task of the same id is
// archived, and leaves any other one as it is.
func (s *Scheduler) replaceArchived(ctx context.Context, task *asynq.Task, id string) error {
	info, err := s.inspector.GetTaskInfo(s.opts.Task.Queue, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound):
		return nil // deleted since the conflict: by a cancel, or by another node replacing it
	case err != nil:
		return err
	case info.State != asynq.TaskStateArchived:
		return nil
	}
	if err := s.inspector.DeleteTask(s.opts.Task.Queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return err
	}
	_, err = s.client.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return nil // another node replaced it first
	case err != nil:
		return err
	}
	s.opts.Logger.Info("archived reminder enqueued again", "task_id", id, "last_err", info.LastErr)
	s.scheduled()
	return nil
}

func (s *Scheduler) scheduled() {
	if s.opts.Metrics != nil {
		s.opts.Metrics.ReminderScheduled()
	}
}

// Cancel deletes r's reminder tasks. One that is running cannot be deleted:
// it finds the reservation no longer confirmed and does nothing.
func (s *Scheduler) Cancel(ctx context.Context, r *app.Reservation) error {
	var errs []error
	leads := append([]time.Duration{0}, s.opts.Leads...)
	for _, lead := range leads {
		id := Key(r.ID, leadName(lead))
		err := s.inspector.DeleteTask(s.opts.Task.Queue, id)
		switch {
		case err == nil:
			s.opts.Logger.Debug("reminder deleted", "task_id", id)
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		default:
			errs = append(errs, fmt.Errorf("delete reminder %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
