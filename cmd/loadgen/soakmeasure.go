package main

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// nodeSampler reads what the soak follows of each node: RSS and open
// files from /proc, goroutines from /metrics.
type nodeSampler struct {
	nodes  []*gatewayNode
	apiKey string // /metrics of a jwt node wants the operator's credentials
	client http.Client
}

// sample reads every node, at offset at of the run.
func (s *nodeSampler) sample(at time.Duration, p *pusher, cps clientProcs) soakSample {
	out := soakSample{AtS: round2(at.Seconds()), Sessions: cps.live(), Accepted: p.accepted(), Received: cps.received()}
	for _, n := range s.nodes {
		rss, err := statusKB(n.Pid(), "VmRSS")
		if err != nil {
			rss = -1
		}
		out.RSSKB = append(out.RSSKB, rss)
		out.OpenFiles = append(out.OpenFiles, openFDs(n.Pid()))
		out.Goroutines = append(out.Goroutines, s.goroutines(n.HTTPURL))
	}
	return out
}

// goroutines reads go_goroutines from the node's /metrics, or -1.
func (s *nodeSampler) goroutines(base string) int {
	s.client.Timeout = 5 * time.Second
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	resp, err := s.client.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return -1
			}
			return int(n)
		}
	}
	return -1
}

// growthOf compares the means of the second and the last quarter of the
// samples (each the sum over the nodes): how much each reading grew. Means,
// not medians: a sample that falls just after a churn misses the dropped
// sessions, and samples alternate between the two phases.
func growthOf(samples []soakSample) soakGrowth {
	var g soakGrowth
	n := len(samples)
	if n < 4 {
		return g
	}
	early, late := samples[n/4:n/2], samples[n-n/4:]
	mean := func(ss []soakSample, f func(soakSample) float64) float64 {
		var t float64
		for _, s := range ss {
			t += f(s)
		}
		return math.Round(t / float64(len(ss)))
	}
	rss := func(s soakSample) float64 { return float64(sum64(s.RSSKB)) }
	gor := func(s soakSample) float64 { return float64(sumInts(s.Goroutines)) }
	fds := func(s soakSample) float64 { return float64(sumInts(s.OpenFiles)) }
	g.RSSKB = [2]float64{mean(early, rss), mean(late, rss)}
	g.GoroutineN = [2]float64{mean(early, gor), mean(late, gor)}
	g.OpenFileN = [2]float64{mean(early, fds), mean(late, fds)}
	ratio := func(m [2]float64) float64 {
		if m[0] <= 0 {
			return 0
		}
		return round3(m[1]/m[0] - 1)
	}
	g.RSS, g.Goroutines, g.OpenFiles = ratio(g.RSSKB), ratio(g.GoroutineN), ratio(g.OpenFileN)
	return g
}

func sum64(vs []int64) int64 {
	var t int64
	for _, v := range vs {
		t += v
	}
	return t
}

func sumInts(vs []int) int {
	t := 0
	for _, v := range vs {
		t += v
	}
	return t
}

// soakDelivery is what the clients of a compact run got against what the
// gateway accepted, user by user: the clients keep each user's position
// and counts instead of every message, so a 30-minute run fits in memory.
type soakDelivery struct {
	Expected    int            `json:"expected"`     // messages the gateway accepted
	Received    int64          `json:"received"`     // data messages received, repeats included
	Unique      int64          `json:"unique"`       // above the user's position when they came
	Lost        int64          `json:"lost"`         // accepted for a user, beyond what it got
	Duplicated  int64          `json:"duplicated"`   // at or behind the user's position, or dropped by the client as seen
	Unexpected  int64          `json:"unexpected"`   // got beyond what was accepted for the user
	OffPosition int            `json:"off_position"` // users whose last seq or epoch is not the last accepted
	Gaps        int64          `json:"gaps"`
	Reconnects  int64          `json:"reconnects"`
	DialErrors  int64          `json:"dial_errors"`
	Failed      int64          `json:"failed_users"`
	CloseCodes  map[string]int `json:"close_codes,omitempty"`
	Events      map[string]int `json:"events,omitempty"`
}

// compactDelivery compares the pusher's per-user record with the clients'
// positions.
func compactDelivery(pushed map[int64]*pushedTo, accepted int, sums []clientSummary) soakDelivery {
	d := soakDelivery{Expected: accepted, CloseCodes: map[string]int{}, Events: map[string]int{}}
	got := map[int64]userPosition{}
	for _, s := range sums {
		d.Received += s.Received
		d.Gaps += s.Gaps
		d.Reconnects += s.Reconnects
		d.DialErrors += s.DialErrors
		d.Failed += s.Failed
		for k, v := range s.CloseCodes {
			d.CloseCodes[k] += v
		}
		for k, v := range s.Events {
			d.Events[k] += v
		}
		for _, pos := range s.Positions {
			got[pos.User] = pos
			d.Unique += pos.Unique
			d.Duplicated += pos.Repeats + pos.Dropped // resent by the gateway: a duplicate even if the client kept it back
		}
	}
	for user, pos := range got {
		want := pushed[user]
		if want == nil {
			want = &pushedTo{}
		}
		switch diff := want.Count - pos.Unique; {
		case diff > 0:
			d.Lost += diff
		case diff < 0:
			d.Unexpected -= diff
		}
		if want.Count > 0 && (pos.Epoch != want.Epoch || pos.Last != want.Last) {
			d.OffPosition++
		}
	}
	for user, want := range pushed {
		if _, ok := got[user]; !ok {
			d.Lost += want.Count
			d.OffPosition++
		}
	}
	return d
}

// failures names the delivery checks that did not hold.
func (d soakDelivery) failures() []string {
	var f []string
	for _, c := range []struct {
		n    int64
		what string
	}{{d.Lost, "lost"}, {d.Duplicated, "duplicated"}, {d.Unexpected, "unexpected"}, {int64(d.OffPosition), "users off their last position"},
		{d.Gaps, "gaps"}, {d.Failed, "users gave up reconnecting"}} {
		if c.n > 0 {
			f = append(f, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return f
}
