package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUserStateFollowsEpochs(t *testing.T) {
	st := &userState{id: 7}
	st.log.User = 7
	msg := func(epoch string, seq int64) arrivalOf {
		return arrivalOf{Epoch: epoch, Seq: seq, ID: "m" + epoch, Detail: wireDetail{SchedNS: 1_000_000, SentNS: 2_000_000}}
	}
	var got []arrival
	got = append(got, st.take(msg("A", 4), 5_000_000)) // the first: the epoch starts there
	got = append(got, st.take(msg("A", 4), 5_000_000)) // again
	got = append(got, st.take(msg("A", 6), 5_000_000)) // 5 skipped
	got = append(got, st.take(msg("B", 1), 5_000_000)) // a reset: the new epoch
	got = append(got, st.take(msg("B", 2), 5_000_000)) // next
	if diff := cmp.Diff([]arrival{arrivalNewEpoch, arrivalRepeat, arrivalGap, arrivalNewEpoch, arrivalNext}, got); diff != "" {
		t.Errorf("arrivals (-want +got):\n%s", diff)
	}
	if st.epoch != "B" || st.last != 2 || st.gaps != 1 || st.ooo != 1 {
		t.Errorf("position %s/%d, gaps %d, repeats %d; want B/2, 1, 1", st.epoch, st.last, st.gaps, st.ooo)
	}
	want := userLog{User: 7, Epochs: []string{"A", "B"}, Msgs: []received{
		{0, 4, int64(idHash("mA")), 4000, 3000}, {0, 4, int64(idHash("mA")), 4000, 3000}, {0, 6, int64(idHash("mA")), 4000, 3000},
		{1, 1, int64(idHash("mB")), 4000, 3000}, {1, 2, int64(idHash("mB")), 4000, 3000}}}
	if diff := cmp.Diff(want, st.log); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestSinceNS(t *testing.T) {
	for _, tt := range []struct{ now, then, want int64 }{
		{5_000_000, 1_000_000, 4000},
		{5_000_000, 0, -1},
		{1_000_000, 5_000_000, 0}, // a clock step back reads as 0
	} {
		if got := sinceNS(tt.now, tt.then); got != tt.want {
			t.Errorf("sinceNS(%d, %d) = %d, want %d", tt.now, tt.then, got, tt.want)
		}
	}
}

func TestLiveStepsCountsLateAndRepeats(t *testing.T) {
	s := newLiveSteps(100 * time.Microsecond)
	s.add(2, 50, false)
	s.add(2, 150, false)
	s.add(2, 150, true)
	s.add(3, -1, false)
	got := s.takeChanged()
	want := map[int]*stepLive{
		2: {Received: 2, Repeats: 1, Late: 1, Hist: histogram{bucketOf(50): 1, bucketOf(150): 1}},
		3: {Received: 1, Hist: histogram{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("takeChanged (-want +got):\n%s", diff)
	}
	if again := s.takeChanged(); again != nil {
		t.Errorf("second takeChanged = %v, want nothing new", again)
	}
}
