package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// rampReport is the outcome of a ramp.
type rampReport struct {
	Nodes            int            `json:"nodes"`
	Users            int            `json:"users"`
	Batch            int            `json:"batch"`
	P99LimitMS       float64        `json:"p99_limit_ms"`
	ConnectMS        int64          `json:"connect_ms"`
	LastGoodRate     float64        `json:"last_good_rate"`     // target rate of the last good step before the first bad one
	LastGoodAchieved float64        `json:"last_good_achieved"` // its achieved rate
	FirstBadStep     int            `json:"first_bad_step"`     // -1: none within -max-steps
	StoppedBy        string         `json:"stopped_by"`
	Steps            []stepResult   `json:"steps"`
	Push             pushReport     `json:"push"`
	Delivery         deliveryReport `json:"delivery"` // every step together
	PusherCPU        float64        `json:"pusher_cpu_s"`
	ClientCPU        float64        `json:"client_cpu_s"`
	NodeWarnings     []int          `json:"node_log_warnings"`
}

func (r *rampReport) failures() []string { return r.Delivery.failures() }

// stepResults builds each step's figures from the pusher, the merge and
// the load samples at the step boundaries; a step is complete when its
// window closed before stopAt.
func (c *rampConfig) stepResults(p *pusher, d deliveryReport, bounds []loadSample, stopAt time.Duration) []stepResult {
	out := make([]stepResult, len(p.steps))
	for k, st := range p.steps {
		sp := st.plan
		s := stepResult{Step: k, TargetRate: roundRate(sp.Rate), AchievedRate: roundRate(float64(st.inWindow) / sp.Length.Seconds()),
			Planned: sp.Messages, Accepted: st.accepted, Unaccepted: sp.Messages - st.accepted, Complete: sp.end() <= stopAt}
		if k < len(d.Steps) {
			sd := d.Steps[k]
			s.Received, s.Lost, s.Duplicated = sd.Unique, sd.Lost, sd.Duplicated
			l := sd.FromSchedule
			s.P50MS, s.P90MS, s.P99MS, s.MaxMS = l.P50, l.P90, l.P99, l.Max
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

// printTable writes every step and the verdict.
func (r *rampReport) printTable(w io.Writer) {
	fmt.Fprintf(w, "ramp: %d users, batch %d, p99 limit %.0f ms; stopped by %s\n", r.Users, r.Batch, r.P99LimitMS, r.StoppedBy)
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
	if r.FirstBadStep >= 0 {
		fmt.Fprintf(w, "LAST GOOD RATE: %.0f msg/s (achieved %.0f); first bad step %d\n", r.LastGoodRate, r.LastGoodAchieved, r.FirstBadStep)
	} else {
		fmt.Fprintf(w, "LAST GOOD RATE: %.0f msg/s (achieved %.0f); no bad step: raise -max-steps or -start\n", r.LastGoodRate, r.LastGoodAchieved)
	}
	d := r.Delivery
	fmt.Fprintf(w, "all steps: %d accepted, %d received, lost %d, duplicated %d, unexpected %d, id mismatches %d, reconnects %d; push requests %d (failed %d), max lag %.1f ms\n",
		d.Expected, d.Received, d.Lost, d.Duplicated, d.Unexpected, d.IDMismatch, d.Reconnects, r.Push.Requests, r.Push.FailedReqs, r.Push.MaxLagMS)
	fmt.Fprintf(w, "CPU seconds: pusher %.2f, clients %.2f; node log warnings/errors %v\n", r.PusherCPU, r.ClientCPU, r.NodeWarnings)
}
