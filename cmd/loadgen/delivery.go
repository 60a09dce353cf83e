package main

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
)

// ClientCounts are what every delivery sums over the clients processes.
type ClientCounts struct {
	Gaps       int64          `json:"gaps"`
	Reconnects int64          `json:"reconnects"`
	DialErrors int64          `json:"dial_errors"`
	Failed     int64          `json:"failed_users"`
	Events     map[string]int `json:"events,omitempty"`
	CloseCodes map[string]int `json:"close_codes,omitempty"`
}

func (c *ClientCounts) add(s ClientCounts) {
	if c.Events == nil {
		c.Events, c.CloseCodes = map[string]int{}, map[string]int{}
	}
	c.Gaps, c.Reconnects, c.DialErrors, c.Failed = c.Gaps+s.Gaps, c.Reconnects+s.Reconnects, c.DialErrors+s.DialErrors, c.Failed+s.Failed
	for k, v := range s.Events {
		c.Events[k] += v
	}
	for k, v := range s.CloseCodes {
		c.CloseCodes[k] += v
	}
}

// failures names the counts among ns (count, what) that are not zero.
func failures(ns ...any) []string {
	var out []string
	for i := 0; i+1 < len(ns); i += 2 {
		if n := fmt.Sprint(ns[i]); n != "0" {
			out = append(out, n+" "+ns[i+1].(string))
		}
	}
	return out
}

// deliveryReport compares what the gateway accepted with what the clients
// received, message by message.
type deliveryReport struct {
	Expected   int   `json:"expected"`   // messages the gateway accepted
	Received   int   `json:"received"`   // data messages received, repeats included
	Unique     int   `json:"unique"`     // distinct messages received
	Lost       int   `json:"lost"`       // accepted, never received
	Duplicated int   `json:"duplicated"` // receipts beyond the first of a message
	Unexpected int   `json:"unexpected"` // received, never accepted
	IDMismatch int   `json:"id_mismatch"`
	OutOfOrder int64 `json:"out_of_order"`
	ClientCounts
	FromSchedule latencyStats   `json:"from_schedule_ms"` // receipt - scheduled send: counts API back-pressure
	FromSend     latencyStats   `json:"from_send_ms"`     // receipt - actual send
	LostSamples  []string       `json:"lost_samples,omitempty"`
	Steps        []stepDelivery `json:"-"`
}

// stepDelivery is the delivery of the messages of one schedule step.
type stepDelivery struct {
	Unique, Lost, Duplicated int
	FromSchedule             latencyStats
}

func (d deliveryReport) failures() []string {
	return failures(d.Lost, "lost", d.Duplicated, "duplicated", d.Unexpected, "unexpected", d.IDMismatch, "id mismatches")
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

// mergeDelivery matches every accepted message with the clients' receipts
// by (user, epoch, seq). Latencies are those of first receipts.
func mergeDelivery(pushed []pushResult, clients []clientSummary) deliveryReport {
	var r deliveryReport
	want := make(map[msgKey]*expectation, len(pushed))
	steps := 0
	for _, p := range pushed {
		want[msgKey{p.User, p.Epoch, p.Seq}] = &expectation{idHash: p.IDHash, step: p.Step}
		steps = max(steps, int(p.Step)+1)
	}
	r.Expected, r.Steps = len(want), make([]stepDelivery, steps)
	unexpected := map[msgKey]int{}
	for _, c := range clients {
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
		r.Steps[i].FromSchedule = latencies(stepLat[i])
	}
	r.FromSchedule, r.FromSend = latencies(fromSched), latencies(fromSend)
	return r
}

// receive counts the receipts of one clients process against want (the
// accepted messages) and unexpected (the others, with their receipts).
func (r *deliveryReport) receive(c clientSummary, want map[msgKey]*expectation, unexpected map[msgKey]int) {
	r.add(c.ClientCounts)
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

// soakDelivery is what the clients of a compact run got against what the
// gateway accepted, user by user: the clients keep each user's position
// and counts instead of every message, so a 30-minute run fits in memory.
type soakDelivery struct {
	Expected    int   `json:"expected"`     // messages the gateway accepted
	Received    int64 `json:"received"`     // data messages received, repeats included
	Unique      int64 `json:"unique"`       // above the user's position when they came
	Lost        int64 `json:"lost"`         // accepted for a user, beyond what it got
	Duplicated  int64 `json:"duplicated"`   // at or behind the user's position, or dropped by the client as seen
	Unexpected  int64 `json:"unexpected"`   // got beyond what was accepted for the user
	OffPosition int   `json:"off_position"` // users whose last seq or epoch is not the last accepted
	ClientCounts
}

func (d soakDelivery) failures() []string {
	return failures(d.Lost, "lost", d.Duplicated, "duplicated", d.Unexpected, "unexpected", d.OffPosition, "users off their last position",
		d.Gaps, "gaps", d.Failed, "users gave up reconnecting")
}

// compactDelivery compares the pusher's per-user record with the clients'
// positions.
func compactDelivery(pushed map[int64]*pushedTo, accepted int, sums []clientSummary) soakDelivery {
	d := soakDelivery{Expected: accepted}
	got := map[int64]userPosition{}
	for _, s := range sums {
		d.add(s.ClientCounts)
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
			want = &pushedTo{}
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

// quantiles returns the nearest-rank quantiles qs of vs (sorted in place).
func quantiles(vs []int64, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(vs) == 0 {
		return out
	}
	slices.Sort(vs)
	for i, q := range qs {
		out[i] = float64(vs[nearestRank(q, len(vs))])
	}
	return out
}

// nearestRank is the index of quantile q among n sorted values.
func nearestRank(q float64, n int) int {
	return min(max(int(math.Ceil(q*float64(n)-1e-9))-1, 0), n-1)
}

// latencyStats summarizes latencies, in milliseconds.
type latencyStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// latencies summarizes microsecond latencies (sorted in place).
func latencies(us []int64) latencyStats {
	if len(us) == 0 {
		return latencyStats{}
	}
	q := quantiles(us, 0.5, 0.9, 0.99, 0.999, 1)
	var sum float64
	for _, v := range us {
		sum += float64(v)
	}
	return latencyStats{Count: len(us), P50: q[0] / 1000, P90: q[1] / 1000, P99: q[2] / 1000,
		P999: q[3] / 1000, Max: q[4] / 1000, Mean: round3(sum / float64(len(us)) / 1000)}
}

// histogram counts microsecond latencies in log-linear buckets: exact
// below 64 µs, then 32 buckets per power of two (a bucket reads as its
// largest value, at most 1/32 too high).
type histogram map[int]int64

func bucketOf(us int64) int {
	if us < 64 {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 6
	return e*32 + int(us>>e)
}

func bucketTop(b int) int64 {
	if b < 64 {
		return int64(b)
	}
	e, m := b/32-1, int64(b%32+32)
	return (m+1)<<e - 1
}

func (h histogram) add(us int64) { h[bucketOf(us)]++ }

func (h histogram) merge(o histogram) {
	for b, n := range o {
		h[b] += n
	}
}

// quantile is the nearest-rank quantile q, as its bucket's top, or 0.
func (h histogram) quantile(q float64) int64 {
	var n int64
	buckets := make([]int, 0, len(h))
	for b, c := range h {
		n += c
		buckets = append(buckets, b)
	}
	if n == 0 {
		return 0
	}
	slices.Sort(buckets)
	rank, seen := int64(nearestRank(q, int(n))), int64(0)
	for _, b := range buckets {
		if seen += h[b]; seen > rank {
			return bucketTop(b)
		}
	}
	return bucketTop(buckets[len(buckets)-1])
}

func round2(f float64) float64   { return math.Round(f*100) / 100 }
func round3(f float64) float64   { return math.Round(f*1000) / 1000 }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
