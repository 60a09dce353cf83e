package push

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRampStep(t *testing.T) {
	tests := []struct {
		k    int
		want Step
	}{
		{0, Step{Rate: 1000, Start: 0, Length: 10 * time.Second, Messages: 10000}},
		{1, Step{Rate: 1200, Start: 10 * time.Second, Length: 10 * time.Second, Messages: 12000}},
		{3, Step{Rate: 1728, Start: 30 * time.Second, Length: 10 * time.Second, Messages: 17280}},
	}
	for _, tt := range tests {
		got := RampStep(1000, 1.2, 10*time.Second, tt.k)
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 })); diff != "" {
			t.Errorf("RampStep(k=%d) (-want +got):\n%s", tt.k, diff)
		}
	}
}

func TestStepPlanRequests(t *testing.T) {
	s := Step{Rate: 1000, Start: time.Second, Length: time.Second, Messages: 120}
	tests := []struct {
		batch, requests, lastSize int
		lastDue                   time.Duration
	}{
		{1, 120, 1, time.Second + 119*time.Millisecond},
		{50, 3, 20, time.Second + 100*time.Millisecond},
	}
	for _, tt := range tests {
		n := s.requests(tt.batch)
		got := []any{n, s.size(n-1, tt.batch), s.due(n-1, tt.batch)}
		if diff := cmp.Diff([]any{tt.requests, tt.lastSize, tt.lastDue}, got); diff != "" {
			t.Errorf("batch %d: requests, last size, last due (-want +got):\n%s", tt.batch, diff)
		}
	}
	if got, ok := OneStep(5000, 100000)(0); !ok || got.Length != 20*time.Second || got.Messages != 100000 {
		t.Errorf("OneStep(5000, 100000) = %+v, want 20s of 100000 messages", got)
	}
	if _, ok := OneStep(5000, 100000)(1); ok {
		t.Errorf("oneStep has a second step")
	}
}
