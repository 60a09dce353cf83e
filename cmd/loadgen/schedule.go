package main

import (
	"math"
	"time"
)

// stepPlan is one step of a push schedule: Messages messages at Rate per
// second, in requests of batch users each, the first due at Start (from
// the schedule's start), the last before Start+Length.
type stepPlan struct {
	Index    int
	Rate     float64
	Start    time.Duration
	Length   time.Duration
	Messages int
}

// requests is the number of push requests of the step.
func (s stepPlan) requests(batch int) int { return (s.Messages + batch - 1) / batch }

// size is the number of users of request j (the last may be short).
func (s stepPlan) size(j, batch int) int { return min(batch, s.Messages-j*batch) }

// due is when request j is scheduled, from the schedule's start.
func (s stepPlan) due(j, batch int) time.Duration {
	return s.Start + time.Duration(float64(j*batch)/s.Rate*float64(time.Second))
}

// end is when the step's window closes.
func (s stepPlan) end() time.Duration { return s.Start + s.Length }

// rampStep is step k of a ramp that starts at start messages per second
// and multiplies the rate by factor every length.
func rampStep(start, factor float64, length time.Duration, k int) stepPlan {
	rate := start * math.Pow(factor, float64(k))
	return stepPlan{Index: k, Rate: rate, Start: time.Duration(k) * length, Length: length,
		Messages: max(int(math.Round(rate*length.Seconds())), 1)}
}

// fixedStep is the single step of messages at rate per second.
func fixedStep(rate float64, messages int) stepPlan {
	return stepPlan{Rate: rate, Length: time.Duration(float64(messages) / rate * float64(time.Second)), Messages: messages}
}
