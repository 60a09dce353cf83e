package scenario

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
)

// loadRun is a running load of ramp, fixed or soak: nodes, users connected
// in clients processes, a pusher.
type loadRun struct {
	nodes           []*gatewayNode
	cps             clients.Procs
	p               *push.Pusher
	meter           *loadMeter
	took            time.Duration
	s0              loadSample
	self0, clients0 float64 // CPU seconds of the pusher (this process) and the clients at the start
	onDelivered     func()  // called once the accepted messages are in
	lastAccepted    int     // for the progress line
	lastAt          time.Time
}

// startLoad starts the nodes and the clients of c, then the pusher of
// schedule step.
func (o *orch) startLoad(ctx context.Context, c loadConfig, cc clients.Config, step func(int) (push.Step, bool)) (*loadRun, error) {
	nodes, err := o.startNodes(ctx, c.nodes)
	if err != nil {
		return nil, err
	}
	cc.Status = cmp.Or(cc.Status, 100*time.Millisecond) // the progress line and a ramp's judgement read them
	cps, took, err := o.startClients(ctx, nodes, c.users, c.procs, 0, cc)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.out, "  %d users connected in %.2fs\n", c.users, took.Seconds())
	r := &loadRun{nodes: nodes, cps: cps, took: took, meter: &loadMeter{nodes: nodes, o: o, cps: cps},
		p: push.New(push.Plan{Nodes: urlsOf(nodes), APIKey: o.apiKey, Users: c.users, Batch: c.batch, Concurrency: c.concurrency,
			Step: step, Compact: cc.Compact, Fallback: c.fallback})}
	r.s0, r.self0, r.clients0 = r.meter.sample(), measure.CPUSeconds(os.Getpid()), cps.CPU()
	go r.p.Run(ctx)
	<-r.p.Started
	r.lastAt = r.p.Start
	return r, nil
}

// follow calls f every d until done closes or f says stop; then the
// pusher is stopped and done.
func (r *loadRun) follow(ctx context.Context, done <-chan struct{}, d time.Duration, f func() bool) error {
	err := measure.TickUntil(ctx, done, d, f)
	r.p.Stop()
	<-r.p.Done
	return err
}

// line is the progress line: the current step, its target and the rate
// achieved since the last line, its p99 so far, sessions and the cores the
// nodes and Redis used.
func (r *loadRun) line() string {
	k := max(r.p.StepsStarted()-1, 0)
	st, _ := r.p.Step(k)
	acc, now := r.p.Accepted(), time.Now()
	rate := float64(acc-r.lastAccepted) / now.Sub(r.lastAt).Seconds()
	r.lastAccepted, r.lastAt = acc, now
	node, redis := r.meter.cores()
	total := r.cps.Total()
	return fmt.Sprintf("step %d: target %.0f msg/s, achieved %.0f, p99 so far %.1f ms | accepted %d, received %d | live %d, reconnects %d | node %.2f cores, redis %.2f cores",
		k, st.Plan.Rate, rate, r.cps.Step(k).Hist.QuantileMS(0.99), acc, total.Received, total.Live, total.Reconnects, node, redis)
}

// loadEnd is what a load ended with.
type loadEnd struct {
	push                 push.Report
	sums                 []clients.Summary
	deliveredAt          time.Time
	s1                   loadSample // at deliveredAt
	pusherCPU, clientCPU float64
}

// finish waits for the accepted messages, then collects the summaries.
func (r *loadRun) finish(ctx context.Context, o *orch, timeout time.Duration) (e loadEnd, err error) {
	e.push = r.p.Report()
	e.deliveredAt = r.cps.WaitDelivered(ctx, o.out, int64(e.push.Accepted), timeout, "delivery")
	e.s1 = r.meter.sample()
	if r.onDelivered != nil {
		r.onDelivered()
	}
	if !measure.Sleep(ctx, time.Second) { // late duplicates would show up here
		return e, ctx.Err()
	}
	e.pusherCPU, e.clientCPU = measure.Round2(measure.CPUSeconds(os.Getpid())-r.self0), measure.Round2(r.cps.CPU()-r.clients0)
	e.sums, err = r.cps.Summaries()
	return e, err
}

// fixedConfig is the fixed scenario: users connected, pushes at one rate
// for a while.
type fixedConfig struct {
	loadConfig
	total    int
	rate     float64
	duration time.Duration
}

func (c *fixedConfig) register(fs *flag.FlagSet) {
	c.loadConfig.register(fs, 10000)
	fs.Float64Var(&c.rate, "rate", 5000, "messages per second")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long to push")
	fs.IntVar(&c.total, "total", 0, "messages to push (when set, instead of -duration)")
}

func (c *fixedConfig) check() error {
	switch {
	case c.rate <= 0 || c.total < 0:
		return errors.New("-rate must be positive")
	case c.total == 0 && c.duration <= 0:
		return errors.New("-duration or -total must be positive")
	}
	return c.loadConfig.check()
}

// fixedReport is the outcome of a fixed-rate run.
type fixedReport struct {
	Nodes        int             `json:"nodes"`
	Users        int             `json:"users"`
	Batch        int             `json:"batch"`
	TargetRate   float64         `json:"target_rate"`
	ConnectMS    int64           `json:"connect_ms"`
	Push         push.Report     `json:"push"`
	Delivery     delivery.Report `json:"delivery"`
	DeliveredMS  int64           `json:"delivered_ms"` // from the first push until the clients had every accepted message
	NodeCPU      []float64       `json:"node_cpu_s"`   // from the first push until delivered, per node
	RedisCPU     float64         `json:"redis_cpu_s"`
	NodeCPUUS    float64         `json:"node_cpu_us_per_msg"` // all nodes, per distinct delivered message
	RedisCPUUS   float64         `json:"redis_cpu_us_per_msg"`
	PusherCPU    float64         `json:"pusher_cpu_s"`
	ClientCPU    float64         `json:"client_cpu_s"`
	NodeWarnings []int           `json:"node_log_warnings"`
}

func (r *fixedReport) failures() []string {
	return append(r.Delivery.Failures(), delivery.Failures(r.Push.FailedReqs, "push requests failed")...)
}

func (c *fixedConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	messages := c.total
	if messages == 0 {
		messages = max(int(math.Round(c.rate*c.duration.Seconds())), 1)
	}
	fmt.Fprintf(o.out, "fixed: %d node(s), %d users in %d client processes, %d messages at %.0f msg/s (batch %d)\n",
		c.nodes, c.users, c.procs, messages, c.rate, c.batch)
	r, err := o.startLoad(ctx, c.loadConfig, clients.Config{}, push.OneStep(c.rate, messages))
	if err != nil {
		return nil, err
	}
	err = r.follow(ctx, r.p.Done, 100*time.Millisecond, func() bool { o.progress.maybe(r.line); return false })
	if err != nil {
		return nil, err
	}
	e, err := r.finish(ctx, o, c.deliverTimeout)
	if err != nil {
		return nil, err
	}
	d, s0, s1 := delivery.Merge(r.p.Results, e.sums), r.s0, e.s1
	rep := &fixedReport{Nodes: c.nodes, Users: c.users, Batch: c.batch, TargetRate: c.rate, ConnectMS: r.took.Milliseconds(),
		Push: e.push, Delivery: d, DeliveredMS: e.deliveredAt.Sub(r.p.Start).Milliseconds(), RedisCPU: measure.Round2(s1.redis - s0.redis),
		NodeCPUUS: cpuShare(s1.node()-s0.node(), int64(d.Unique)), RedisCPUUS: cpuShare(s1.redis-s0.redis, int64(d.Unique)),
		PusherCPU: e.pusherCPU, ClientCPU: e.clientCPU}
	for i := range s1.nodes {
		rep.NodeCPU = append(rep.NodeCPU, measure.Round2(s1.nodes[i]-s0.nodes[i]))
	}
	rep.NodeWarnings = stopNodes(r.nodes)
	return rep, nil
}

// cpuShare is CPU seconds per message in µs (0 without messages).
func cpuShare(seconds float64, messages int64) float64 {
	if messages <= 0 {
		return 0
	}
	return measure.Round2(seconds * 1e6 / float64(messages))
}
