package delivery

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
)

func TestMergeDelivery(t *testing.T) {
	a, b, c, d := clients.IDHash("a"), clients.IDHash("b"), clients.IDHash("c"), clients.IDHash("d")
	pushed := []push.Result{
		{User: 1, Epoch: "e1", Seq: 1, IDHash: a, Step: 0},
		{User: 1, Epoch: "e1", Seq: 2, IDHash: b, Step: 1},
		{User: 2, Epoch: "e2", Seq: 1, IDHash: c, Step: 0},
		{User: 2, Epoch: "e3", Seq: 1, IDHash: d, Step: 1}, // same seq, a new epoch: another message
	}
	sums := []clients.Summary{
		{Logs: []clients.UserLog{{User: 1, Epochs: []string{"e1"}, Msgs: [][5]int64{
			{0, 1, int64(a), 1000, 500}, {0, 2, int64(b), 3000, 2000}, {0, 2, int64(b), 9000, 9000}}}}},
		{Counts: clients.Counts{Gaps: 1, Reconnects: 2, Events: map[string]int{"reset": 1}}, Logs: []clients.UserLog{{User: 2, Epochs: []string{"e2", "e9"}, Msgs: [][5]int64{
			{0, 1, int64(clients.IDHash("x")), 2000, -1}, {1, 7, 0, 5000, 5000}}}}},
	}
	got := Merge(pushed, sums)
	want := Report{Expected: 4, Received: 5, Unique: 4, Lost: 1, Duplicated: 1, Unexpected: 1,
		IDMismatch: 1, Counts: clients.Counts{Gaps: 1, Reconnects: 2, Events: map[string]int{"reset": 1}, CloseCodes: map[string]int{}},
		FromSchedule: measure.LatencyStats{Count: 3, P50: 2, P90: 3, P99: 3, P999: 3, Max: 3, Mean: 2},
		FromSend:     measure.LatencyStats{Count: 2, P50: 0.5, P90: 2, P99: 2, P999: 2, Max: 2, Mean: 1.25},
		LostSamples:  []string{"user 2 epoch e3 seq 1"},
		Steps: []Step{
			{Unique: 2, FromSchedule: measure.LatencyStats{Count: 2, P50: 1, P90: 2, P99: 2, P999: 2, Max: 2, Mean: 1.5}},
			{Unique: 1, Lost: 1, Duplicated: 1, FromSchedule: measure.LatencyStats{Count: 1, P50: 3, P90: 3, P99: 3, P999: 3, Max: 3, Mean: 3}},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeDelivery (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1 lost", "1 duplicated", "1 unexpected", "1 id mismatches"}, got.Failures()); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

func TestMergeDeliveryAllDelivered(t *testing.T) {
	pushed := []push.Result{{User: 5, Epoch: "e", Seq: 1, IDHash: 9}, {User: 5, Epoch: "e", Seq: 2, IDHash: 8}}
	sums := []clients.Summary{{Logs: []clients.UserLog{{User: 5, Epochs: []string{"e"}, Msgs: [][5]int64{{0, 2, 8, 10, 10}, {0, 1, 9, 20, 20}}}}}}
	got := Merge(pushed, sums)
	if diff := cmp.Diff(Report{Expected: 2, Received: 2, Unique: 2}, got,
		cmpopts.IgnoreFields(Report{}, "Counts", "FromSchedule", "FromSend", "Steps")); diff != "" {
		t.Errorf("mergeDelivery (-want +got):\n%s", diff)
	}
	if f := got.Failures(); len(f) != 0 {
		t.Errorf("failures = %v, want none", f)
	}
}

func TestMergeCompact(t *testing.T) {
	pushed := map[int64]*push.PushedTo{1: {Epoch: "e1", Last: 3, Count: 3}, 2: {Epoch: "e1", Last: 2, Count: 2}, 3: {Epoch: "e1", Last: 1, Count: 1}}
	pos := func(user int64, epoch string, last, unique, repeats, dropped int64) clients.Position {
		return clients.Position{User: user, Epoch: epoch, Last: last, Unique: unique, Repeats: repeats, Dropped: dropped}
	}
	tests := []struct {
		name      string
		positions []clients.Position
		want      Compact
	}{
		{"all there", []clients.Position{pos(1, "e1", 3, 3, 0, 0), pos(2, "e1", 2, 2, 0, 0), pos(3, "e1", 1, 1, 0, 0), pos(4, "e1", 0, 0, 0, 0)},
			Compact{Expected: 6, Unique: 6}},
		{"one short, one repeat", []clients.Position{pos(1, "e1", 2, 2, 1, 0), pos(2, "e1", 2, 2, 0, 0), pos(3, "e1", 1, 1, 0, 0)},
			Compact{Expected: 6, Unique: 5, Duplicated: 1, Lost: 1, OffPosition: 1}},
		{"a resend the client dropped", []clients.Position{pos(1, "e1", 3, 3, 0, 2), pos(2, "e1", 2, 2, 0, 0), pos(3, "e1", 1, 1, 0, 0)},
			Compact{Expected: 6, Unique: 6, Duplicated: 2}},
		{"a user missing, one unexpected", []clients.Position{pos(1, "e1", 3, 3, 0, 0), pos(2, "e1", 3, 3, 0, 0)},
			Compact{Expected: 6, Unique: 6, Lost: 1, Unexpected: 1, OffPosition: 2}},
		{"another epoch", []clients.Position{pos(1, "e2", 3, 3, 0, 0), pos(2, "e1", 2, 2, 0, 0), pos(3, "e1", 1, 1, 0, 0)},
			Compact{Expected: 6, Unique: 6, OffPosition: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeCompact(pushed, 6, []clients.Summary{{Positions: tt.positions}})
			got.CloseCodes, got.Events = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
