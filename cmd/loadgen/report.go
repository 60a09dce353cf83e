package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// deliveryReport compares what the gateway accepted with what the clients
// received.
type deliveryReport struct {
	Expected    int            `json:"expected"`   // (user, seq) the pusher got back
	Received    int            `json:"received"`   // data messages received, duplicates included
	Unique      int            `json:"unique"`     // distinct (user, seq) received
	Lost        int            `json:"lost"`       // expected (user, seq) never received
	Duplicated  int            `json:"duplicated"` // receipts beyond the first of a (user, seq)
	Unexpected  int            `json:"unexpected"` // received (user, seq) the pusher never got
	IDMismatch  int            `json:"id_mismatch"`
	Gaps        int64          `json:"gaps"`
	OutOfOrder  int64          `json:"out_of_order"`
	Reconnects  int64          `json:"reconnects"`
	DialErrors  int64          `json:"dial_errors"`
	Failed      int64          `json:"failed_users"`
	Events      map[string]int `json:"events,omitempty"`
	CloseCodes  map[string]int `json:"close_codes,omitempty"`
	LatencyMS   latencyStats   `json:"latency_ms"`       // from the send of the push request
	ScheduleMS  latencyStats   `json:"from_schedule_ms"` // from when the request was due
	LostSamples []string       `json:"lost_samples,omitempty"`
}

// latencyStats are publish-to-receive latencies of first receipts.
type latencyStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// userSeq names one message: a seq counts within its user's epoch.
type userSeq struct {
	user  int64
	epoch string
	seq   int64
}

// mergeDelivery builds the delivery report of one run.
func mergeDelivery(pushed []pushResult, clients []clientSummary) deliveryReport {
	var r deliveryReport
	r.Events, r.CloseCodes = map[string]int{}, map[string]int{}
	want := make(map[userSeq]string, len(pushed))
	for _, p := range pushed {
		want[userSeq{p.User, p.Epoch, p.Seq}] = p.ID
	}
	r.Expected = len(want)
	got := make(map[userSeq]int, len(pushed))
	var lat, due []int64
	for _, c := range clients {
		r.Gaps += c.Gaps
		r.OutOfOrder += c.OutOfOrder
		r.Reconnects += c.Reconnects
		r.DialErrors += c.DialErrors
		r.Failed += c.Failed
		for k, v := range c.Events {
			r.Events[k] += v
		}
		for k, v := range c.CloseCodes {
			r.CloseCodes[k] += v
		}
		for _, m := range c.Messages {
			r.Received++
			k := userSeq{m.User, m.Epoch, m.Seq}
			got[k]++
			if got[k] > 1 {
				r.Duplicated++
				continue
			}
			id, ok := want[k]
			if !ok {
				r.Unexpected++
				continue
			}
			if id != m.ID {
				r.IDMismatch++
			}
			if m.LatencyUS >= 0 {
				lat = append(lat, m.LatencyUS)
			}
			if m.DueUS >= 0 {
				due = append(due, m.DueUS)
			}
		}
	}
	r.Unique = len(got)
	for k := range want {
		if got[k] == 0 {
			r.Lost++
			if len(r.LostSamples) < 10 {
				r.LostSamples = append(r.LostSamples, fmt.Sprintf("user %d seq %d", k.user, k.seq))
			}
		}
	}
	slices.Sort(r.LostSamples)
	r.LatencyMS, r.ScheduleMS = latencies(lat), latencies(due)
	return r
}

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
		P999: q[3] / 1000, Max: q[4] / 1000, Mean: sum / float64(len(us)) / 1000}
}

// quantiles returns the nearest-rank quantiles qs of vs (sorted in place).
func quantiles(vs []int64, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(vs) == 0 {
		return out
	}
	slices.Sort(vs)
	for i, q := range qs {
		rank := int(q*float64(len(vs))+0.999999) - 1
		out[i] = float64(vs[min(max(rank, 0), len(vs)-1)])
	}
	return out
}

// printDelivery writes the human-readable part of scenario A.
func printDelivery(w io.Writer, p *pushReport, d deliveryReport) {
	fmt.Fprintf(w, "  pushes: planned %d messages in %d requests (batch %d), accepted %d, failed requests %d\n",
		p.Planned, p.Requests, p.Batch, p.Accepted, p.FailedReqs)
	for _, e := range p.ErrorSamples {
		fmt.Fprintf(w, "    push error: %s\n", e)
	}
	fmt.Fprintf(w, "  push rate: target %.0f msg/s, achieved %.1f msg/s over %.2fs; worst schedule lag %.1f ms; request p50 %.2f ms p99 %.2f ms max %.2f ms\n",
		p.TargetRate, p.Rate, float64(p.ElapsedMS)/1000, p.MaxLagMS, p.ReqP50MS, p.ReqP99MS, p.ReqMaxMS)
	fmt.Fprintf(w, "  delivery: expected %d, received %d (unique %d), lost %d, duplicated %d, unexpected %d, id mismatches %d\n",
		d.Expected, d.Received, d.Unique, d.Lost, d.Duplicated, d.Unexpected, d.IDMismatch)
	if len(d.LostSamples) > 0 {
		fmt.Fprintf(w, "    lost e.g. %s\n", strings.Join(d.LostSamples, ", "))
	}
	fmt.Fprintf(w, "  order: gaps %d, out of order %d; client reconnects %d, dial errors %d, users given up %d\n",
		d.Gaps, d.OutOfOrder, d.Reconnects, d.DialErrors, d.Failed)
	if len(d.CloseCodes) > 0 || len(d.Events) > 0 {
		fmt.Fprintf(w, "    session ends %v, other frames %v\n", d.CloseCodes, d.Events)
	}
	l := d.LatencyMS
	fmt.Fprintf(w, "  publish-to-receive latency (%d msgs): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f ms\n",
		l.Count, l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	l = d.ScheduleMS
	fmt.Fprintf(w, "  latency from the scheduled send time (counts pusher lag): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
		l.P50, l.P90, l.P99, l.P999, l.Max)
}
