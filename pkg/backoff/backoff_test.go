package backoff_test

import (
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/backoff"
)

func TestDelay(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{
		{-1, 100 * time.Millisecond}, {0, 100 * time.Millisecond}, {1, 200 * time.Millisecond}, {4, 1600 * time.Millisecond},
		{5, 3 * time.Second}, {40, 3 * time.Second}, {70, 3 * time.Second},
	} {
		if got := backoff.Delay(100*time.Millisecond, 3*time.Second, tt.attempt); got != tt.want {
			t.Errorf("Delay(attempt %d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestSpread(t *testing.T) {
	for range 1000 {
		if d := backoff.Spread(time.Second, 0.1); d < time.Second || d > 1100*time.Millisecond {
			t.Fatalf("Spread(1s, 10%%) = %v", d)
		}
	}
	if d := backoff.Spread(time.Second, 0); d != time.Second {
		t.Errorf("Spread(1s, 0) = %v", d)
	}
}
