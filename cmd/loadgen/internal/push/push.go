// Package push is the load tool's paced pusher: it sends a schedule of
// messages through POST /api/push and keeps what the gateway accepted.
package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
)

// Step is one step of a push schedule: Messages messages at Rate per
// second, the first request due at Start (from the schedule's start), the
// last before Start+Length.
type Step struct {
	Rate          float64
	Start, Length time.Duration
	Messages      int
}

func (s Step) requests(batch int) int { return (s.Messages + batch - 1) / batch }
func (s Step) size(j, batch int) int  { return min(batch, s.Messages-j*batch) }
func (s Step) due(j, batch int) time.Duration {
	return s.Start + time.Duration(float64(j*batch)/s.Rate*float64(time.Second))
}

// End is when the step's window closes, from the schedule's start.
func (s Step) End() time.Duration { return s.Start + s.Length }

// RampStep is step k of a ramp that starts at start messages per second
// and multiplies the rate by factor every length.
func RampStep(start, factor float64, length time.Duration, k int) Step {
	rate := start * math.Pow(factor, float64(k))
	return Step{Rate: rate, Start: time.Duration(k) * length, Length: length, Messages: max(int(math.Round(rate*length.Seconds())), 1)}
}

// OneStep is the schedule of messages at rate per second.
func OneStep(rate float64, messages int) func(int) (Step, bool) {
	s := Step{Rate: rate, Length: time.Duration(float64(messages) / rate * float64(time.Second)), Messages: messages}
	return func(k int) (Step, bool) { return s, k == 0 }
}

// Plan is what a pusher sends: step k of the schedule (false after the
// last), message m of the whole schedule to user 1+m%Users, Batch users
// per request, at most Concurrency requests in flight, round-robin
// over the nodes. Compact keeps, per user, the last accepted position and
// the count instead of every result (long runs); Body, when set, replaces
// the timed detail of the messages.
type Plan struct {
	Nodes                     []string
	APIKey                    string
	Users, Batch, Concurrency int
	Step                      func(k int) (Step, bool)
	Compact                   bool
	Fallback                  bool // the pushes ask for the offline fallback ("webhook": true)
	Body                      func(ids []int64) []byte
}

// Result is one message the gateway accepted.
type Result struct {
	User   int64
	Epoch  string
	Seq    int64
	IDHash uint32
	Step   int32
}

// PushedTo is what a compact pusher got accepted for one user.
type PushedTo struct {
	Epoch       string
	Last, Count int64
}

// StepPush is what the pusher did in one step.
type StepPush struct {
	Plan                         Step
	dispatched, Accepted, Failed int
	InWindow                     int // messages (of any step) accepted by answers within the step's window
}

// Achieved is the rate accepted within the step's window.
func (s StepPush) Achieved() float64 { return float64(s.InWindow) / s.Plan.Length.Seconds() }

// Pusher sends a schedule through POST /api/push. A request is sent when
// due or, when every worker is busy, as soon as one is free; the detail of
// its messages carries when it was scheduled and sent (unix ns) and its
// step. Failed requests are not retried (a retry would be new messages).
type Pusher struct {
	Start         time.Time
	Started, Done chan struct{}
	Results       []Result            // every accepted message (not compact), once Done
	PerUser       map[int64]*PushedTo // compact plans, once Done
	Stop          func()              // no request is sent after it; those in flight finish

	plan             Plan
	sched            context.Context // ends with the schedule (Stop)
	mu               sync.Mutex
	steps            []*StepPush
	epochs           map[string]string // interned
	reqHist          measure.Histogram // compact plans: request latencies, µs
	reqMicros        []int64
	errSamples       []string
	acceptedN        int
	requests, failed int
	maxLag, lastDone time.Duration
}

// New returns a pusher of plan; Run sends it.
func New(plan Plan) *Pusher {
	p := &Pusher{plan: plan, Started: make(chan struct{}), Done: make(chan struct{}),
		epochs: map[string]string{}, PerUser: map[int64]*PushedTo{}, reqHist: measure.Histogram{}}
	p.sched, p.Stop = context.WithCancel(context.Background())
	return p
}

// job is one request: count messages from message first, of step.
type job struct {
	index, step, first, count int
	due                       time.Time
}

// Run sends the schedule until its end, Stop or ctx; it closes Done when
// every answer is in.
func (p *Pusher) Run(ctx context.Context) {
	defer close(p.Done)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range p.plan.Concurrency {
		wg.Go(func() {
			conns := make([]*wireConn, len(p.plan.Nodes)) // this worker's, one per node
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.close()
					}
				}
			}()
			for j := range jobs {
				p.do(ctx, j, conns)
			}
		})
	}
	defer wg.Wait()
	defer close(jobs)
	p.Start = time.Now()
	close(p.Started)
	index, next := 0, 0
	for k := 0; ; k++ {
		sp, ok := p.plan.Step(k)
		if !ok {
			return
		}
		st := &StepPush{Plan: sp}
		p.mu.Lock()
		p.steps = append(p.steps, st)
		p.mu.Unlock()
		for j := range sp.requests(p.plan.Batch) {
			job := job{index: index, step: k, first: next, count: sp.size(j, p.plan.Batch), due: p.Start.Add(sp.due(j, p.plan.Batch))}
			if !measure.SleepUntil(ctx, p.sched.Done(), job.due) || p.sched.Err() != nil {
				return
			}
			select {
			case jobs <- job:
			case <-p.sched.Done():
				return
			case <-ctx.Done():
				return
			}
			index, next = index+1, next+job.count
			p.mu.Lock()
			st.dispatched += job.count
			p.mu.Unlock()
		}
	}
}

// do sends one request on the worker's connection to its node and
// records the answer.
func (p *Pusher) do(ctx context.Context, j job, conns []*wireConn) {
	ids := make([]int64, j.count)
	for k := range ids {
		ids[k] = int64(1 + (j.first+k)%p.plan.Users)
	}
	sent := time.Now()
	var body []byte
	if p.plan.Body != nil {
		body = p.plan.Body(ids)
	} else {
		body = pushBody(ids, "load "+strconv.Itoa(j.index), j.due.UnixNano(), sent.UnixNano(), j.step, p.plan.Fallback)
	}
	got, err := p.post(ctx, conns, j.index%len(p.plan.Nodes), body, len(ids))
	answered := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	p.maxLag = max(p.maxLag, sent.Sub(j.due))
	if us := answered.Sub(sent).Microseconds(); p.plan.Compact {
		p.reqHist.Add(us)
	} else {
		p.reqMicros = append(p.reqMicros, us)
	}
	at := answered.Sub(p.Start)
	p.lastDone = max(p.lastDone, at)
	st := p.steps[j.step]
	if err != nil {
		p.failed++
		st.Failed += j.count
		if len(p.errSamples) < 5 {
			p.errSamples = append(p.errSamples, err.Error())
		}
		return
	}
	st.Accepted += len(got)
	p.acceptedN += len(got)
	// the step whose window holds the answer
	if w := sort.Search(len(p.steps), func(i int) bool { return p.steps[i].Plan.End() > at }); w < len(p.steps) && p.steps[w].Plan.Start <= at {
		p.steps[w].InWindow += len(got)
	}
	for _, r := range got {
		p.record(r, j.step)
	}
}

// record keeps an accepted message (p.mu held).
func (p *Pusher) record(r answer, step int) {
	e, ok := p.epochs[r.Epoch]
	if !ok {
		e = r.Epoch
		p.epochs[e] = e
	}
	if !p.plan.Compact {
		p.Results = append(p.Results, Result{User: r.UserID, Epoch: e, Seq: r.Seq, IDHash: clients.IDHash(r.ID), Step: int32(step)})
		return
	}
	u := p.PerUser[r.UserID]
	if u == nil {
		u = &PushedTo{}
		p.PerUser[r.UserID] = u
	}
	if e != u.Epoch {
		u.Epoch, u.Last = e, 0 // a new stream: its seqs start again
	}
	u.Last, u.Count = max(u.Last, r.Seq), u.Count+1
}

// Step is a snapshot of step k; false when it has not begun.
func (p *Pusher) Step(k int) (StepPush, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k >= len(p.steps) {
		return StepPush{}, false
	}
	return *p.steps[k], true
}

// StepsStarted is how many steps the schedule has begun.
func (p *Pusher) StepsStarted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.steps)
}

// Accepted is how many messages the gateway accepted so far.
func (p *Pusher) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acceptedN
}

// Report is what a pusher did in all.
type Report struct {
	Planned      int      `json:"planned"`  // messages dispatched
	Accepted     int      `json:"accepted"` // messages the gateway returned a seq for
	Requests     int      `json:"requests"`
	FailedReqs   int      `json:"failed_requests"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Rate         float64  `json:"rate"` // accepted / (last answer - start)
	ElapsedMS    int64    `json:"elapsed_ms"`
	MaxLagMS     float64  `json:"max_lag_ms"` // worst delay of a request behind its schedule
	ReqP50MS     float64  `json:"request_p50_ms"`
	ReqP99MS     float64  `json:"request_p99_ms"`
	ReqMaxMS     float64  `json:"request_max_ms"`
	Batch        int      `json:"batch"`
}

// Report sums up the pusher once it is done.
func (p *Pusher) Report() Report {
	<-p.Done
	r := Report{Accepted: p.acceptedN, Requests: p.requests, FailedReqs: p.failed, ErrorSamples: p.errSamples,
		ElapsedMS: p.lastDone.Milliseconds(), Batch: p.plan.Batch, MaxLagMS: measure.Round2(measure.MS(p.maxLag))}
	for _, st := range p.steps {
		r.Planned += st.dispatched
	}
	if p.lastDone > 0 {
		r.Rate = measure.Round2(float64(r.Accepted) / p.lastDone.Seconds())
	}
	q := measure.Quantiles(p.reqMicros, 0.5, 0.99, 1)
	if p.plan.Compact {
		q = []float64{float64(p.reqHist.Quantile(0.5)), float64(p.reqHist.Quantile(0.99)), float64(p.reqHist.Quantile(1))}
	}
	r.ReqP50MS, r.ReqP99MS, r.ReqMaxMS = q[0]/1000, q[1]/1000, q[2]/1000
	return r
}

// pushBody is the JSON of one push request, written by hand: the pusher
// must not be the slow part.
func pushBody(ids []int64, title string, schedNS, sentNS int64, step int, fallback bool) []byte {
	b := append(make([]byte, 0, 160+len(ids)*8), `{"user_ids":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = strconv.AppendQuote(append(b, `],"title":`...), title)
	b = strconv.AppendInt(append(b, `,"content":"loadgen message","detail":{"sched_ns":`...), schedNS, 10)
	b = strconv.AppendInt(append(b, `,"sent_ns":`...), sentNS, 10)
	b = strconv.AppendInt(append(b, `,"step":`...), int64(step), 10)
	if fallback {
		return append(b, `},"webhook":true}`...)
	}
	return append(b, "}}"...)
}

// answer is one result of POST /api/push.
type answer struct {
	UserID int64  `json:"user_id"`
	Epoch  string `json:"epoch"`
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
}

// post sends a push request for n users to node i on the worker's
// connection to it and returns the results.
func (p *Pusher) post(ctx context.Context, conns []*wireConn, i int, body []byte, n int) ([]answer, error) {
	node := p.plan.Nodes[i]
	if conns[i] == nil {
		c, err := newWireConn(node, "/api/push", p.plan.APIKey, 10*time.Second)
		if err != nil {
			return nil, err
		}
		conns[i] = c
	}
	status, b, err := conns[i].post(ctx, body)
	var reply struct {
		Results []answer `json:"results"`
	}
	switch {
	case err != nil:
		return nil, err
	case status != http.StatusOK:
		return nil, fmt.Errorf("push %s: %d %s", node, status, bytes.TrimSpace(b))
	case json.Unmarshal(b, &reply) != nil || len(reply.Results) != n:
		return nil, fmt.Errorf("push %s: a reply without %d results: %.200s", node, n, b)
	}
	return reply.Results, nil
}

// Send makes one request with a bearer token (and a JSON body unless nil)
// and returns the status and the body of the answer.
func Send(ctx context.Context, client *http.Client, method, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, b, err
}
