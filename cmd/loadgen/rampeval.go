package main

import (
	"fmt"
	"math"
	"time"
)

// stepCriteria say when a ramp step is good: its p99 from the scheduled
// send at most P99Limit, nothing lost, duplicated or refused, and the
// achieved rate at least MinAchieved of the target.
type stepCriteria struct {
	P99Limit    time.Duration
	MinAchieved float64
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
	RedisCPUUS   float64  `json:"redis_cpu_us_per_msg"` // same for redis-server
	Complete     bool     `json:"complete"`             // the step's window ended before the ramp stopped
	Good         bool     `json:"good"`
	WhyBad       []string `json:"why_bad,omitempty"`
}

// judge returns why a complete step is bad; none means good.
func (c stepCriteria) judge(s stepResult) []string {
	var why []string
	if limit := ms(c.P99Limit); s.P99MS > limit {
		why = append(why, fmt.Sprintf("p99 %.1f ms > %.0f ms", s.P99MS, limit))
	}
	if s.Lost > 0 {
		why = append(why, fmt.Sprintf("%d lost", s.Lost))
	}
	if s.Duplicated > 0 {
		why = append(why, fmt.Sprintf("%d duplicated", s.Duplicated))
	}
	if s.Unaccepted > 0 {
		why = append(why, fmt.Sprintf("%d not accepted", s.Unaccepted))
	}
	if s.AchievedRate < c.MinAchieved*s.TargetRate {
		why = append(why, fmt.Sprintf("achieved %.0f/s < %.0f%% of %.0f/s", s.AchievedRate, c.MinAchieved*100, s.TargetRate))
	}
	return why
}

// liveStep is what the orchestrator knows of a step while the ramp runs:
// the pusher's counts and the clients' progress lines.
type liveStep struct {
	Planned, Accepted, Failed int
	Achieved, Target          float64
	Received, Repeats, Late   int64 // first receipts, repeats, first receipts later than the p99 limit
}

// judgeLive says whether a step is bad enough to stop the ramp, once its
// window has closed and the grace after it passed: a message not received
// by then is later than the limit (the grace is at least the limit), so
// the p99 is over the limit when late and missing messages together are
// more than the nearest rank allows.
func (c stepCriteria) judgeLive(l liveStep) []string {
	var why []string
	missing := max(int64(l.Planned)-l.Received, 0)
	allowed := int64(l.Planned - 1 - nearestRank(0.99, max(l.Planned, 1)))
	if l.Late+missing > allowed {
		why = append(why, fmt.Sprintf("%d of %d messages later than %s or missing (p99 allows %d)", l.Late+missing, l.Planned, c.P99Limit, allowed))
	}
	if l.Repeats > 0 {
		why = append(why, fmt.Sprintf("%d repeated", l.Repeats))
	}
	if l.Failed > 0 {
		why = append(why, fmt.Sprintf("%d not accepted", l.Failed))
	}
	if l.Achieved < c.MinAchieved*l.Target {
		why = append(why, fmt.Sprintf("achieved %.0f/s < %.0f%% of %.0f/s", l.Achieved, c.MinAchieved*100, l.Target))
	}
	return why
}

// judgeSteps marks each complete step good or bad.
func (c stepCriteria) judgeSteps(steps []stepResult) {
	for i := range steps {
		s := &steps[i]
		if !s.Complete {
			s.Good, s.WhyBad = false, []string{"incomplete: the ramp stopped during the step"}
			continue
		}
		s.WhyBad = c.judge(*s)
		s.Good = len(s.WhyBad) == 0
	}
}

// lastGood returns the index of the last good step before the first bad
// one and the index of that bad step; -1 when there is none (the first
// step was bad; every complete step was good).
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

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// roundRate keeps a rate readable in reports.
func roundRate(r float64) float64 { return math.Round(r*10) / 10 }
