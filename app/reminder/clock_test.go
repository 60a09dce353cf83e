package reminder_test

import (
	"context"
	"testing"
	"time"

	"github.com/houseview/gateway/app/reminder"
)

// TestHandlerWaitsForTheReferenceClock: a task handed over before its time
// by the reference clock (Redis's) waits for it; one far too early, or
// without a clock, is sent at once.
func TestHandlerWaitsForTheReferenceClock(t *testing.T) {
	f := newFixture(t, []time.Duration{time.Hour}, false)
	ctx := context.Background()
	redisNow, err := reminder.RedisClock(f.env.Redis)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(redisNow); d < -time.Second || d > time.Second {
		t.Fatalf("Redis TIME is %v off this machine's clock", d)
	}
	// behind is a clock that reads d before this machine's: the task
	// (due now) is early by d there.
	behind := func(d time.Duration) reminder.Clock {
		return func(context.Context) (time.Time, error) { return time.Now().Add(-d), nil }
	}
	const early, far = 400 * time.Millisecond, 8 * time.Second
	tests := []struct {
		name     string
		clock    reminder.Clock
		maxWait  time.Duration
		wantWait time.Duration // at least (0: none, checked as less than far/2)
	}{
		{"early by the clock: waits", behind(early), 0, early},
		{"on time by the clock", behind(0), 0, 0},
		{"earlier than maxWait allows: sent at once", behind(far), time.Second, 0},
		{"the clock fails: sent at once", func(context.Context) (time.Time, error) { return time.Time{}, context.DeadlineExceeded }, far, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.confirmed(t, time.Now().Add(time.Duration(3+i)*time.Hour).Truncate(time.Second))
			h := reminder.NewHandler(f.svc, nil, nil).WithClock(tt.clock, tt.maxWait)
			start := time.Now()
			if err := h.ProcessTask(ctx, task(t, r, time.Hour)); err != nil {
				t.Fatal(err)
			}
			// The bounds are far apart: a busy machine is slower, never faster.
			switch waited := time.Since(start); {
			case tt.wantWait > 0 && waited < tt.wantWait-10*time.Millisecond:
				t.Errorf("sent after %v, want no sooner than %v", waited, tt.wantWait)
			case tt.wantWait == 0 && waited >= far/2:
				t.Errorf("sent after %v, want at once", waited)
			}
			if n := reminders(f.env.Messages(t, tenant)); n != i+1 {
				t.Errorf("tenant has %d reminders, want %d", n, i+1)
			}
		})
	}
}
