package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeDelivery(t *testing.T) {
	pushed := []pushResult{{1, "e1", 1, "a"}, {1, "e1", 2, "b"}, {2, "e2", 1, "c"}, {2, "e2", 2, "d"}}
	clients := []clientSummary{
		{Messages: []msgRecord{{1, "e1", 1, "a", 1000, 1000}, {1, "e1", 2, "b", 3000, 4000}, {1, "e1", 2, "b", 9000, 9000}}},
		{Messages: []msgRecord{{2, "e2", 1, "x", 2000, 2000}, {2, "e2", 3, "e", 5000, 5000}}, Gaps: 1, Reconnects: 2},
	}
	got := mergeDelivery(pushed, clients)
	want := deliveryReport{Expected: 4, Received: 5, Unique: 4, Lost: 1, Duplicated: 1, Unexpected: 1,
		IDMismatch: 1, Gaps: 1, Reconnects: 2, Events: map[string]int{}, CloseCodes: map[string]int{},
		LatencyMS:   latencyStats{Count: 3, P50: 2, P90: 3, P99: 3, P999: 3, Max: 3, Mean: 2},
		ScheduleMS:  latencyStats{Count: 3, P50: 2, P90: 4, P99: 4, P999: 4, Max: 4, Mean: 7.0 / 3},
		LostSamples: []string{"user 2 seq 2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeDelivery (-want +got):\n%s", diff)
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name string
		vs   []int64
		qs   []float64
		want []float64
	}{
		{"empty", nil, []float64{0.5}, []float64{0}},
		{"one", []int64{7}, []float64{0.5, 0.99, 1}, []float64{7, 7, 7}},
		{"nearest rank", []int64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, []float64{0.5, 0.9, 0.99, 1}, []float64{5, 9, 10, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, quantiles(tt.vs, tt.qs...)); diff != "" {
				t.Errorf("quantiles (-want +got):\n%s", diff)
			}
		})
	}
}
