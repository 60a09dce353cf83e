package reminder_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
)

// countingStats records what the handler reported.
type countingStats struct{ fired, skipped atomic.Int64 }

func (c *countingStats) ReminderScheduled() {}
func (c *countingStats) ReminderFired()     { c.fired.Add(1) }
func (c *countingStats) ReminderSkipped()   { c.skipped.Add(1) }

// counts is fired, skipped.
func (c *countingStats) counts() []int64 { return []int64{c.fired.Load(), c.skipped.Load()} }

// startCountingWorker runs a worker (default retry delays) until the test
// ends and returns what its handler reports.
func startCountingWorker(tb testing.TB, f *fixture) *countingStats {
	tb.Helper()
	stats := &countingStats{}
	runWorker(tb, f, stats)
	return stats
}

// taskState returns the state of the task id, 0 if there is none.
func (f *fixture) taskState(tb testing.TB, id string) (*asynq.TaskInfo, asynq.TaskState) {
	tb.Helper()
	info, err := f.inspector.GetTaskInfo(queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	return info, info.State
}

// lateCommit is the real scheduler, but its Schedule returns only after the
// worker has run the immediate reminder once: the confirm commits after that
// run, which a fast worker could do by chance.
type lateCommit struct {
	*reminder.Scheduler
	tb    testing.TB
	f     *fixture
	first *asynq.TaskInfo // the task after its first run
}

func (l *lateCommit) Schedule(ctx context.Context, r *app.Reservation) error {
	if err := l.Scheduler.Schedule(ctx, r); err != nil {
		return err
	}
	eventually(l.tb, "the worker ran the reminder once", func() bool {
		info, state := l.f.taskState(l.tb, reminder.Key(r.ID, "now"))
		l.first = info
		return state == asynq.TaskStateRetry || state == asynq.TaskStateCompleted || state == asynq.TaskStateArchived
	})
	return nil
}

// TestReminderBeforeConfirmCommits: the worker runs the immediate reminder
// between its enqueue and the confirm's commit. The task finds the
// reservation pending and comes back within about a second, and then both
// parties get the reminder exactly once.
func TestReminderBeforeConfirmCommits(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, true)
	stats := startCountingWorker(t, f)
	late := &lateCommit{Scheduler: f.sched, tb: t, f: f}
	svc := reservation.New(f.env.Store, f.env.Publisher, reservation.Options{Reminders: late})
	r := f.book(t, time.Now().Add(30*time.Minute).Truncate(time.Second))
	if _, err := svc.ConfirmReservation(context.Background(), r.ID, landlord); err != nil {
		t.Fatal(err)
	}
	if late.first.State != asynq.TaskStateRetry || !strings.Contains(late.first.LastErr, reminder.ErrNotConfirmedYet.Error()) {
		t.Fatalf("after the run before the commit: state %v, last error %q; want retry, %q",
			late.first.State, late.first.LastErr, reminder.ErrNotConfirmedYet)
	}
	if wait := time.Until(late.first.NextProcessAt); wait > 2*time.Second {
		t.Errorf("retry due in %v, want within 2s", wait)
	}
	id := reminder.Key(r.ID, "now")
	eventually(t, "task completed", func() bool { _, s := f.taskState(t, id); return s == asynq.TaskStateCompleted })
	got := []int{reminders(f.env.Messages(t, tenant)), reminders(f.env.Messages(t, landlord))}
	if diff := cmp.Diff([]int{1, 1}, got); diff != "" {
		t.Errorf("reminders tenant, landlord (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1, 0}, stats.counts()); diff != "" {
		t.Errorf("fired, skipped (-want +got):\n%s", diff)
	}
}

// TestConfirmReplacesArchivedReminder: a confirm scheduled the reminder and
// did not commit; the task's retries ran out while the reservation was
// pending and it was archived. The next confirm enqueues it afresh and both
// parties are reminded once; scheduling once more leaves the completed task
// alone.
func TestConfirmReplacesArchivedReminder(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, true) // MaxRetry 3
	stats := startCountingWorker(t, f)
	ctx := context.Background()
	r := f.book(t, time.Now().Add(30*time.Minute).Truncate(time.Second))
	if err := f.sched.Schedule(ctx, r); err != nil { // the confirm that did not commit
		t.Fatal(err)
	}
	id := reminder.Key(r.ID, "now")
	start := time.Now()
	eventually(t, "archived after 3 retries", func() bool { _, s := f.taskState(t, id); return s == asynq.TaskStateArchived })
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("3 retries for a pending reservation took %v, want short delays", took)
	}
	if info, _ := f.taskState(t, id); info.Retried != 3 || !strings.Contains(info.LastErr, reminder.ErrNotConfirmedYet.Error()) {
		t.Errorf("archived after %d retries with %q", info.Retried, info.LastErr)
	}

	confirmed, err := f.svc.ConfirmReservation(ctx, r.ID, landlord)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "task completed", func() bool { _, s := f.taskState(t, id); return s == asynq.TaskStateCompleted })
	if err := f.sched.Schedule(ctx, confirmed); err != nil { // another node, a retry
		t.Fatal(err)
	}
	if _, s := f.taskState(t, id); s != asynq.TaskStateCompleted {
		t.Errorf("a second Schedule turned the completed task into %v", s)
	}
	got := []int{reminders(f.env.Messages(t, tenant)), reminders(f.env.Messages(t, landlord))}
	if diff := cmp.Diff([]int{1, 1}, got); diff != "" {
		t.Errorf("reminders tenant, landlord (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1, 0}, stats.counts()); diff != "" {
		t.Errorf("fired, skipped (-want +got):\n%s", diff)
	}
}

// TestCancelledReservationReminderIsSkipped: a reminder task that outlived
// the cancel of its reservation (it was running, or another node enqueued it
// late) completes without reminding anyone.
func TestCancelledReservationReminderIsSkipped(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, false)
	stats := startCountingWorker(t, f)
	ctx := context.Background()
	r := f.confirmed(t, time.Now().Add(3*time.Hour).Truncate(time.Second))
	if _, err := f.svc.CancelReservation(ctx, r.ID, tenant, ""); err != nil {
		t.Fatal(err)
	}
	tk, err := reminder.NewTask(r, time.Hour, time.Now(), reminder.TaskOptions{Queue: queue, MaxRetry: 3, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(f.env.Redis).Enqueue(tk); err != nil {
		t.Fatal(err)
	}
	eventually(t, "task completed", func() bool {
		_, s := f.taskState(t, reminder.Key(r.ID, "1h0m0s"))
		return s == asynq.TaskStateCompleted
	})
	got := []int{reminders(f.env.Messages(t, tenant)), reminders(f.env.Messages(t, landlord))}
	if diff := cmp.Diff([]int{0, 0}, got); diff != "" {
		t.Errorf("reminders tenant, landlord (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 1}, stats.counts()); diff != "" {
		t.Errorf("fired, skipped (-want +got):\n%s", diff)
	}
}

// TestHandlerOutcomes: what one run of the handler does per reservation
// state.
func TestHandlerOutcomes(t *testing.T) {
	f := newFixture(t, nil, false)
	ctx := context.Background()
	at := func(h int) time.Time { return time.Now().Add(time.Duration(h) * time.Hour).Truncate(time.Second) }
	pending := f.book(t, at(2))
	confirmed := f.confirmed(t, at(3))
	rejected := f.book(t, at(4))
	if _, err := f.svc.RejectReservation(ctx, rejected.ID, landlord, ""); err != nil {
		t.Fatal(err)
	}
	cancelled := f.confirmed(t, at(5))
	if _, err := f.svc.CancelReservation(ctx, cancelled.ID, landlord, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		r          *app.Reservation
		notYet     bool
		wantCounts []int64 // fired, skipped
	}{
		{"pending", pending, true, []int64{0, 0}},
		{"confirmed", confirmed, false, []int64{1, 0}},
		{"rejected", rejected, false, []int64{0, 1}},
		{"cancelled", cancelled, false, []int64{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats := &countingStats{}
			err := reminder.NewHandler(f.svc, stats, nil).ProcessTask(ctx, task(t, tt.r, time.Hour))
			switch {
			case tt.notYet && (!errors.Is(err, reminder.ErrNotConfirmedYet) || errors.Is(err, asynq.SkipRetry)):
				t.Errorf("ProcessTask = %v, want ErrNotConfirmedYet to retry", err)
			case !tt.notYet && err != nil:
				t.Errorf("ProcessTask = %v, want nil", err)
			}
			if diff := cmp.Diff(tt.wantCounts, stats.counts()); diff != "" {
				t.Errorf("fired, skipped (-want +got):\n%s", diff)
			}
		})
	}
}
