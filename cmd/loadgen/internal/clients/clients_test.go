package clients

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/pkg/client"
)

func TestUserStateFollowsEpochs(t *testing.T) {
	st := &userState{id: 7}
	st.log.User = 7
	d := wireDetail{SchedNS: 1_000_000, SentNS: 2_000_000}
	var got []bool
	got = append(got, st.take("A", 4, "mA", d, 5_000_000)) // the first: the epoch starts there
	got = append(got, st.take("A", 4, "mA", d, 5_000_000)) // again
	got = append(got, st.take("A", 6, "mA", d, 5_000_000)) // 5 skipped
	got = append(got, st.take("B", 1, "mB", d, 5_000_000)) // a reset: the new epoch
	got = append(got, st.take("B", 2, "mB", d, 5_000_000)) // next
	if diff := cmp.Diff([]bool{false, true, false, false, false}, got); diff != "" {
		t.Errorf("repeats (-want +got):\n%s", diff)
	}
	if st.epoch != "B" || st.last != 2 || st.gaps != 1 || st.ooo != 1 || st.unique != 4 || st.reps != 1 {
		t.Errorf("position %s/%d, gaps %d, repeats %d, unique %d; want B/2, 1, 1, 4", st.epoch, st.last, st.gaps, st.ooo, st.unique)
	}
	want := UserLog{User: 7, Epochs: []string{"A", "B"}, Msgs: [][5]int64{
		{0, 4, int64(IDHash("mA")), 4000, 3000}, {0, 4, int64(IDHash("mA")), 4000, 3000}, {0, 6, int64(IDHash("mA")), 4000, 3000},
		{1, 1, int64(IDHash("mB")), 4000, 3000}, {1, 2, int64(IDHash("mB")), 4000, 3000}}}
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

func TestClientGroupCountsLateAndRepeatsPerStep(t *testing.T) {
	g := newGroup(Config{LateAfter: 100 * time.Microsecond})
	st := &userState{id: 1}
	now := time.Now().UnixNano()
	for _, m := range []struct {
		seq    int64
		detail string
	}{
		{1, fmt.Sprintf(`{"sched_ns":%d,"step":2}`, now-50_000)},
		{2, fmt.Sprintf(`{"sched_ns":%d,"step":2}`, now-150_000_000)}, // later than 100 µs
		{2, fmt.Sprintf(`{"sched_ns":%d,"step":2}`, now-150_000_000)}, // again
		{3, `{"step":3}`}, // without a time
		{4, `{}`},         // not from the pusher
	} {
		n := client.Notification{Detail: json.RawMessage(m.detail)}
		n.Epoch, n.Seq, n.ID = "A", m.seq, "x"
		g.take(st, n)
	}
	got := g.status("progress")
	if got.Received != 5 || len(got.Steps) != 2 {
		t.Fatalf("status = %+v; want 5 received, steps 2 and 3", got)
	}
	if s := got.Steps[2]; s.Received != 2 || s.Repeats != 1 || s.Late != 1 || len(s.Hist) == 0 {
		t.Errorf("step 2 = %+v; want 2 received, 1 repeat, 1 late", s)
	}
	if s := got.Steps[3]; s.Received != 1 || s.Late != 0 || len(s.Hist) != 0 {
		t.Errorf("step 3 = %+v; want 1 received without a time", s)
	}
	if again := g.status("progress"); again.Steps != nil {
		t.Errorf("second status steps = %v, want nothing new", again.Steps)
	}
}

func TestClientsNeedTheirSettings(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	for _, v := range []string{"", "{", `{"Nodes":["http://x"],"Users":1,"Status":1000000,"Auth":"jwt"}`} {
		if err := Run(t.Context(), env(v), io.Discard); err == nil {
			t.Errorf("clients with %s=%q: no error", Env, v)
		}
	}
}
