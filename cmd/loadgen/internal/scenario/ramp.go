package scenario

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
)

// rampConfig is the ramp scenario: users connected, the push rate
// multiplied by factor every step until a step is bad.
type rampConfig struct {
	loadConfig
	maxSteps                   int
	start, factor, minAchieved float64
	step, p99Limit, grace      time.Duration
}

func (c *rampConfig) register(fs *flag.FlagSet) {
	c.loadConfig.register(fs, 5000)
	fs.Float64Var(&c.start, "start", 1000, "rate of the first step, messages per second")
	fs.Float64Var(&c.factor, "factor", 1.2, "the rate is multiplied by this every step")
	fs.DurationVar(&c.step, "step", 10*time.Second, "length of a step")
	fs.IntVar(&c.maxSteps, "max-steps", 30, "end after this many steps even if all were good")
	fs.DurationVar(&c.p99Limit, "p99-limit", 100*time.Millisecond, "a good step's p99 (from the scheduled send) is at most this")
	fs.Float64Var(&c.minAchieved, "min-achieved", 0.98, "a good step's achieved rate is at least this fraction of its target")
	fs.DurationVar(&c.grace, "grace", 2*time.Second, "a step is judged this long after its window closed, or once all its messages arrived (at least -p99-limit)")
}

func (c *rampConfig) check() error {
	switch {
	case c.maxSteps <= 0 || c.start <= 0 || c.factor <= 1:
		return errors.New("-max-steps and -start must be positive and -factor above 1")
	case c.step < 100*time.Millisecond || c.p99Limit <= 0:
		return errors.New("-step must be at least 100ms; -p99-limit positive")
	case c.grace < c.p99Limit:
		return fmt.Errorf("-grace %s must be at least -p99-limit %s", c.grace, c.p99Limit)
	case c.minAchieved <= 0 || c.minAchieved > 1:
		return errors.New("-min-achieved must be in (0, 1]")
	}
	return c.loadConfig.check()
}

// stepResult is one ramp step as the report gives it.
type stepResult struct {
	Step         int      `json:"step"`
	TargetRate   float64  `json:"target_rate"`   // messages per second offered
	AchievedRate float64  `json:"achieved_rate"` // messages accepted per second of the step's window
	Planned      int      `json:"planned"`       // messages the schedule had for the step
	Accepted     int      `json:"accepted"`      // messages the gateway returned a seq for
	Unaccepted   int      `json:"unaccepted"`    // planned, not accepted (failed requests, or never sent)
	Received     int      `json:"received"`      // distinct messages received
	Lost         int      `json:"lost"`
	Duplicated   int      `json:"duplicated"`
	P50MS        float64  `json:"p50_ms"` // from the scheduled send to the first receipt
	P90MS        float64  `json:"p90_ms"`
	P99MS        float64  `json:"p99_ms"`
	MaxMS        float64  `json:"max_ms"`
	NodeCPUUS    float64  `json:"node_cpu_us_per_msg"`  // node CPU over the step's window / messages delivered in it
	RedisCPUUS   float64  `json:"redis_cpu_us_per_msg"` // same for Redis
	Complete     bool     `json:"complete"`             // the step's window ended before the ramp stopped
	Good         bool     `json:"good"`
	WhyBad       []string `json:"why_bad,omitempty"`
}

// rampReport is the outcome of a ramp.
type rampReport struct {
	Nodes            int             `json:"nodes"`
	Users            int             `json:"users"`
	Batch            int             `json:"batch"`
	P99LimitMS       float64         `json:"p99_limit_ms"`
	ConnectMS        int64           `json:"connect_ms"`
	LastGoodRate     float64         `json:"last_good_rate"`     // target rate of the last good step before the first bad one
	LastGoodAchieved float64         `json:"last_good_achieved"` // its achieved rate
	FirstBadStep     int             `json:"first_bad_step"`     // -1: none within -max-steps
	StoppedBy        string          `json:"stopped_by"`
	Steps            []stepResult    `json:"steps"`
	Push             push.Report     `json:"push"`
	Delivery         delivery.Report `json:"delivery"` // every step together
	PusherCPU        float64         `json:"pusher_cpu_s"`
	ClientCPU        float64         `json:"client_cpu_s"`
	NodeWarnings     []int           `json:"node_log_warnings"`
}

func (r *rampReport) failures() []string { return r.Delivery.Failures() }

func (c *rampConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "ramp: %d node(s), %d users in %d client processes, batch %d, %.0f msg/s ×%.2f every %s (at most %d steps), p99 limit %s\n",
		c.nodes, c.users, c.procs, c.batch, c.start, c.factor, c.step, c.maxSteps, c.p99Limit)
	r, err := o.startLoad(ctx, c.loadConfig, clients.Config{LateAfter: c.p99Limit},
		func(k int) (push.Step, bool) { return push.RampStep(c.start, c.factor, c.step, k), k < c.maxSteps })
	if err != nil {
		return nil, err
	}
	w := &rampWatch{cfg: c, o: o, r: r}
	var stopAt time.Duration
	if err := r.follow(ctx, nil, 50*time.Millisecond, func() bool {
		stopAt = time.Since(r.p.Start)
		return w.tick(stopAt)
	}); err != nil {
		return nil, err
	}
	e, err := r.finish(ctx, o, c.deliverTimeout)
	if err != nil {
		return nil, err
	}
	d := delivery.Merge(r.p.Results, e.sums)
	rep := &rampReport{Nodes: c.nodes, Users: c.users, Batch: c.batch, P99LimitMS: measure.MS(c.p99Limit), ConnectMS: r.took.Milliseconds(),
		StoppedBy: w.stoppedBy, Push: e.push, Delivery: d, PusherCPU: e.pusherCPU, ClientCPU: e.clientCPU,
		Steps: c.stepResults(r.p, d, w.bounds, stopAt)}
	c.judgeSteps(rep.Steps, w.live)
	var good int
	if good, rep.FirstBadStep = lastGood(rep.Steps); good >= 0 {
		rep.LastGoodRate, rep.LastGoodAchieved = rep.Steps[good].TargetRate, rep.Steps[good].AchievedRate
	}
	rep.NodeWarnings = stopNodes(r.nodes)
	return rep, nil
}

// rampWatch follows a running ramp: it samples the load at every step
// boundary, judges each step once its window closed and the grace passed
// (or all its messages arrived), stops at the first bad step, and prints
// the progress line.
type rampWatch struct {
	cfg *rampConfig
	o   *orch
	r   *loadRun

	bounds    []loadSample // bounds[k]: at the start of step k
	live      [][]string   // the live verdict of each judged step
	stoppedBy string
}

// tick is one look at the ramp el after its start; true: it is over.
func (w *rampWatch) tick(el time.Duration) bool {
	c := w.cfg
	for len(w.bounds) <= c.maxSteps && el >= time.Duration(len(w.bounds))*c.step {
		w.bounds = append(w.bounds, w.r.meter.sample())
	}
	for len(w.live) < w.r.p.StepsStarted() && w.stoppedBy == "" {
		k := len(w.live)
		st, _ := w.r.p.Step(k)
		l, sp := w.r.cps.Step(k), st.Plan
		if el < sp.End() || (l.Received < int64(sp.Messages) && el < sp.End()+c.grace) {
			break
		}
		why := c.judgeLive(st, l)
		w.live = append(w.live, why)
		verdict := "good"
		if len(why) > 0 {
			verdict = "bad: " + strings.Join(why, "; ")
			w.stoppedBy = fmt.Sprintf("step %d (%.0f msg/s): %s", k, sp.Rate, verdict[5:])
		}
		if w.o.progress.every > 0 {
			fmt.Fprintf(w.o.progress.w, "step %d: target %.0f msg/s, achieved %.0f, p99 ≤ %.1f ms (%d received, %d late): %s\n",
				k, sp.Rate, st.Achieved(), l.Hist.QuantileMS(0.99), l.Received, l.Late, verdict)
		}
	}
	if w.stoppedBy == "" && len(w.live) == c.maxSteps {
		w.stoppedBy = fmt.Sprintf("all %d steps good (-max-steps)", c.maxSteps)
	}
	w.o.progress.maybe(w.r.line)
	return w.stoppedBy != ""
}

// judgeSteps marks each step good or bad from the exact merge: an
// incomplete step is bad, and so is a step the live judgement found bad.
func (c *rampConfig) judgeSteps(steps []stepResult, live [][]string) {
	for i := range steps {
		s := &steps[i]
		s.WhyBad = []string{"incomplete: the ramp stopped during the step"}
		if s.Complete {
			s.WhyBad = c.judge(*s)
		}
		if i < len(live) && len(s.WhyBad) == 0 {
			for _, y := range live[i] {
				s.WhyBad = append(s.WhyBad, "live: "+y)
			}
		}
		s.Good = len(s.WhyBad) == 0
	}
}

// judge returns why a complete step is bad; none means good.
func (c *rampConfig) judge(s stepResult) []string {
	var why []string
	if limit := measure.MS(c.p99Limit); s.P99MS > limit {
		why = append(why, fmt.Sprintf("p99 %.1f ms > %.0f ms", s.P99MS, limit))
	}
	why = append(why, delivery.Failures(s.Lost, "lost", s.Duplicated, "duplicated", s.Unaccepted, "not accepted")...)
	return append(why, c.achievedBelow(s.AchievedRate, s.TargetRate)...)
}

// judgeLive says whether a step is bad enough to stop the ramp, once its
// window has closed and the grace after it passed: a message not received
// by then is later than the limit (the grace is at least the limit), so
// the p99 is over the limit when late and missing messages together are
// more than the nearest rank allows.
func (c *rampConfig) judgeLive(st push.StepPush, l clients.StepLive) []string {
	var why []string
	sp := st.Plan
	missing := max(int64(sp.Messages)-l.Received, 0)
	if allowed := int64(sp.Messages - 1 - measure.NearestRank(0.99, max(sp.Messages, 1))); l.Late+missing > allowed {
		why = append(why, fmt.Sprintf("%d of %d messages later than %s or missing (p99 allows %d)", l.Late+missing, sp.Messages, c.p99Limit, allowed))
	}
	why = append(why, delivery.Failures(l.Repeats, "repeated", st.Failed, "not accepted")...)
	return append(why, c.achievedBelow(st.Achieved(), sp.Rate)...)
}

func (c *rampConfig) achievedBelow(achieved, target float64) []string {
	if achieved < c.minAchieved*target {
		return []string{fmt.Sprintf("achieved %.0f/s < %.0f%% of %.0f/s", achieved, c.minAchieved*100, target)}
	}
	return nil
}

// lastGood returns the index of the last good step before the first bad
// one and the index of that bad step; -1 when there is none.
func lastGood(steps []stepResult) (good, firstBad int) {
	good = -1
	for i, s := range steps {
		if !s.Complete {
			break
		}
		if !s.Good {
			return good, i
		}
		good = i
	}
	return good, -1
}

// stepResults builds each step's figures from the pusher, the merge and
// the load samples at the step boundaries; a step is complete when its
// window closed before stopAt.
func (c *rampConfig) stepResults(p *push.Pusher, d delivery.Report, bounds []loadSample, stopAt time.Duration) []stepResult {
	out := make([]stepResult, p.StepsStarted())
	for k := range out {
		st, _ := p.Step(k)
		sp := st.Plan
		s := stepResult{Step: k, TargetRate: roundRate(sp.Rate), AchievedRate: roundRate(st.Achieved()),
			Planned: sp.Messages, Accepted: st.Accepted, Unaccepted: sp.Messages - st.Accepted, Complete: sp.End() <= stopAt}
		if k < len(d.Steps) {
			sd := d.Steps[k]
			s.Received, s.Lost, s.Duplicated = sd.Unique, sd.Lost, sd.Duplicated
			s.P50MS, s.P90MS, s.P99MS, s.MaxMS = sd.FromSchedule.P50, sd.FromSchedule.P90, sd.FromSchedule.P99, sd.FromSchedule.Max
		}
		if k+1 < len(bounds) {
			b0, b1 := bounds[k], bounds[k+1]
			n := b1.delivered - b0.delivered
			s.NodeCPUUS, s.RedisCPUUS = cpuShare(b1.node()-b0.node(), n), cpuShare(b1.redis-b0.redis, n)
		}
		out[k] = s
	}
	return out
}

func roundRate(r float64) float64 { return math.Round(r*10) / 10 }

// PrintSteps writes every step and the verdict.
func (r *rampReport) PrintSteps(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\ttarget/s\tachieved/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tlost\tdup\tnode µs/msg\tredis µs/msg\t\tverdict")
	for _, s := range r.Steps {
		verdict := "good"
		if !s.Good {
			verdict = "bad: " + strings.Join(s.WhyBad, "; ")
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.1f\t%.1f\t\t%s\n", s.Step, s.TargetRate, s.AchievedRate,
			s.P50MS, s.P90MS, s.P99MS, s.MaxMS, s.Lost, s.Duplicated, s.NodeCPUUS, s.RedisCPUUS, verdict)
	}
	tw.Flush()
}
