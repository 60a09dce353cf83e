package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// rampConfig is the ramp scenario: users connected, the push rate
// multiplied by factor every step until a step is bad.
type rampConfig struct {
	nodes, users, procs, batch, concurrency, maxSteps int
	start, factor, minAchieved                        float64
	step, p99Limit, grace, deliverTimeout             time.Duration
}

func (c *rampConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes")
	fs.IntVar(&c.users, "users", 5000, "connected users, one WebSocket each; pushes go to them round-robin")
	fs.IntVar(&c.procs, "procs", 2, "client processes the users are spread over")
	fs.IntVar(&c.batch, "batch", 1, "users per push request (the rate counts messages)")
	fs.IntVar(&c.concurrency, "concurrency", 128, "push requests in flight at most")
	fs.Float64Var(&c.start, "start", 1000, "rate of the first step, messages per second")
	fs.Float64Var(&c.factor, "factor", 1.2, "the rate is multiplied by this every step")
	fs.DurationVar(&c.step, "step", 10*time.Second, "length of a step")
	fs.IntVar(&c.maxSteps, "max-steps", 30, "end after this many steps even if all were good")
	fs.DurationVar(&c.p99Limit, "p99-limit", 100*time.Millisecond, "a good step's p99 (from the scheduled send) is at most this")
	fs.Float64Var(&c.minAchieved, "min-achieved", 0.98, "a good step's achieved rate is at least this fraction of its target")
	fs.DurationVar(&c.grace, "grace", 2*time.Second, "a step is judged this long after its window closed, or once all its messages arrived (at least -p99-limit)")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", time.Minute, "after the last push, wait this long for the accepted messages")
}

func (c *rampConfig) check() error {
	switch {
	case c.nodes <= 0:
		return errors.New("-nodes must be positive")
	case c.batch <= 0 || c.batch > 1000 || c.batch > c.users:
		return errors.New("-batch must be between 1 and min(1000, -users)")
	case c.concurrency <= 0 || c.maxSteps <= 0:
		return errors.New("-concurrency and -max-steps must be positive")
	case c.start <= 0 || c.factor <= 1:
		return errors.New("-start must be positive and -factor above 1")
	case c.step < 100*time.Millisecond || c.p99Limit <= 0 || c.deliverTimeout <= 0:
		return errors.New("-step must be at least 100ms; -p99-limit and -deliver-timeout positive")
	case c.grace < c.p99Limit:
		return fmt.Errorf("-grace %s must be at least -p99-limit %s", c.grace, c.p99Limit)
	case c.minAchieved <= 0 || c.minAchieved > 1:
		return errors.New("-min-achieved must be in (0, 1]")
	}
	return checkSpread("-users", c.users, c.procs)
}

func (c *rampConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "ramp: %d node(s), %d users in %d client processes, batch %d, %.0f msg/s ×%.2f every %s (at most %d steps), p99 limit %s\n",
		c.nodes, c.users, c.procs, c.batch, c.start, c.factor, c.step, c.maxSteps, c.p99Limit)
	nodes, err := o.startNodes(ctx, c.nodes)
	if err != nil {
		return nil, err
	}
	cps, took, err := o.startClients(ctx, nodes, c.users, c.procs, 0, clientOpts{lateAfter: c.p99Limit, status: 100 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.out, "  %d users connected in %.2fs\n", c.users, took.Seconds())
	schedule := func(k int) (stepPlan, bool) { return rampStep(c.start, c.factor, c.step, k), k < c.maxSteps }
	p := newPusher(pushPlan{nodes: urlsOf(nodes), apiKey: o.apiKey, users: c.users, batch: c.batch, concurrency: c.concurrency, step: schedule})
	meter := loadMeter{nodes: pidsOf(nodes), rdb: o.rdb, cps: cps}
	self0, clients0 := cpuSeconds(os.Getpid()), sumCPU(cps.pids())
	go p.run(ctx)
	<-p.started

	w := &rampWatch{cfg: c, o: o, p: p, cps: cps, meter: meter, cores: &coresMeter{m: meter}, lastAt: p.start}
	stopAt, err := w.watch(ctx)
	if err != nil {
		p.stop()
		<-p.done
		return nil, err
	}
	push := p.report()
	if _, all := cps.waitReceived(ctx, int64(push.Accepted), c.deliverTimeout); !all {
		fmt.Fprintf(o.out, "  delivery wait ended after %s with %d of %d messages\n", c.deliverTimeout, cps.received(), push.Accepted)
	}
	if !sleepCtx(ctx, time.Second) { // late duplicates would show up here
		return nil, ctx.Err()
	}
	pusherCPU, clientCPU := cpuSeconds(os.Getpid())-self0, sumCPU(cps.pids())-clients0
	sums, err := cps.summaries()
	if err != nil {
		return nil, err
	}
	d := mergeDelivery(p.results, sums)
	rep := &rampReport{Nodes: c.nodes, Users: c.users, Batch: c.batch, P99LimitMS: ms(c.p99Limit), ConnectMS: took.Milliseconds(),
		StoppedBy: w.stoppedBy, Push: push, Delivery: d, PusherCPU: round2(pusherCPU), ClientCPU: round2(clientCPU)}
	rep.Steps = c.stepResults(p, d, w.bounds, stopAt)
	crit := stepCriteria{P99Limit: c.p99Limit, MinAchieved: c.minAchieved}
	crit.judgeSteps(rep.Steps)
	for i, why := range w.live { // a step the live judgement stopped at stays bad
		if s := &rep.Steps[i]; len(why) > 0 && s.Good {
			s.Good = false
			for _, y := range why {
				s.WhyBad = append(s.WhyBad, "live: "+y)
			}
		}
	}
	var good int
	if good, rep.FirstBadStep = lastGood(rep.Steps); good >= 0 {
		rep.LastGoodRate, rep.LastGoodAchieved = rep.Steps[good].TargetRate, rep.Steps[good].AchievedRate
	}
	rep.NodeWarnings = stopNodes(nodes)
	return rep, nil
}

// rampWatch follows a running ramp: it samples the load at every step
// boundary, judges each step once its window closed and the grace passed
// (or all its messages arrived), stops the pusher at the first bad step,
// and prints the progress line.
type rampWatch struct {
	cfg   *rampConfig
	o     *orch
	p     *pusher
	cps   clientProcs
	meter loadMeter
	cores *coresMeter

	bounds    []loadSample // bounds[k]: at the start of step k
	live      [][]string   // the live verdict of each judged step
	stoppedBy string

	lastAccepted int
	lastAt       time.Time
}

// watch returns when the ramp has stopped, with the time (from the
// pusher's start) it stopped at.
func (w *rampWatch) watch(ctx context.Context) (time.Duration, error) {
	c := w.cfg
	crit := stepCriteria{P99Limit: c.p99Limit, MinAchieved: c.minAchieved}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for w.stoppedBy == "" {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
		el := time.Since(w.p.start)
		for len(w.bounds) <= c.maxSteps && el >= time.Duration(len(w.bounds))*c.step {
			w.bounds = append(w.bounds, w.meter.sample())
		}
		w.judgeDue(crit, el)
		if w.stoppedBy == "" && len(w.live) == c.maxSteps {
			w.stoppedBy = fmt.Sprintf("all %d steps good (-max-steps)", c.maxSteps)
		}
		w.o.progress.maybe(w.line)
	}
	stopAt := time.Since(w.p.start)
	w.p.stop()
	<-w.p.done
	return stopAt, nil
}

// judgeDue judges the steps that are due at el; a bad one stops the pusher.
func (w *rampWatch) judgeDue(crit stepCriteria, el time.Duration) {
	for len(w.live) < w.p.stepsStarted() {
		k := len(w.live)
		sp, accepted, failed, achieved, _ := w.p.stepCounts(k)
		l := w.cps.step(k)
		if el < sp.end() || (l.Received < int64(sp.Messages) && el < sp.end()+w.cfg.grace) {
			return
		}
		why := crit.judgeLive(liveStep{Planned: sp.Messages, Accepted: accepted, Failed: failed, Achieved: achieved, Target: sp.Rate,
			Received: l.Received, Repeats: l.Repeats, Late: l.Late})
		w.live = append(w.live, why)
		verdict := "good"
		if len(why) > 0 {
			verdict = "bad: " + strings.Join(why, "; ")
		}
		w.o.progress.note("step %d: target %.0f msg/s, achieved %.0f, p99 ≤ %.1f ms (%d received, %d late): %s",
			k, sp.Rate, achieved, float64(l.Hist.quantile(0.99))/1000, l.Received, l.Late, verdict)
		if len(why) > 0 {
			w.stoppedBy = fmt.Sprintf("step %d (%.0f msg/s): %s", k, sp.Rate, strings.Join(why, "; "))
			w.p.stop()
			return
		}
	}
}

// line is the progress line: the step, its target and the rate achieved
// over the last interval, the step's p99 so far, connections and CPU.
func (w *rampWatch) line() string {
	k := max(w.p.stepsStarted()-1, 0)
	sp, _, _, _, _ := w.p.stepCounts(k)
	acc, now := w.p.accepted(), time.Now()
	rate := float64(acc-w.lastAccepted) / now.Sub(w.lastAt).Seconds()
	w.lastAccepted, w.lastAt = acc, now
	node, redis := w.cores.read()
	return fmt.Sprintf("step %d: target %.0f msg/s, achieved %.0f, p99 so far %.1f ms | connected %d/%d | node %.2f cores, redis %.2f cores",
		k, sp.Rate, rate, float64(w.cps.step(k).Hist.quantile(0.99))/1000, w.cps.live(), w.cfg.users, node, redis)
}
