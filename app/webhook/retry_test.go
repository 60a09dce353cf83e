package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

func TestRetryDelay(t *testing.T) {
	delay := webhook.RetryDelay(time.Second)
	unavailable := func(after time.Duration) error {
		return &webhook.PostError{Err: app.Errorf(app.EUnavailable, "503"), Status: 503, RetryAfter: after}
	}
	tests := []struct {
		name     string
		n        int
		err      error
		min, max time.Duration
	}{
		{"first retry", 0, unavailable(0), time.Second, 1100 * time.Millisecond},
		{"fourth retry", 3, unavailable(0), 8 * time.Second, 8800 * time.Millisecond},
		{"capped", 20, unavailable(0), webhook.MaxBackoff, webhook.MaxBackoff * 11 / 10},
		{"far beyond", 70, unavailable(0), webhook.MaxBackoff, webhook.MaxBackoff * 11 / 10},
		{"Retry-After longer than the backoff", 0, unavailable(30 * time.Second), 30 * time.Second, 30 * time.Second},
		{"Retry-After shorter than the backoff", 3, unavailable(2 * time.Second), 8 * time.Second, 8800 * time.Millisecond},
		{"Retry-After beyond the cap", 0, unavailable(3 * time.Hour), webhook.MaxBackoff, webhook.MaxBackoff},
		{"another error", 1, app.Errorf(app.EUnavailable, "redis"), 2 * time.Second, 2200 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 20 { // the jitter is random
			if got := delay(tt.n, tt.err, asynq.NewTask(webhook.TaskType, nil)); got < tt.min || got > tt.max {
				t.Errorf("%s: RetryDelay(%d) = %v, want within [%v, %v]", tt.name, tt.n, got, tt.min, tt.max)
				break
			}
		}
	}
}

// TestRetryAfterIsHonoured: the receiver's Retry-After (seconds, or an
// HTTP date) sets when asynq runs the task again.
func TestRetryAfterIsHonoured(t *testing.T) {
	tests := []struct {
		name  string
		value func() string
		min   time.Duration
	}{
		{"seconds", func() string { return "120" }, 110 * time.Second},
		{"an HTTP date", func() string { return time.Now().Add(5 * time.Minute).UTC().Format(http.TimeFormat) }, 4 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigOptions{answers: []int{503}, schedule: webhook.SchedulerOptions{MaxRetry: 3}})
			r.recv.header.Set("Retry-After", tt.value())
			m := notification(t, app.MsgReservationConfirmed, 1001, "预约已确认")
			r.publish(t, m)
			r.waitRetry(t, m.ID)
			info, err := r.insp.GetTaskInfo(queue, webhook.TaskID(m.ID))
			if err != nil {
				t.Fatal(err)
			}
			if wait := info.NextProcessAt.Sub(info.LastFailedAt); info.State != asynq.TaskStateRetry || wait < tt.min {
				t.Errorf("state %v, next run %v after the failure; want retry, at least %v", info.State, wait, tt.min)
			}
		})
	}
}
