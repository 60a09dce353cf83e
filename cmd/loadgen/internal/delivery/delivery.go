// Package delivery matches what the gateway accepted (the pusher's
// records) with what the clients received (their summaries): lost,
// duplicated and unexpected messages, and the latencies of first receipts.
package delivery

import (
	"fmt"
	"slices"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
)

// Failures names the counts among ns (count, what) that are not zero.
func Failures(ns ...any) []string {
	var out []string
	for i := 0; i+1 < len(ns); i += 2 {
		if n := fmt.Sprint(ns[i]); n != "0" {
			out = append(out, n+" "+ns[i+1].(string))
		}
	}
	return out
}

// Report compares what the gateway accepted with what the clients
// received, message by message.
type Report struct {
	Expected   int   `json:"expected"`   // messages the gateway accepted
	Received   int   `json:"received"`   // data messages received, repeats included
	Unique     int   `json:"unique"`     // distinct messages received
	Lost       int   `json:"lost"`       // accepted, never received
	Duplicated int   `json:"duplicated"` // receipts beyond the first of a message
	Unexpected int   `json:"unexpected"` // received, never accepted
	IDMismatch int   `json:"id_mismatch"`
	OutOfOrder int64 `json:"out_of_order"`
	clients.Counts
	FromSchedule measure.LatencyStats `json:"from_schedule_ms"` // receipt - scheduled send: counts API back-pressure
	FromSend     measure.LatencyStats `json:"from_send_ms"`     // receipt - actual send
	LostSamples  []string             `json:"lost_samples,omitempty"`
	Steps        []Step               `json:"-"`
}

// Step is the delivery of the messages of one schedule step.
type Step struct {
	Unique, Lost, Duplicated int
	FromSchedule             measure.LatencyStats
}

// Failures are the checks of the report that did not hold.
func (d Report) Failures() []string {
	return Failures(d.Lost, "lost", d.Duplicated, "duplicated", d.Unexpected, "unexpected", d.IDMismatch, "id mismatches")
}

type msgKey struct {
	user  int64
	epoch string
	seq   int64
}

// expectation is an accepted message: its id's hash, step, receipts and
// the latencies of the first (µs from the scheduled and the actual send).
type expectation struct {
	idHash      uint32
	step, got   int32
	sched, send int64
}

// Merge matches every accepted message with the clients' receipts by
// (user, epoch, seq). Latencies are those of first receipts.
func Merge(pushed []push.Result, sums []clients.Summary) Report {
	var r Report
	want := make(map[msgKey]*expectation, len(pushed))
	steps := 0
	for _, p := range pushed {
		want[msgKey{p.User, p.Epoch, p.Seq}] = &expectation{idHash: p.IDHash, step: p.Step}
		steps = max(steps, int(p.Step)+1)
	}
	r.Expected, r.Steps = len(want), make([]Step, steps)
	unexpected := map[msgKey]int{}
	for _, c := range sums {
		r.receive(c, want, unexpected)
	}
	r.Unexpected = len(unexpected)
	r.Unique = len(unexpected)
	stepLat := make([][]int64, steps)
	var fromSched, fromSend []int64
	for k, e := range want {
		s := &r.Steps[e.step]
		if e.got == 0 {
			r.Lost++
			s.Lost++
			if len(r.LostSamples) < 10 {
				r.LostSamples = append(r.LostSamples, fmt.Sprintf("user %d epoch %s seq %d", k.user, k.epoch, k.seq))
			}
			continue
		}
		r.Unique++
		s.Unique++
		if e.sched >= 0 {
			fromSched, stepLat[e.step] = append(fromSched, e.sched), append(stepLat[e.step], e.sched)
		}
		if e.send >= 0 {
			fromSend = append(fromSend, e.send)
		}
	}
	slices.Sort(r.LostSamples)
	for i := range r.Steps {
		r.Steps[i].FromSchedule = measure.Latencies(stepLat[i])
	}
	r.FromSchedule, r.FromSend = measure.Latencies(fromSched), measure.Latencies(fromSend)
	return r
}

// receive counts the receipts of one clients process against want (the
// accepted messages) and unexpected (the others, with their receipts).
func (r *Report) receive(c clients.Summary, want map[msgKey]*expectation, unexpected map[msgKey]int) {
	r.Add(c.Counts)
	r.OutOfOrder += c.OutOfOrder
	r.Duplicated += int(c.Duplicates) // the gateway sent them again; the client kept them from the app
	for _, l := range c.Logs {
		for _, m := range l.Msgs {
			r.Received++
			k := msgKey{l.User, l.Epochs[m[0]], m[1]}
			switch e := want[k]; {
			case e == nil:
				if unexpected[k]++; unexpected[k] > 1 {
					r.Duplicated++
				}
			case e.got > 0:
				e.got++
				r.Duplicated++
				r.Steps[e.step].Duplicated++
			default:
				e.got, e.sched, e.send = 1, m[3], m[4]
				if e.idHash != uint32(m[2]) {
					r.IDMismatch++
				}
			}
		}
	}
}

// Compact is what the clients of a compact run got against what the
// gateway accepted, user by user: the clients keep each user's position
// and counts instead of every message, so a 30-minute run fits in memory.
type Compact struct {
	Expected    int   `json:"expected"`     // messages the gateway accepted
	Received    int64 `json:"received"`     // data messages received, repeats included
	Unique      int64 `json:"unique"`       // above the user's position when they came
	Lost        int64 `json:"lost"`         // accepted for a user, beyond what it got
	Duplicated  int64 `json:"duplicated"`   // at or behind the user's position, or dropped by the client as seen
	Unexpected  int64 `json:"unexpected"`   // got beyond what was accepted for the user
	OffPosition int   `json:"off_position"` // users whose last seq or epoch is not the last accepted
	clients.Counts
}

// Failures are the checks of the report that did not hold.
func (d Compact) Failures() []string {
	return Failures(d.Lost, "lost", d.Duplicated, "duplicated", d.Unexpected, "unexpected", d.OffPosition, "users off their last position",
		d.Gaps, "gaps", d.Failed, "users gave up reconnecting")
}

// MergeCompact compares the pusher's per-user record with the clients'
// positions.
func MergeCompact(pushed map[int64]*push.PushedTo, accepted int, sums []clients.Summary) Compact {
	d := Compact{Expected: accepted}
	got := map[int64]clients.Position{}
	for _, s := range sums {
		d.Add(s.Counts)
		d.Received += s.Received
		for _, pos := range s.Positions {
			got[pos.User] = pos
			d.Unique += pos.Unique
			d.Duplicated += pos.Repeats + pos.Dropped // resent by the gateway: a duplicate even if the client kept it back
		}
	}
	for user, pos := range got {
		want := pushed[user]
		if want == nil {
			want = &push.PushedTo{}
		}
		if diff := want.Count - pos.Unique; diff > 0 {
			d.Lost += diff
		} else {
			d.Unexpected -= diff
		}
		if want.Count > 0 && (pos.Epoch != want.Epoch || pos.Last != want.Last) {
			d.OffPosition++
		}
	}
	for user, want := range pushed {
		if _, ok := got[user]; !ok {
			d.Lost += want.Count
			d.OffPosition++
		}
	}
	return d
}
