package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// fixedConfig is the fixed scenario: users connected, pushes at one rate
// for a while.
type fixedConfig struct {
	nodes, users, procs, batch, concurrency, total int
	rate                                           float64
	duration, deliverTimeout                       time.Duration
}

func (c *fixedConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes")
	fs.IntVar(&c.users, "users", 10000, "connected users, one WebSocket each; pushes go to them round-robin")
	fs.IntVar(&c.procs, "procs", 2, "client processes the users are spread over")
	fs.IntVar(&c.batch, "batch", 1, "users per push request (the rate counts messages)")
	fs.IntVar(&c.concurrency, "concurrency", 128, "push requests in flight at most")
	fs.Float64Var(&c.rate, "rate", 5000, "messages per second")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long to push")
	fs.IntVar(&c.total, "total", 0, "messages to push (when set, instead of -duration)")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", time.Minute, "after the last push, wait this long for the accepted messages")
}

func (c *fixedConfig) check() error {
	switch {
	case c.nodes <= 0:
		return errors.New("-nodes must be positive")
	case c.batch <= 0 || c.batch > 1000 || c.batch > c.users:
		return errors.New("-batch must be between 1 and min(1000, -users)")
	case c.concurrency <= 0 || c.rate <= 0 || c.total < 0 || c.deliverTimeout <= 0:
		return errors.New("-concurrency, -rate and -deliver-timeout must be positive")
	case c.total == 0 && c.duration <= 0:
		return errors.New("-duration or -total must be positive")
	}
	return checkSpread("-users", c.users, c.procs)
}

// messages is how many messages the run pushes.
func (c *fixedConfig) messages() int {
	if c.total > 0 {
		return c.total
	}
	return max(int(math.Round(c.rate*c.duration.Seconds())), 1)
}

// fixedReport is the outcome of a fixed-rate run.
type fixedReport struct {
	Nodes        int            `json:"nodes"`
	Users        int            `json:"users"`
	Batch        int            `json:"batch"`
	TargetRate   float64        `json:"target_rate"`
	ConnectMS    int64          `json:"connect_ms"`
	Push         pushReport     `json:"push"`
	Delivery     deliveryReport `json:"delivery"`
	DeliveredMS  int64          `json:"delivered_ms"` // from the first push until the clients had every accepted message
	NodeCPU      []float64      `json:"node_cpu_s"`   // from the first push until delivered, per node
	RedisCPU     float64        `json:"redis_cpu_s"`
	NodeCPUUS    float64        `json:"node_cpu_us_per_msg"` // all nodes, per distinct delivered message
	RedisCPUUS   float64        `json:"redis_cpu_us_per_msg"`
	PusherCPU    float64        `json:"pusher_cpu_s"`
	ClientCPU    float64        `json:"client_cpu_s"`
	NodeWarnings []int          `json:"node_log_warnings"`
}

func (r *fixedReport) failures() []string {
	f := r.Delivery.failures()
	if r.Push.FailedReqs > 0 {
		f = append(f, fmt.Sprintf("%d push requests failed", r.Push.FailedReqs))
	}
	return f
}

func (c *fixedConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "fixed: %d node(s), %d users in %d client processes, %d messages at %.0f msg/s (batch %d)\n",
		c.nodes, c.users, c.procs, c.messages(), c.rate, c.batch)
	nodes, err := o.startNodes(ctx, c.nodes)
	if err != nil {
		return nil, err
	}
	cps, took, err := o.startClients(ctx, nodes, c.users, c.procs, 0, clientOpts{status: 100 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.out, "  %d users connected in %.2fs\n", c.users, took.Seconds())
	step := fixedStep(c.rate, c.messages())
	p := newPusher(pushPlan{nodes: urlsOf(nodes), apiKey: o.apiKey, users: c.users, batch: c.batch, concurrency: c.concurrency,
		step: func(k int) (stepPlan, bool) { return step, k == 0 }})
	meter := loadMeter{nodes: pidsOf(nodes), rdb: o.rdb, cps: cps}
	cores := &coresMeter{m: meter}
	s0, self0, clients0 := meter.sample(), cpuSeconds(os.Getpid()), sumCPU(cps.pids())
	go p.run(ctx)
	<-p.started
	if err := c.follow(ctx, o, p, cps, cores); err != nil {
		return nil, err
	}
	push := p.report()
	deliveredAt, all := cps.waitReceived(ctx, int64(push.Accepted), c.deliverTimeout)
	if !all {
		fmt.Fprintf(o.out, "  delivery wait ended after %s with %d of %d messages\n", c.deliverTimeout, cps.received(), push.Accepted)
	}
	s1 := meter.sample()
	if !sleepCtx(ctx, time.Second) { // late duplicates would show up here
		return nil, ctx.Err()
	}
	pusherCPU, clientCPU := cpuSeconds(os.Getpid())-self0, sumCPU(cps.pids())-clients0
	sums, err := cps.summaries()
	if err != nil {
		return nil, err
	}
	d := mergeDelivery(p.results, sums)
	rep := &fixedReport{Nodes: c.nodes, Users: c.users, Batch: c.batch, TargetRate: c.rate, ConnectMS: took.Milliseconds(),
		Push: push, Delivery: d, DeliveredMS: deliveredAt.Sub(p.start).Milliseconds(), RedisCPU: round2(s1.redis - s0.redis),
		NodeCPUUS: cpuShare(s1.node()-s0.node(), int64(d.Unique)), RedisCPUUS: cpuShare(s1.redis-s0.redis, int64(d.Unique)),
		PusherCPU: round2(pusherCPU), ClientCPU: round2(clientCPU)}
	for i := range s1.nodes {
		rep.NodeCPU = append(rep.NodeCPU, round2(s1.nodes[i]-s0.nodes[i]))
	}
	rep.NodeWarnings = stopNodes(nodes)
	return rep, nil
}

// follow prints the progress line until the pusher is done.
func (c *fixedConfig) follow(ctx context.Context, o *orch, p *pusher, cps clientProcs, cores *coresMeter) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastAcc, lastAt := 0, time.Now()
	for {
		select {
		case <-ctx.Done():
			p.stop()
			<-p.done
			return ctx.Err()
		case <-p.done:
			return nil
		case <-tick.C:
		}
		o.progress.maybe(func() string {
			acc, now := p.accepted(), time.Now()
			rate := float64(acc-lastAcc) / now.Sub(lastAt).Seconds()
			lastAcc, lastAt = acc, now
			node, redis := cores.read()
			return fmt.Sprintf("target %.0f msg/s, achieved %.0f, p99 so far %.1f ms | connected %d/%d | node %.2f cores, redis %.2f cores",
				c.rate, rate, float64(cps.step(0).Hist.quantile(0.99))/1000, cps.live(), c.users, node, redis)
		})
	}
}

func (r *fixedReport) printTable(w io.Writer) {
	p, d := r.Push, r.Delivery
	l := d.FromSchedule
	rows := [][2]string{
		{"users, nodes, batch", fmt.Sprintf("%d, %d, %d", r.Users, r.Nodes, r.Batch)},
		{"rate: target / achieved", fmt.Sprintf("%.0f / %.1f msg/s over %.2f s", r.TargetRate, p.Rate, float64(p.ElapsedMS)/1000)},
		{"accepted / received (unique)", fmt.Sprintf("%d / %d (%d)", d.Expected, d.Received, d.Unique)},
		{"lost, duplicated", fmt.Sprintf("%d, %d", d.Lost, d.Duplicated)},
		{"unexpected, id mismatches, gaps, out of order", fmt.Sprintf("%d, %d, %d, %d", d.Unexpected, d.IDMismatch, d.Gaps, d.OutOfOrder)},
		{"latency from schedule p50 / p90 / p99", fmt.Sprintf("%.2f / %.2f / %.2f ms", l.P50, l.P90, l.P99)},
		{"latency from schedule p99.9 / max", fmt.Sprintf("%.2f / %.2f ms", l.P999, l.Max)},
		{"latency from send p50 / p99", fmt.Sprintf("%.2f / %.2f ms", d.FromSend.P50, d.FromSend.P99)},
		{"node CPU per delivered message", fmt.Sprintf("%.1f µs (%v s)", r.NodeCPUUS, r.NodeCPU)},
		{"Redis CPU per delivered message", fmt.Sprintf("%.1f µs (%.2f s)", r.RedisCPUUS, r.RedisCPU)},
		{"push requests (failed), worst lag", fmt.Sprintf("%d (%d), %.1f ms", p.Requests, p.FailedReqs, p.MaxLagMS)},
		{"CPU s: pusher, clients", fmt.Sprintf("%.2f, %.2f", r.PusherCPU, r.ClientCPU)},
		{"reconnects, node log warnings", fmt.Sprintf("%d, %v", d.Reconnects, r.NodeWarnings)},
	}
	printRows(w, "fixed", rows)
	for _, e := range p.ErrorSamples {
		fmt.Fprintf(w, "  push error: %s\n", e)
	}
	if len(d.LostSamples) > 0 {
		fmt.Fprintf(w, "  lost e.g. %v\n", d.LostSamples)
	}
}
