package main

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
)

// stepPlan is one step of a push schedule: Messages messages at Rate per
// second, the first request due at Start (from the schedule's start), the
// last before Start+Length.
type stepPlan struct {
	Rate          float64
	Start, Length time.Duration
	Messages      int
}

func (s stepPlan) requests(batch int) int { return (s.Messages + batch - 1) / batch }
func (s stepPlan) size(j, batch int) int  { return min(batch, s.Messages-j*batch) }
func (s stepPlan) end() time.Duration     { return s.Start + s.Length }
func (s stepPlan) due(j, batch int) time.Duration {
	return s.Start + time.Duration(float64(j*batch)/s.Rate*float64(time.Second))
}

// rampStep is step k of a ramp that starts at start messages per second
// and multiplies the rate by factor every length.
func rampStep(start, factor float64, length time.Duration, k int) stepPlan {
	rate := start * math.Pow(factor, float64(k))
	return stepPlan{Rate: rate, Start: time.Duration(k) * length, Length: length, Messages: max(int(math.Round(rate*length.Seconds())), 1)}
}

// oneStep is the schedule of messages at rate per second.
func oneStep(rate float64, messages int) func(int) (stepPlan, bool) {
	s := stepPlan{Rate: rate, Length: time.Duration(float64(messages) / rate * float64(time.Second)), Messages: messages}
	return func(k int) (stepPlan, bool) { return s, k == 0 }
}

// pushPlan is what a pusher sends: step k of the schedule (false after the
// last), message m of the whole schedule to user offset+1+m%users, batch
// users per request, at most concurrency requests in flight, round-robin
// over the nodes. compact keeps, per user, the last accepted position and
// the count instead of every result (long runs); body, when set, replaces
// the timed detail of the messages.
type pushPlan struct {
	nodes                             []string
	apiKey                            string
	users, offset, batch, concurrency int
	step                              func(k int) (stepPlan, bool)
	compact                           bool
	body                              func(ids []int64) []byte
}

// pushResult is one message the gateway accepted.
type pushResult struct {
	User   int64
	Epoch  string
	Seq    int64
	IDHash uint32
	Step   int32
}

// pushedTo is what a compact pusher got accepted for one user.
type pushedTo struct {
	Epoch       string
	Last, Count int64
}

// stepPush is what the pusher did in one step.
type stepPush struct {
	plan                         stepPlan
	dispatched, accepted, failed int
	inWindow                     int // messages (of any step) accepted by answers within the step's window
}

// pusher sends a schedule through POST /api/push. A request is sent when
// due or, when every worker is busy, as soon as one is free; the detail of
// its messages carries when it was scheduled and sent (unix ns) and its
// step. Failed requests are not retried (a retry would be new messages).
type pusher struct {
	plan             pushPlan
	client           *http.Client
	start            time.Time
	started, done    chan struct{}
	sched            context.Context // ends with the schedule (stop)
	stop             func()          // no request is sent after it; those in flight finish
	mu               sync.Mutex
	steps            []*stepPush
	results          []pushResult
	perUser          map[int64]*pushedTo
	epochs           map[string]string // interned
	reqHist          histogram         // compact plans: request latencies, µs
	reqMicros        []int64
	errSamples       []string
	acceptedN        int
	requests, failed int
	maxLag, lastDone time.Duration
}

func newPusher(plan pushPlan) *pusher {
	p := &pusher{plan: plan, started: make(chan struct{}), done: make(chan struct{}),
		epochs: map[string]string{}, perUser: map[int64]*pushedTo{}, reqHist: histogram{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: plan.concurrency * 2, MaxIdleConnsPerHost: plan.concurrency, IdleConnTimeout: time.Minute}}}
	p.sched, p.stop = context.WithCancel(context.Background())
	return p
}

// pushJob is one request: count messages from message first, of step.
type pushJob struct {
	index, step, first, count int
	due                       time.Time
}

// run sends the schedule until its end, stop or ctx; it closes done when
// every answer is in.
func (p *pusher) run(ctx context.Context) {
	defer p.client.CloseIdleConnections()
	defer close(p.done)
	jobs := make(chan pushJob)
	var wg sync.WaitGroup
	for range p.plan.concurrency {
		wg.Go(func() {
			for j := range jobs {
				p.do(ctx, j)
			}
		})
	}
	defer wg.Wait()
	defer close(jobs)
	p.start = time.Now()
	close(p.started)
	index, next := 0, 0
	for k := 0; ; k++ {
		sp, ok := p.plan.step(k)
		if !ok {
			return
		}
		st := &stepPush{plan: sp}
		p.mu.Lock()
		p.steps = append(p.steps, st)
		p.mu.Unlock()
		for j := range sp.requests(p.plan.batch) {
			job := pushJob{index: index, step: k, first: next, count: sp.size(j, p.plan.batch), due: p.start.Add(sp.due(j, p.plan.batch))}
			if !sleepUntil(ctx, p.sched.Done(), job.due) || p.sched.Err() != nil {
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

// sleepUntil waits until t; false means stop or ctx came first.
func sleepUntil(ctx context.Context, stop <-chan struct{}, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}

// do sends one request and records the answer.
func (p *pusher) do(ctx context.Context, j pushJob) {
	ids := make([]int64, j.count)
	for k := range ids {
		ids[k] = int64(p.plan.offset + 1 + (j.first+k)%p.plan.users)
	}
	sent := time.Now()
	var body []byte
	if p.plan.body != nil {
		body = p.plan.body(ids)
	} else {
		body = pushBody(ids, "load "+strconv.Itoa(j.index), j.due.UnixNano(), sent.UnixNano(), j.step)
	}
	got, err := postPush(ctx, p.client, p.plan.nodes[j.index%len(p.plan.nodes)], p.plan.apiKey, body, len(ids))
	answered := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	p.maxLag = max(p.maxLag, sent.Sub(j.due))
	if us := answered.Sub(sent).Microseconds(); p.plan.compact {
		p.reqHist.add(us)
	} else {
		p.reqMicros = append(p.reqMicros, us)
	}
	at := answered.Sub(p.start)
	p.lastDone = max(p.lastDone, at)
	st := p.steps[j.step]
	if err != nil {
		p.failed++
		st.failed += j.count
		if len(p.errSamples) < 5 {
			p.errSamples = append(p.errSamples, err.Error())
		}
		return
	}
	st.accepted += len(got)
	p.acceptedN += len(got)
	// the step whose window holds the answer
	if w := sort.Search(len(p.steps), func(i int) bool { return p.steps[i].plan.end() > at }); w < len(p.steps) && p.steps[w].plan.Start <= at {
		p.steps[w].inWindow += len(got)
	}
	for _, r := range got {
		p.record(r, j.step)
	}
}

// record keeps an accepted message (p.mu held).
func (p *pusher) record(r pushAnswer, step int) {
	e, ok := p.epochs[r.Epoch]
	if !ok {
		e = r.Epoch
		p.epochs[e] = e
	}
	if !p.plan.compact {
		p.results = append(p.results, pushResult{User: r.UserID, Epoch: e, Seq: r.Seq, IDHash: idHash(r.ID), Step: int32(step)})
		return
	}
	u := p.perUser[r.UserID]
	if u == nil {
		u = &pushedTo{}
		p.perUser[r.UserID] = u
	}
	if e != u.Epoch {
		u.Epoch, u.Last = e, 0 // a new stream: its seqs start again
	}
	u.Last, u.Count = max(u.Last, r.Seq), u.Count+1
}

// stepCounts is a snapshot of step k: its plan, what was accepted and
// failed of it, and the rate accepted within its window.
func (p *pusher) stepCounts(k int) (sp stepPlan, accepted, failed int, achieved float64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k >= len(p.steps) {
		return stepPlan{}, 0, 0, 0, false
	}
	st := p.steps[k]
	return st.plan, st.accepted, st.failed, float64(st.inWindow) / st.plan.Length.Seconds(), true
}

// stepsStarted is how many steps the schedule has begun.
func (p *pusher) stepsStarted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.steps)
}

// accepted is how many messages the gateway accepted so far.
func (p *pusher) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acceptedN
}

// pushReport is what a pusher did in all.
type pushReport struct {
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

// report sums up the pusher once it is done.
func (p *pusher) report() pushReport {
	<-p.done
	r := pushReport{Accepted: p.acceptedN, Requests: p.requests, FailedReqs: p.failed, ErrorSamples: p.errSamples,
		ElapsedMS: p.lastDone.Milliseconds(), Batch: p.plan.batch, MaxLagMS: round2(ms(p.maxLag))}
	for _, st := range p.steps {
		r.Planned += st.dispatched
	}
	if p.lastDone > 0 {
		r.Rate = round2(float64(r.Accepted) / p.lastDone.Seconds())
	}
	q := quantiles(p.reqMicros, 0.5, 0.99, 1)
	if p.plan.compact {
		q = []float64{float64(p.reqHist.quantile(0.5)), float64(p.reqHist.quantile(0.99)), float64(p.reqHist.quantile(1))}
	}
	r.ReqP50MS, r.ReqP99MS, r.ReqMaxMS = q[0]/1000, q[1]/1000, q[2]/1000
	return r
}

// pushBody is the JSON of one push request, written by hand: the pusher
// must not be the slow part.
func pushBody(ids []int64, title string, schedNS, sentNS int64, step int) []byte {
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
	return append(b, "}}"...)
}

// pushAnswer is one result of POST /api/push.
type pushAnswer struct {
	UserID int64  `json:"user_id"`
	Epoch  string `json:"epoch"`
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
}

// postPush sends a push request for n users and returns the results.
func postPush(ctx context.Context, client *http.Client, node, apiKey string, body []byte, n int) ([]pushAnswer, error) {
	status, b, err := send(ctx, client, http.MethodPost, node+"/api/push", apiKey, body)
	var reply struct {
		Results []pushAnswer `json:"results"`
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

// send makes one request with a bearer token (and a JSON body unless nil)
// and returns the status and the body of the answer.
func send(ctx context.Context, client *http.Client, method, url, token string, body []byte) (int, []byte, error) {
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
