package reminder_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
)

// TestMaxRetryIsTakenAsGiven: reminder.max_retry 0 means no retry, not the
// default.
func TestMaxRetryIsTakenAsGiven(t *testing.T) {
	for _, retries := range []int{0, 4} {
		f := newFixture(t, []time.Duration{time.Hour}, false)
		sched := reminder.NewScheduler(asynq.NewClientFromRedisClient(f.env.Redis), f.inspector, reminder.Options{
			Leads: []time.Duration{time.Hour}, Task: reminder.TaskOptions{Queue: queue, MaxRetry: retries}})
		f.svc = reservation.New(f.env.Store, f.env.Publisher, reservation.Options{Reminders: sched})
		r := f.confirmed(t, time.Now().Add(3*time.Hour).Truncate(time.Second))
		info, err := f.inspector.GetTaskInfo(queue, reminder.Key(r.ID, "1h0m0s"))
		if err != nil {
			t.Fatal(err)
		}
		if info.MaxRetry != retries {
			t.Errorf("MaxRetry %d scheduled a task with MaxRetry %d", retries, info.MaxRetry)
		}
	}
}
