package reminder_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"

	"github.com/houseview/gateway/pkg/testenv"
)

const (
	tenant   = 1001
	landlord = 2001
	queue    = "reminders"
)

// fixture is the real service with asynq reminders on the test's MariaDB
// database and Redis DB.
type fixture struct {
	env       *apptest.Env
	svc       *reservation.Service
	sched     *reminder.Scheduler
	inspector *asynq.Inspector
}

func newFixture(tb testing.TB, leads []time.Duration, immediate bool) *fixture {
	tb.Helper()
	env := apptest.MustEnv(tb)
	client := asynq.NewClientFromRedisClient(env.Redis)
	inspector := asynq.NewInspectorFromRedisClient(env.Redis)
	sched := reminder.NewScheduler(client, inspector, reminder.Options{Leads: leads, ImmediateIfLate: immediate,
		Task: reminder.TaskOptions{Queue: queue, MaxRetry: 3}})
	svc := reservation.New(env.Store, env.Publisher, reservation.Options{Reminders: sched})
	return &fixture{env: env, svc: svc, sched: sched, inspector: inspector}
}

// book creates a reservation of house 3001 at `at` (whole seconds).
func (f *fixture) book(tb testing.TB, at time.Time) *app.Reservation {
	tb.Helper()
	r, err := f.svc.CreateReservation(context.Background(), app.CreateReservation{
		HouseID: 3001, TenantID: tenant, TenantName: "张三", ReserveTime: at.In(f.env.Loc).Format(app.TimeLayout)})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func (f *fixture) confirmed(tb testing.TB, at time.Time) *app.Reservation {
	tb.Helper()
	r := f.book(tb, at)
	r, err := f.svc.ConfirmReservation(context.Background(), r.ID, landlord)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// scheduled lists the queue's scheduled tasks as id -> process time.
func (f *fixture) scheduled(tb testing.TB) map[string]time.Time {
	tb.Helper()
	tasks, err := f.inspector.ListScheduledTasks(queue)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		tb.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, t := range tasks {
		out[t.ID] = t.NextProcessAt
	}
	return out
}

func reminders(msgs []app.Notification) int {
	n := 0
	for _, m := range msgs {
		if m.Type == app.MsgReservationReminder {
			n++
		}
	}
	return n
}

func TestConfirmSchedulesOneTaskPerLead(t *testing.T) {
	f := newFixture(t, []time.Duration{24 * time.Hour, time.Hour}, false)
	at := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	r := f.confirmed(t, at)
	near := f.confirmed(t, time.Now().Add(2*time.Hour).Truncate(time.Second)) // 24h lead already past

	got := f.scheduled(t)
	want := map[string]time.Time{
		reminder.Key(r.ID, "24h0m0s"):   at.Add(-24 * time.Hour),
		reminder.Key(r.ID, "1h0m0s"):    at.Add(-time.Hour),
		reminder.Key(near.ID, "1h0m0s"): near.ReserveTime.Add(-time.Hour),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("scheduled tasks (-want +got):\n%s", diff)
	}
	// The payload reads well in the UI.
	info, err := f.inspector.GetTaskInfo(queue, reminder.Key(r.ID, "1h0m0s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"reservation_id":`, `"lead":"1h0m0s"`, `"tenant_id":1001`, `"landlord_id":2001`, `"house_title":"精装修两室一厅"`} {
		if !contains(string(info.Payload), s) {
			t.Errorf("payload %s lacks %s", info.Payload, s)
		}
	}

	// Scheduling again (a retry, another node) adds nothing.
	if err := f.sched.Schedule(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if n := len(f.scheduled(t)); n != 3 {
		t.Errorf("%d tasks after a second Schedule, want 3", n)
	}
}

func TestImmediateReminderOnlyWhenConfigured(t *testing.T) {
	soon := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	off := newFixture(t, []time.Duration{time.Hour}, false)
	off.confirmed(t, soon)
	if got := off.scheduled(t); len(got) != 0 {
		t.Errorf("without immediate reminders: %v", got)
	}
	on := newFixture(t, []time.Duration{time.Hour}, true)
	r := on.confirmed(t, soon)
	pending, err := on.inspector.ListPendingTasks(queue)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ID != reminder.Key(r.ID, "now") {
		t.Errorf("immediate reminder: %+v", pending)
	}
}

func TestCancelAndRejectDeleteTasks(t *testing.T) {
	f := newFixture(t, []time.Duration{24 * time.Hour, time.Hour}, false)
	ctx := context.Background()
	r := f.confirmed(t, time.Now().Add(48*time.Hour).Truncate(time.Second))
	other := f.confirmed(t, time.Now().Add(50*time.Hour).Truncate(time.Second))
	if _, err := f.svc.CancelReservation(ctx, r.ID, tenant, ""); err != nil {
		t.Fatal(err)
	}
	got := f.scheduled(t)
	if len(got) != 2 || got[reminder.Key(other.ID, "1h0m0s")].IsZero() {
		t.Fatalf("after cancel: %v, want only the other reservation's 2 tasks", got)
	}
	// A pending reservation with tasks left by a confirm that lost a race:
	// reject deletes them.
	p := f.book(t, time.Now().Add(40*time.Hour).Truncate(time.Second))
	if err := f.sched.Schedule(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RejectReservation(ctx, p.ID, landlord, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.scheduled(t); len(got) != 2 {
		t.Fatalf("after reject: %v", got)
	}
}

// task builds the reminder task of r at lead, due now.
func task(tb testing.TB, r *app.Reservation, lead time.Duration) *asynq.Task {
	tb.Helper()
	tk, err := reminder.NewTask(r, lead, time.Now(), reminder.TaskOptions{Queue: queue})
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

func TestHandlerSkipsReservationNoLongerConfirmed(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, false)
	ctx := context.Background()
	r := f.confirmed(t, time.Now().Add(3*time.Hour).Truncate(time.Second))
	if _, err := f.svc.CancelReservation(ctx, r.ID, landlord, ""); err != nil {
		t.Fatal(err)
	}
	h := reminder.NewHandler(f.svc, nil, nil)
	if err := h.ProcessTask(ctx, task(t, r, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := reminders(f.env.Messages(t, tenant)) + reminders(f.env.Messages(t, landlord)); n != 0 {
		t.Fatalf("%d reminders for a cancelled viewing", n)
	}
	// Unknown reservation and bad payload: archived at once, not retried.
	gone := *r
	gone.ID = 999999
	for _, tk := range []*asynq.Task{task(t, &gone, time.Hour), asynq.NewTask(reminder.TypeViewingReminder, []byte("{"))} {
		if err := h.ProcessTask(ctx, tk); !errorsIsSkipRetry(err) {
			t.Errorf("ProcessTask = %v, want SkipRetry", err)
		}
	}
}

// TestRetryAfterPartialFailureRemindsOnce: the first attempt stores the
// reminders but cannot publish (this node's Redis is unreachable); the retry
// on a healthy node delivers each party's reminder exactly once, and so does
// a third attempt and the outbox relay.
func TestRetryAfterPartialFailureRemindsOnce(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, false)
	ctx := context.Background()
	r := f.confirmed(t, time.Now().Add(3*time.Hour).Truncate(time.Second))
	tk := task(t, r, time.Hour)

	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer dead.Close()
	broken := reservation.New(f.env.Store, redis.NewPublisher(redis.New(dead, f.env.Keys), redis.PublisherOptions{}), reservation.Options{})
	if err := reminder.NewHandler(broken, nil, nil).ProcessTask(ctx, tk); err != nil {
		t.Fatalf("first attempt: %v", err)
	}
	healthy := reminder.NewHandler(f.svc, nil, nil)
	for range 2 {
		if err := healthy.ProcessTask(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	relay := &reservation.Relay{Store: f.env.Store, Publisher: f.env.Publisher, Grace: time.Nanosecond}
	if _, err := relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := []int{reminders(f.env.Messages(t, tenant)), reminders(f.env.Messages(t, landlord))}; !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("reminders tenant/landlord = %v, want 1 each", got)
	}
}

// TestTwoWorkersRemindOnce runs two nodes' asynq workers on one queue and
// schedules every reminder from two nodes' schedulers: each party gets each
// reminder exactly once.
func TestTwoWorkersRemindOnce(t *testing.T) {
	const n = 10
	f := newFixture(t, []time.Duration{time.Hour}, true) // viewings 30 min away: immediate reminders
	other := reminder.NewScheduler(asynq.NewClientFromRedisClient(f.env.Redis), f.inspector,
		reminder.Options{Leads: []time.Duration{time.Hour}, ImmediateIfLate: true, Task: reminder.TaskOptions{Queue: queue}})
	var ids []int64
	for i := range n {
		user := int64(3000 + i)
		r, err := f.svc.CreateReservation(context.Background(), app.CreateReservation{HouseID: 3001, TenantID: user, TenantName: "租客",
			ReserveTime: time.Now().Add(30 * time.Minute).In(f.env.Loc).Format(app.TimeLayout)})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = f.svc.ConfirmReservation(context.Background(), r.ID, landlord); err != nil {
			t.Fatal(err)
		}
		if err := other.Schedule(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, user)
	}
	for range 2 {
		startWorker(t, f)
	}
	eventually(t, "every reminder delivered", func() bool {
		return reminders(f.env.Messages(t, landlord)) >= n
	})
	for _, user := range ids {
		eventually(t, "tenant reminder", func() bool { return reminders(f.env.Messages(t, user)) >= 1 })
	}
	// Let both workers drain: nothing left pending or active.
	eventually(t, "queue drained", func() bool {
		q, err := f.inspector.GetQueueInfo(queue)
		return err == nil && q.Pending == 0 && q.Active == 0
	})
	if got := reminders(f.env.Messages(t, landlord)); got != n {
		t.Errorf("landlord got %d reminders, want %d", got, n)
	}
	for _, user := range ids {
		if got := reminders(f.env.Messages(t, user)); got != 1 {
			t.Errorf("tenant %d got %d reminders", user, got)
		}
	}
}

// startWorker runs an asynq worker (a node's) until the test ends.
func startWorker(tb testing.TB, f *fixture) {
	tb.Helper()
	runWorker(tb, f, nil)
}

// runWorker runs an asynq worker whose handler reports to stats (may be nil).
func runWorker(tb testing.TB, f *fixture, stats reminder.Metrics) {
	tb.Helper()
	srv, mux := reminder.NewWorker(f.env.Redis, reminder.NewHandler(f.svc, stats, nil), reminder.WorkerOptions{
		Queues: map[string]int{queue: 1}, Concurrency: 4, PollInterval: 100 * time.Millisecond})
	if err := srv.Start(mux); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Shutdown)
}

// eventually polls cond until it holds, for up to 20*time.Second.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testenv.Eventually(tb, 20*time.Second, what, cond)
}

// TestFailingReminderIsArchived: a reminder whose sending keeps failing (the
// database is gone) is retried MaxRetry times with backoff, then archived,
// where the UI shows it.
func TestFailingReminderIsArchived(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, false)
	r := f.confirmed(t, time.Now().Add(3*time.Hour).Truncate(time.Second))
	brokenDB := apptest.MustMySQL(t, f.env.DSN)
	sqlDB, _ := brokenDB.DB()
	sqlDB.Close() // every query now fails
	broken := reservation.New(mysqlStore(brokenDB), f.env.Publisher, reservation.Options{})
	srv, mux := reminder.NewWorker(f.env.Redis, reminder.NewHandler(broken, nil, nil), reminder.WorkerOptions{
		Queues: map[string]int{queue: 1}, PollInterval: 50 * time.Millisecond,
		RetryDelay: func(int) time.Duration { return 100 * time.Millisecond }})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	tk, err := reminder.NewTask(r, 2*time.Hour, time.Now(), reminder.TaskOptions{Queue: queue, MaxRetry: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(f.env.Redis).Enqueue(tk); err != nil {
		t.Fatal(err)
	}
	eventually(t, "archived", func() bool {
		archived, err := f.inspector.ListArchivedTasks(queue)
		return err == nil && len(archived) == 1 && archived[0].Retried == 2 && archived[0].LastErr != ""
	})
}

// TestDeploymentsDoNotShareTasks: two deployments on one Redis with
// different DBs: one's confirm schedules nothing the other can see or run.
func TestDeploymentsDoNotShareTasks(t *testing.T) {
	a := newFixture(t, []time.Duration{time.Hour}, false)
	b := newFixture(t, []time.Duration{time.Hour}, false)
	if a.env.RedisDB == b.env.RedisDB {
		t.Fatal("the fixtures share a Redis DB")
	}
	a.confirmed(t, time.Now().Add(3*time.Hour).Truncate(time.Second))
	if got := a.scheduled(t); len(got) != 1 {
		t.Fatalf("deployment a scheduled %v", got)
	}
	if got := b.scheduled(t); len(got) != 0 {
		t.Fatalf("deployment b sees a's tasks: %v", got)
	}
}
