package scenario

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/chart"
	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
)

// soakConfig is the soak scenario: a fixed push rate for a long time while
// a share of the clients drop and resume every interval, sampling the
// nodes' RSS, goroutines and open files.
type soakConfig struct {
	loadConfig
	rate, churnFraction, maxRSSGrowth, maxCountGrowth float64
	duration, churnEvery, sampleEvery                 time.Duration
	chart                                             string
}

func (c *soakConfig) register(fs *flag.FlagSet) {
	c.loadConfig.register(fs, 10000)
	fs.Float64Var(&c.rate, "rate", 7500, "messages per second (default: about half of what a node sustains at 1 user per push, docs/soak.md)")
	fs.DurationVar(&c.duration, "duration", 30*time.Minute, "how long to push (the run's -timeout must exceed it by a few minutes)")
	fs.DurationVar(&c.churnEvery, "churn-every", 10*time.Second, "every this long, -churn-fraction of the clients drop their WebSocket and resume (0: no churn)")
	fs.Float64Var(&c.churnFraction, "churn-fraction", 0.05, "share of the clients dropped by each churn, taken in turn")
	fs.DurationVar(&c.sampleEvery, "sample-every", 10*time.Second, "interval of the samples of each node's RSS, goroutines and open files")
	fs.Float64Var(&c.maxRSSGrowth, "max-rss-growth", 0.25, "the run fails when RSS grows more than this share from the second to the last quarter of the run (means)")
	fs.Float64Var(&c.maxCountGrowth, "max-count-growth", 0.10, "the same for goroutines and open files (and by more than 50)")
	fs.StringVar(&c.chart, "chart", "soak.svg", "SVG of the samples (empty: none); loadgen chart draws it again from the JSON line")
}

func (c *soakConfig) check() error {
	switch {
	case c.rate <= 0 || c.sampleEvery <= 0:
		return errors.New("-rate and -sample-every must be positive")
	case c.duration < 4*c.sampleEvery:
		return errors.New("-duration must hold at least 4 samples (-sample-every)")
	case c.churnEvery < 0 || c.churnFraction < 0 || c.churnFraction > 1:
		return errors.New("-churn-every must not be negative and -churn-fraction must be in [0, 1]")
	case c.maxRSSGrowth <= 0 || c.maxCountGrowth <= 0:
		return errors.New("-max-rss-growth and -max-count-growth must be positive")
	}
	return c.loadConfig.check()
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
	RSS        float64    `json:"rss"`
	Goroutines float64    `json:"goroutines"`
	OpenFiles  float64    `json:"open_files"`
	RSSKB      [2]float64 `json:"rss_kb_means"` // the means compared, early then late
	GoroutineN [2]float64 `json:"goroutine_means"`
	OpenFileN  [2]float64 `json:"open_file_means"`
}

// soakReport is the outcome of a soak run.
type soakReport struct {
	Nodes          int              `json:"nodes"`
	Users          int              `json:"users"`
	Batch          int              `json:"batch"`
	TargetRate     float64          `json:"target_rate"`
	DurationS      float64          `json:"duration_s"`
	ChurnEveryS    float64          `json:"churn_every_s"`
	ChurnFraction  float64          `json:"churn_fraction"`
	Push           push.Report      `json:"push"`
	Delivery       delivery.Compact `json:"delivery"`
	Churned        int64            `json:"churned"` // sessions the clients closed
	LatencyP50MS   float64          `json:"latency_p50_ms"`
	LatencyP99MS   float64          `json:"latency_p99_ms"`
	LatencyP999MS  float64          `json:"latency_p99_9_ms"`
	Growth         soakGrowth       `json:"growth"`
	MaxRSSGrowth   float64          `json:"max_rss_growth"`
	MaxCountGrowth float64          `json:"max_count_growth"`
	Samples        []soakSample     `json:"samples"`
	NodeWarnings   []int            `json:"node_log_warnings"`
}

func (c *soakConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < c.duration+c.deliverTimeout+30*time.Second {
		return nil, fmt.Errorf("soak: -timeout must exceed -duration + -deliver-timeout by 30s, for start-up (e.g. -timeout %s)",
			(c.duration + c.deliverTimeout + 5*time.Minute).Round(time.Minute))
	}
	messages := max(int(math.Round(c.rate*c.duration.Seconds())), 1)
	fmt.Fprintf(o.out, "soak: %d node(s), %d users in %d client processes, %d messages at %.0f msg/s (batch %d) for %s, churn %.0f%% every %s\n",
		c.nodes, c.users, c.procs, messages, c.rate, c.batch, c.duration, c.churnFraction*100, c.churnEvery)
	r, err := o.startLoad(ctx, c.loadConfig, clients.Config{Status: time.Second, Compact: true, ChurnEvery: c.churnEvery,
		ChurnFraction: c.churnFraction}, push.OneStep(c.rate, messages))
	if err != nil {
		return nil, err
	}
	samples := []soakSample{o.sampleNodes(r)}
	tick := min(time.Second, c.sampleEvery)
	err = r.follow(ctx, r.p.Done, tick, func() bool { // a sample every c.sampleEvery, give or take half a tick
		if time.Since(r.p.Start).Seconds()-samples[len(samples)-1].AtS >= (c.sampleEvery - tick/2).Seconds() {
			samples = append(samples, o.sampleNodes(r))
		}
		o.progress.maybe(func() string {
			last := samples[len(samples)-1]
			return fmt.Sprintf("%s | last sample: RSS %v kB, goroutines %v, open files %v", r.line(), last.RSSKB, last.Goroutines, last.OpenFiles)
		})
		return false
	})
	if err != nil {
		return nil, err
	}
	growth := growthOf(samples) // while pushing: the pusher's connections close at its end
	r.onDelivered = func() { samples = append(samples, o.sampleNodes(r)) }
	e, err := r.finish(ctx, o, c.deliverTimeout)
	if err != nil {
		return nil, err
	}
	hist := r.cps.Step(0).Hist
	rep := &soakReport{Nodes: c.nodes, Users: c.users, Batch: c.batch, TargetRate: c.rate, DurationS: c.duration.Seconds(),
		ChurnEveryS: c.churnEvery.Seconds(), ChurnFraction: c.churnFraction, Push: e.push,
		Delivery: delivery.MergeCompact(r.p.PerUser, e.push.Accepted, e.sums), Growth: growth,
		MaxRSSGrowth: c.maxRSSGrowth, MaxCountGrowth: c.maxCountGrowth, Samples: samples,
		LatencyP50MS: hist.QuantileMS(0.5), LatencyP99MS: hist.QuantileMS(0.99), LatencyP999MS: hist.QuantileMS(0.999)}
	for _, s := range e.sums {
		rep.Churned += s.Churned
	}
	rep.NodeWarnings = stopNodes(r.nodes)
	if c.chart != "" {
		if err := chart.WriteSoak(rep, c.chart); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.out, "  chart: %s\n", c.chart)
	}
	return rep, nil
}

// sampleNodes reads every node's RSS and open files from /proc and its
// goroutines from /metrics.
func (o *orch) sampleNodes(r *loadRun) soakSample {
	s := soakSample{AtS: measure.Round2(time.Since(r.p.Start).Seconds()), Sessions: r.cps.Total().Live, Accepted: r.p.Accepted(), Received: r.cps.Total().Received}
	for _, n := range r.nodes {
		s.RSSKB = append(s.RSSKB, measure.RSSKB(n.Pid()))
		s.OpenFiles = append(s.OpenFiles, measure.OpenFDs(n.Pid()))
		s.Goroutines = append(s.Goroutines, int(measure.LineFloat(string(o.get(n.HTTPURL, "/metrics")), "go_goroutines ")))
	}
	return s
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
	means := func(f func(soakSample) float64) [2]float64 {
		var m [2]float64
		for i, ss := range [][]soakSample{samples[n/4 : n/2], samples[n-n/4:]} {
			for _, s := range ss {
				m[i] += f(s)
			}
			m[i] = math.Round(m[i] / float64(len(ss)))
		}
		return m
	}
	ratio := func(m [2]float64) float64 {
		if m[0] <= 0 {
			return 0
		}
		return measure.Round3(m[1]/m[0] - 1)
	}
	g.RSSKB = means(func(s soakSample) float64 { return measure.Sum(s.RSSKB) })
	g.GoroutineN = means(func(s soakSample) float64 { return measure.Sum(s.Goroutines) })
	g.OpenFileN = means(func(s soakSample) float64 { return measure.Sum(s.OpenFiles) })
	g.RSS, g.Goroutines, g.OpenFiles = ratio(g.RSSKB), ratio(g.GoroutineN), ratio(g.OpenFileN)
	return g
}

func (r *soakReport) failures() []string {
	f := append(r.Delivery.Failures(), delivery.Failures(r.Push.FailedReqs, "push requests failed")...)
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
