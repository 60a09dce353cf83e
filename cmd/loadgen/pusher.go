package main

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// pushPlan is what a pusher sends: step k of the schedule (false after the
// last), message m of the whole schedule to user offset+1+m%users, batch
// users per request, at most concurrency requests in flight, round-robin
// over the nodes.
type pushPlan struct {
	nodes       []string
	apiKey      string
	users       int
	offset      int
	batch       int
	concurrency int
	step        func(k int) (stepPlan, bool)
	// compact keeps, per user, the last position and the count of the
	// accepted messages instead of every result (long runs).
	compact bool
}

// pusher sends a schedule through POST /api/push. A request is sent when
// due or, when every worker is busy, as soon as one is free; the detail of
// its messages carries when it was scheduled and when it was sent (unix
// ns) and its step. Failed requests are not retried (a retry would create
// new messages).
type pusher struct {
	plan    pushPlan
	client  *http.Client
	start   time.Time
	started chan struct{}
	done    chan struct{}

	stopOnce sync.Once
	stopCh   chan struct{}
	stopped  atomic.Bool

	mu         sync.Mutex
	steps      []*stepPush
	results    []pushResult
	perUser    map[int64]*pushedTo // compact plans
	acceptedN  int
	reqHist    histogram         // compact plans: request latencies, µs
	epochs     map[string]string // interned epochs
	errSamples []string
	reqMicros  []int64
	requests   int
	failedReqs int
	maxLag     time.Duration
	lastDone   time.Duration // offset of the last answer
}

// stepPush is what the pusher did in one step.
type stepPush struct {
	plan       stepPlan
	dispatched int // messages handed to a worker
	accepted   int // messages of the step the gateway returned a seq for
	failed     int // messages of the step in failed requests
	inWindow   int // messages (of any step) accepted by answers within the step's window
}

func newPusher(plan pushPlan) *pusher {
	return &pusher{plan: plan, started: make(chan struct{}), done: make(chan struct{}), stopCh: make(chan struct{}),
		epochs: map[string]string{}, perUser: map[int64]*pushedTo{}, reqHist: histogram{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: plan.concurrency * 2, MaxIdleConnsPerHost: plan.concurrency, IdleConnTimeout: time.Minute}}}
}

// stop ends the schedule: no request is sent after it; those in flight finish.
func (p *pusher) stop() {
	p.stopOnce.Do(func() { p.stopped.Store(true); close(p.stopCh) })
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
	p.start = time.Now()
	close(p.started)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	index, next := 0, 0
send:
	for k := 0; ; k++ {
		sp, ok := p.plan.step(k)
		if !ok {
			break
		}
		st := &stepPush{plan: sp}
		p.mu.Lock()
		p.steps = append(p.steps, st)
		p.mu.Unlock()
		for j := range sp.requests(p.plan.batch) {
			due := p.start.Add(sp.due(j, p.plan.batch))
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-p.stopCh:
					break send
				case <-ctx.Done():
					break send
				}
			}
			if p.stopped.Load() {
				break send
			}
			job := pushJob{index: index, step: k, first: next, count: sp.size(j, p.plan.batch), due: due}
			select {
			case jobs <- job:
			case <-p.stopCh:
				break send
			case <-ctx.Done():
				break send
			}
			index, next = index+1, next+job.count
			p.mu.Lock()
			st.dispatched += job.count
			p.mu.Unlock()
		}
	}
	close(jobs)
	wg.Wait()
}

// do sends one request and records the answer.
func (p *pusher) do(ctx context.Context, j pushJob) {
	ids := make([]int64, j.count)
	for k := range ids {
		ids[k] = int64(p.plan.offset + 1 + (j.first+k)%p.plan.users)
	}
	node := p.plan.nodes[j.index%len(p.plan.nodes)]
	sent := time.Now()
	body := pushBody(ids, "load "+strconv.Itoa(j.index), j.due.UnixNano(), sent.UnixNano(), j.step)
	got, err := postPush(ctx, p.client, node, p.plan.apiKey, body, len(ids))
	answered := time.Now()

	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	p.maxLag = max(p.maxLag, sent.Sub(j.due))
	if p.plan.compact {
		p.reqHist.add(answered.Sub(sent).Microseconds())
	} else {
		p.reqMicros = append(p.reqMicros, answered.Sub(sent).Microseconds())
	}
	at := answered.Sub(p.start)
	p.lastDone = max(p.lastDone, at)
	st := p.steps[j.step]
	if err != nil {
		p.failedReqs++
		st.failed += j.count
		if len(p.errSamples) < 5 {
			p.errSamples = append(p.errSamples, err.Error())
		}
		return
	}
	st.accepted += len(got)
	p.acceptedN += len(got)
	if w := p.windowAt(at); w >= 0 {
		p.steps[w].inWindow += len(got)
	}
	for _, r := range got {
		e, ok := p.epochs[r.Epoch]
		if !ok {
			e = r.Epoch
			p.epochs[e] = e
		}
		if p.plan.compact {
			p.perUser[r.UserID] = p.perUser[r.UserID].add(e, r.Seq)
			continue
		}
		p.results = append(p.results, pushResult{User: r.UserID, Epoch: e, Seq: r.Seq, IDHash: idHash(r.ID), Step: int32(j.step)})
	}
}

// windowAt is the step whose window holds offset at, or -1 (p.mu held).
func (p *pusher) windowAt(at time.Duration) int {
	i := sort.Search(len(p.steps), func(i int) bool { return p.steps[i].plan.end() > at })
	if i < len(p.steps) && p.steps[i].plan.Start <= at {
		return i
	}
	return -1
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

// accepted is the number of messages accepted so far.
func (p *pusher) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acceptedN
}

// pushedTo is what a compact pusher got accepted for one user: the
// position of the newest message and how many there were.
type pushedTo struct {
	Epoch string
	Last  int64
	Count int64
}

// add records an accepted message at (epoch, seq); nil p starts a record.
func (p *pushedTo) add(epoch string, seq int64) *pushedTo {
	if p == nil {
		p = &pushedTo{}
	}
	if epoch != p.Epoch {
		p.Epoch, p.Last = epoch, 0 // a new stream: its seqs start again
	}
	p.Last = max(p.Last, seq)
	p.Count++
	return p
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
	r := pushReport{Accepted: p.acceptedN, Requests: p.requests, FailedReqs: p.failedReqs,
		ErrorSamples: p.errSamples, ElapsedMS: p.lastDone.Milliseconds(), Batch: p.plan.batch,
		MaxLagMS: round2(ms(p.maxLag))}
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
