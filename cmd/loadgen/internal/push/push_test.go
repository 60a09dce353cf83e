package push

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
)

func TestPushBodyIsTheAPIsJSON(t *testing.T) {
	type body struct {
		UserIDs  []int64        `json:"user_ids"`
		Title    string         `json:"title"`
		Content  string         `json:"content"`
		Detail   map[string]any `json:"detail"`
		Fallback bool           `json:"webhook"`
	}
	for _, fallback := range []bool{false, true} {
		var got body
		if err := json.Unmarshal(pushBody([]int64{3, 4}, `load "7"`, 11, 12, 2, fallback), &got); err != nil {
			t.Fatal(err)
		}
		want := body{[]int64{3, 4}, `load "7"`, "loadgen message", map[string]any{"sched_ns": 11.0, "sent_ns": 12.0, "step": 2.0}, fallback}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pushBody, fallback %v (-want +got):\n%s", fallback, diff)
		}
	}
}

// fakePushAPI answers POST /api/push like a gateway (one epoch, seqs per
// user) but refuses every request whose index ends in 3.
func fakePushAPI(t *testing.T) (*httptest.Server, func() map[int64][]int) {
	var mu sync.Mutex
	seqs := map[int64]int64{}
	steps := map[int64][]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			UserIDs []int64 `json:"user_ids"`
			Title   string  `json:"title"`
			Detail  struct {
				Step int `json:"step"`
			} `json:"detail"`
		}
		if r.Header.Get("Authorization") != "Bearer 0123456789abcdef" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var index int
		fmt.Sscanf(req.Title, "load %d", &index)
		if index%10 == 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		var out []answer
		for _, u := range req.UserIDs {
			seqs[u]++
			steps[u] = append(steps[u], req.Detail.Step)
			out = append(out, answer{UserID: u, Epoch: "E", Seq: seqs[u], ID: fmt.Sprintf("%d-%d", u, seqs[u])})
		}
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"results": out})
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[int64][]int { mu.Lock(); defer mu.Unlock(); return steps }
}

func TestPusherFollowsTheScheduleStepByStep(t *testing.T) {
	srv, stepsOf := fakePushAPI(t)
	p := New(Plan{Nodes: []string{srv.URL}, APIKey: "0123456789abcdef", Users: 4, Batch: 2, Concurrency: 8,
		Step: func(k int) (Step, bool) { return RampStep(200, 2, 100*time.Millisecond, k), k < 2 }})
	p.Run(context.Background())
	rep := p.Report()
	// Step 0: 20 messages in 10 requests; step 1: 40 in 20; requests 3, 13 and 23 fail.
	type counts struct{ Planned, Accepted, Failed int }
	var got []counts
	for k := range 2 {
		st, _ := p.Step(k)
		got = append(got, counts{st.Plan.Messages, st.Accepted, st.Failed})
	}
	if diff := cmp.Diff([]counts{{20, 18, 2}, {40, 36, 4}}, got); diff != "" {
		t.Errorf("step counts (-want +got):\n%s", diff)
	}
	if rep.Requests != 30 || rep.FailedReqs != 3 || rep.Accepted != 54 || rep.Planned != 60 || len(rep.ErrorSamples) != 3 {
		t.Errorf("report %+v: want 30 requests, 3 failed, 54 of 60 accepted, 3 error samples", rep)
	}
	perUser := map[int64]int{}
	for _, r := range p.Results {
		perUser[r.User]++
		if r.IDHash != clients.IDHash(fmt.Sprintf("%d-%d", r.User, r.Seq)) {
			t.Errorf("result %+v: id hash of another message", r)
		}
	}
	// Messages go round-robin to users 1..4, 15 each; failed request i
	// carried messages 2i and 2i+1 (users 3 and 4 for i = 3, 13, 23).
	if diff := cmp.Diff(map[int64]int{1: 15, 2: 15, 3: 12, 4: 12}, perUser); diff != "" {
		t.Errorf("accepted per user (-want +got):\n%s", diff)
	}
	for u, steps := range stepsOf() {
		for i := 1; i < len(steps); i++ {
			if steps[i] < steps[i-1] {
				t.Errorf("user %d got step %d after step %d", u, steps[i], steps[i-1])
			}
		}
	}
}

func TestPusherStops(t *testing.T) {
	srv, _ := fakePushAPI(t)
	p := New(Plan{Nodes: []string{srv.URL}, APIKey: "0123456789abcdef", Users: 4, Batch: 1, Concurrency: 2,
		Step: func(k int) (Step, bool) { return RampStep(100, 1.5, time.Second, k), true }})
	go p.Run(context.Background())
	<-p.Started
	time.Sleep(150 * time.Millisecond)
	p.Stop()
	select {
	case <-p.Done:
	case <-time.After(5 * time.Second):
		t.Fatal("the pusher did not stop")
	}
	if rep := p.Report(); rep.Planned == 0 || rep.Planned > 30 {
		t.Errorf("planned %d messages before the stop, want a few (100/s for 150ms)", rep.Planned)
	}
}
