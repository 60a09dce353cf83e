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

// soakConfig is the soak scenario: a fixed push rate for a long time while
// a share of the clients drop and resume every interval, sampling the
// nodes' RSS, goroutines and open files.
type soakConfig struct {
	nodes, users, procs, batch, concurrency int
	rate, churnFraction                     float64
	duration, churnEvery, sampleEvery       time.Duration
	deliverTimeout                          time.Duration
	maxRSSGrowth, maxCountGrowth            float64
	chart                                   string
}

func (c *soakConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes")
	fs.IntVar(&c.users, "users", 10000, "connected users, one WebSocket each; pushes go to them round-robin")
	fs.IntVar(&c.procs, "procs", 2, "client processes the users are spread over")
	fs.IntVar(&c.batch, "batch", 1, "users per push request (the rate counts messages)")
	fs.IntVar(&c.concurrency, "concurrency", 128, "push requests in flight at most")
	fs.Float64Var(&c.rate, "rate", 7500, "messages per second (default: half the ~15,000 msg/s a node sustains at 1 user per push, docs/benchmarks.md)")
	fs.DurationVar(&c.duration, "duration", 30*time.Minute, "how long to push (the run's -timeout must exceed it by a few minutes)")
	fs.DurationVar(&c.churnEvery, "churn-every", 10*time.Second, "every this long, -churn-fraction of the clients drop their WebSocket and resume (0: no churn)")
	fs.Float64Var(&c.churnFraction, "churn-fraction", 0.05, "share of the clients dropped by each churn, taken in turn")
	fs.DurationVar(&c.sampleEvery, "sample-every", 10*time.Second, "interval of the samples of each node's RSS, goroutines and open files")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", time.Minute, "after the last push, wait this long for the accepted messages")
	fs.Float64Var(&c.maxRSSGrowth, "max-rss-growth", 0.25, "the run fails when RSS grows more than this share from the second to the last quarter of the run (means)")
	fs.Float64Var(&c.maxCountGrowth, "max-count-growth", 0.10, "the same for goroutines and open files (and by more than 50)")
	fs.StringVar(&c.chart, "chart", "soak.svg", "SVG of the samples (empty: none); loadgen chart draws it again from the JSON line")
}

func (c *soakConfig) check() error {
	switch {
	case c.nodes <= 0:
		return errors.New("-nodes must be positive")
	case c.batch <= 0 || c.batch > 1000 || c.batch > c.users:
		return errors.New("-batch must be between 1 and min(1000, -users)")
	case c.concurrency <= 0 || c.rate <= 0 || c.deliverTimeout <= 0 || c.sampleEvery <= 0:
		return errors.New("-concurrency, -rate, -deliver-timeout and -sample-every must be positive")
	case c.duration < 4*c.sampleEvery:
		return errors.New("-duration must hold at least 4 samples (-sample-every)")
	case c.churnEvery < 0 || c.churnFraction < 0 || c.churnFraction > 1:
		return errors.New("-churn-every must not be negative and -churn-fraction must be in [0, 1]")
	case c.maxRSSGrowth <= 0 || c.maxCountGrowth <= 0:
		return errors.New("-max-rss-growth and -max-count-growth must be positive")
	}
	return checkSpread("-users", c.users, c.procs)
}

// soakSample is one reading of every node, t_s seconds after the first push.
type soakSample struct {
	AtS        float64 `json:"t_s"`
	RSSKB      []int64 `json:"rss_kb"`     // per node
	Goroutines []int   `json:"goroutines"` // per node (go_goroutines of /metrics), -1: unread
	OpenFiles  []int   `json:"open_files"` // per node
	Sessions   int64   `json:"sessions"`   // the clients' open WebSockets
	Accepted   int     `json:"accepted"`   // messages accepted so far
	Received   int64   `json:"received"`   // data messages received so far
}

// soakGrowth is how much each reading grew from the second quarter of the
// push to the last (means of all nodes' sums; the first quarter warms up;
// the sample after the push is left out).
type soakGrowth struct {
	RSS        float64 `json:"rss"`
	Goroutines float64 `json:"goroutines"`
	OpenFiles  float64 `json:"open_files"`
	// The means compared, early then late.
	RSSKB      [2]float64 `json:"rss_kb_means"`
	GoroutineN [2]float64 `json:"goroutine_means"`
	OpenFileN  [2]float64 `json:"open_file_means"`
}

// soakReport is the outcome of a soak run.
type soakReport struct {
	Nodes          int          `json:"nodes"`
	Users          int          `json:"users"`
	Batch          int          `json:"batch"`
	TargetRate     float64      `json:"target_rate"`
	DurationS      float64      `json:"duration_s"`
	ChurnEveryS    float64      `json:"churn_every_s"`
	ChurnFraction  float64      `json:"churn_fraction"`
	Push           pushReport   `json:"push"`
	Delivery       soakDelivery `json:"delivery"`
	Churned        int64        `json:"churned"` // sessions the clients closed
	LatencyP50MS   float64      `json:"latency_p50_ms"`
	LatencyP99MS   float64      `json:"latency_p99_ms"`
	LatencyP999MS  float64      `json:"latency_p99_9_ms"`
	Growth         soakGrowth   `json:"growth"`
	MaxRSSGrowth   float64      `json:"max_rss_growth"`
	MaxCountGrowth float64      `json:"max_count_growth"`
	Samples        []soakSample `json:"samples"`
	NodeWarnings   []int        `json:"node_log_warnings"`
}

func (c *soakConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < c.duration+c.deliverTimeout+30*time.Second {
		return nil, fmt.Errorf("soak: -timeout must exceed -duration + -deliver-timeout by 30s, for start-up (e.g. -timeout %s)",
			(c.duration + c.deliverTimeout + 5*time.Minute).Round(time.Minute))
	}
	messages := max(int(math.Round(c.rate*c.duration.Seconds())), 1)
	fmt.Fprintf(o.out, "soak: %d node(s), %d users in %d client processes, %d messages at %.0f msg/s (batch %d) for %s, churn %.0f%% every %s\n",
		c.nodes, c.users, c.procs, messages, c.rate, c.batch, c.duration, c.churnFraction*100, c.churnEvery)
	nodes, err := o.startNodes(ctx, c.nodes)
	if err != nil {
		return nil, err
	}
	cps, took, err := o.startClients(ctx, nodes, c.users, c.procs, 0, clientOpts{status: time.Second, compact: true,
		churnEvery: c.churnEvery, churnFraction: c.churnFraction})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.out, "  %d users connected in %.2fs\n", c.users, took.Seconds())
	step := fixedStep(c.rate, messages)
	p := newPusher(pushPlan{nodes: urlsOf(nodes), apiKey: o.apiKey, users: c.users, batch: c.batch, concurrency: c.concurrency,
		compact: true, step: func(k int) (stepPlan, bool) { return step, k == 0 }})
	sampler := &nodeSampler{nodes: nodes, apiKey: o.apiKey}
	go p.run(ctx)
	<-p.started
	samples, err := c.follow(ctx, o, p, cps, sampler)
	if err != nil {
		return nil, err
	}
	push := p.report()
	growth := growthOf(samples) // while pushing: the pusher's connections close at its end
	if _, all := cps.waitReceived(ctx, int64(push.Accepted), c.deliverTimeout); !all {
		fmt.Fprintf(o.out, "  delivery wait ended after %s with %d of %d messages\n", c.deliverTimeout, cps.received(), push.Accepted)
	}
	samples = append(samples, sampler.sample(time.Since(p.start), p, cps))
	if !sleepCtx(ctx, time.Second) { // late duplicates would show up here
		return nil, ctx.Err()
	}
	hist := cps.step(0).Hist
	sums, err := cps.summaries()
	if err != nil {
		return nil, err
	}
	rep := &soakReport{Nodes: c.nodes, Users: c.users, Batch: c.batch, TargetRate: c.rate, DurationS: c.duration.Seconds(),
		ChurnEveryS: c.churnEvery.Seconds(), ChurnFraction: c.churnFraction, Push: push,
		Delivery: compactDelivery(p.perUser, push.Accepted, sums), Growth: growth,
		MaxRSSGrowth: c.maxRSSGrowth, MaxCountGrowth: c.maxCountGrowth, Samples: samples,
		LatencyP50MS: float64(hist.quantile(0.5)) / 1000, LatencyP99MS: float64(hist.quantile(0.99)) / 1000,
		LatencyP999MS: float64(hist.quantile(0.999)) / 1000}
	for _, s := range sums {
		rep.Churned += s.Churned
	}
	rep.NodeWarnings = stopNodes(nodes)
	if c.chart != "" {
		if err := os.WriteFile(c.chart, soakSVG(rep), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.out, "  chart: %s\n", c.chart)
	}
	return rep, nil
}

// follow samples the nodes every c.sampleEvery and prints the progress line
// until the pusher is done; it returns the samples.
func (c *soakConfig) follow(ctx context.Context, o *orch, p *pusher, cps clientProcs, s *nodeSampler) ([]soakSample, error) {
	samples := []soakSample{s.sample(0, p, cps)}
	sampleTick := time.NewTicker(c.sampleEvery)
	defer sampleTick.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.stop()
			<-p.done
			return nil, ctx.Err()
		case <-p.done:
			return samples, nil
		case <-sampleTick.C:
			samples = append(samples, s.sample(time.Since(p.start), p, cps))
		case <-tick.C:
		}
		last := samples[len(samples)-1]
		o.progress.maybe(func() string {
			return fmt.Sprintf("%s of %s: accepted %d, received %d | sessions %d, reconnects %d | last sample: RSS %v kB, goroutines %v, open files %v",
				time.Since(p.start).Round(time.Second), c.duration, p.accepted(), cps.received(), cps.live(), cps.reconnects(),
				last.RSSKB, last.Goroutines, last.OpenFiles)
		})
	}
}

func (r *soakReport) failures() []string {
	f := r.Delivery.failures()
	if r.Push.FailedReqs > 0 {
		f = append(f, fmt.Sprintf("%d push requests failed", r.Push.FailedReqs))
	}
	g := r.Growth
	if g.RSS > r.MaxRSSGrowth {
		f = append(f, fmt.Sprintf("RSS grew %.0f%% (limit %.0f%%)", g.RSS*100, r.MaxRSSGrowth*100))
	}
	if g.Goroutines > r.MaxCountGrowth && g.GoroutineN[1]-g.GoroutineN[0] > 50 {
		f = append(f, fmt.Sprintf("goroutines grew %.0f%% (limit %.0f%%)", g.Goroutines*100, r.MaxCountGrowth*100))
	}
	if g.OpenFiles > r.MaxCountGrowth && g.OpenFileN[1]-g.OpenFileN[0] > 50 {
		f = append(f, fmt.Sprintf("open files grew %.0f%% (limit %.0f%%)", g.OpenFiles*100, r.MaxCountGrowth*100))
	}
	return f
}

func (r *soakReport) printTable(w io.Writer) {
	p, d, g := r.Push, r.Delivery, r.Growth
	first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
	rows := [][2]string{
		{"users, nodes, batch", fmt.Sprintf("%d, %d, %d", r.Users, r.Nodes, r.Batch)},
		{"rate: target / achieved", fmt.Sprintf("%.0f / %.1f msg/s over %.0f s", r.TargetRate, p.Rate, float64(p.ElapsedMS)/1000)},
		{"churn", fmt.Sprintf("%.0f%% every %.0f s: %d sessions closed, %d reconnects", r.ChurnFraction*100, r.ChurnEveryS, r.Churned, d.Reconnects)},
		{"accepted / received (unique)", fmt.Sprintf("%d / %d (%d)", d.Expected, d.Received, d.Unique)},
		{"lost, duplicated, unexpected", fmt.Sprintf("%d, %d, %d", d.Lost, d.Duplicated, d.Unexpected)},
		{"users off position, gaps, failed users", fmt.Sprintf("%d, %d, %d", d.OffPosition, d.Gaps, d.Failed)},
		{"latency from schedule p50 / p99 / p99.9", fmt.Sprintf("%.2f / %.2f / %.2f ms", r.LatencyP50MS, r.LatencyP99MS, r.LatencyP999MS)},
		{"RSS kB: first, last; growth", fmt.Sprintf("%v, %v; %+.1f%% (means %.0f -> %.0f)", first.RSSKB, last.RSSKB, g.RSS*100, g.RSSKB[0], g.RSSKB[1])},
		{"goroutines: first, last; growth", fmt.Sprintf("%v, %v; %+.1f%% (means %.0f -> %.0f)", first.Goroutines, last.Goroutines, g.Goroutines*100, g.GoroutineN[0], g.GoroutineN[1])},
		{"open files: first, last; growth", fmt.Sprintf("%v, %v; %+.1f%% (means %.0f -> %.0f)", first.OpenFiles, last.OpenFiles, g.OpenFiles*100, g.OpenFileN[0], g.OpenFileN[1])},
		{"samples, node log warnings", fmt.Sprintf("%d, %v", len(r.Samples), r.NodeWarnings)},
	}
	printRows(w, "soak", rows)
	for _, e := range p.ErrorSamples {
		fmt.Fprintf(w, "  push error: %s\n", e)
	}
}
