package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMergeDelivery(t *testing.T) {
	a, b, c, d := idHash("a"), idHash("b"), idHash("c"), idHash("d")
	pushed := []pushResult{
		{User: 1, Epoch: "e1", Seq: 1, IDHash: a, Step: 0},
		{User: 1, Epoch: "e1", Seq: 2, IDHash: b, Step: 1},
		{User: 2, Epoch: "e2", Seq: 1, IDHash: c, Step: 0},
		{User: 2, Epoch: "e3", Seq: 1, IDHash: d, Step: 1}, // same seq, a new epoch: another message
	}
	clients := []clientSummary{
		{Logs: []userLog{{User: 1, Epochs: []string{"e1"}, Msgs: [][5]int64{
			{0, 1, int64(a), 1000, 500}, {0, 2, int64(b), 3000, 2000}, {0, 2, int64(b), 9000, 9000}}}}},
		{ClientCounts: ClientCounts{Gaps: 1, Reconnects: 2, Events: map[string]int{"reset": 1}}, Logs: []userLog{{User: 2, Epochs: []string{"e2", "e9"}, Msgs: [][5]int64{
			{0, 1, int64(idHash("x")), 2000, -1}, {1, 7, 0, 5000, 5000}}}}},
	}
	got := mergeDelivery(pushed, clients)
	want := deliveryReport{Expected: 4, Received: 5, Unique: 4, Lost: 1, Duplicated: 1, Unexpected: 1,
		IDMismatch: 1, ClientCounts: ClientCounts{Gaps: 1, Reconnects: 2, Events: map[string]int{"reset": 1}, CloseCodes: map[string]int{}},
		FromSchedule: latencyStats{Count: 3, P50: 2, P90: 3, P99: 3, P999: 3, Max: 3, Mean: 2},
		FromSend:     latencyStats{Count: 2, P50: 0.5, P90: 2, P99: 2, P999: 2, Max: 2, Mean: 1.25},
		LostSamples:  []string{"user 2 epoch e3 seq 1"},
		Steps: []stepDelivery{
			{Unique: 2, FromSchedule: latencyStats{Count: 2, P50: 1, P90: 2, P99: 2, P999: 2, Max: 2, Mean: 1.5}},
			{Unique: 1, Lost: 1, Duplicated: 1, FromSchedule: latencyStats{Count: 1, P50: 3, P90: 3, P99: 3, P999: 3, Max: 3, Mean: 3}},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeDelivery (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1 lost", "1 duplicated", "1 unexpected", "1 id mismatches"}, got.failures()); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

func TestMergeDeliveryAllDelivered(t *testing.T) {
	pushed := []pushResult{{User: 5, Epoch: "e", Seq: 1, IDHash: 9}, {User: 5, Epoch: "e", Seq: 2, IDHash: 8}}
	clients := []clientSummary{{Logs: []userLog{{User: 5, Epochs: []string{"e"}, Msgs: [][5]int64{{0, 2, 8, 10, 10}, {0, 1, 9, 20, 20}}}}}}
	got := mergeDelivery(pushed, clients)
	if diff := cmp.Diff(deliveryReport{Expected: 2, Received: 2, Unique: 2}, got,
		cmpopts.IgnoreFields(deliveryReport{}, "ClientCounts", "FromSchedule", "FromSend", "Steps")); diff != "" {
		t.Errorf("mergeDelivery (-want +got):\n%s", diff)
	}
	if f := got.failures(); len(f) != 0 {
		t.Errorf("failures = %v, want none", f)
	}
}
