package main

import (
	"fmt"
	"slices"
)

// pushResult is one message the gateway accepted: its identity (user,
// epoch, seq), the hash of its id and the schedule step it belongs to.
type pushResult struct {
	User   int64  `json:"u"`
	Epoch  string `json:"e"`
	Seq    int64  `json:"s"`
	IDHash uint32 `json:"h"`
	Step   int32  `json:"k"`
}

// msgKey names one message: a seq counts within its user's epoch.
type msgKey struct {
	user  int64
	epoch string
	seq   int64
}

// deliveryReport compares what the gateway accepted with what the clients
// received, message by message.
type deliveryReport struct {
	Expected     int            `json:"expected"`   // messages the gateway accepted
	Received     int            `json:"received"`   // data messages received, repeats included
	Unique       int            `json:"unique"`     // distinct messages received
	Lost         int            `json:"lost"`       // accepted, never received
	Duplicated   int            `json:"duplicated"` // receipts beyond the first of a message
	Unexpected   int            `json:"unexpected"` // received, never accepted
	IDMismatch   int            `json:"id_mismatch"`
	Gaps         int64          `json:"gaps"`
	OutOfOrder   int64          `json:"out_of_order"`
	Reconnects   int64          `json:"reconnects"`
	DialErrors   int64          `json:"dial_errors"`
	Failed       int64          `json:"failed_users"`
	Events       map[string]int `json:"events,omitempty"`
	CloseCodes   map[string]int `json:"close_codes,omitempty"`
	FromSchedule latencyStats   `json:"from_schedule_ms"` // receipt - scheduled send: counts API back-pressure
	FromSend     latencyStats   `json:"from_send_ms"`     // receipt - actual send
	LostSamples  []string       `json:"lost_samples,omitempty"`
	Steps        []stepDelivery `json:"-"`
}

// stepDelivery is the delivery of the messages of one schedule step.
type stepDelivery struct {
	Expected     int
	Unique       int
	Lost         int
	Duplicated   int
	FromSchedule latencyStats
}

// failures names the delivery checks that did not hold.
func (d deliveryReport) failures() []string {
	var out []string
	for _, c := range []struct {
		n    int
		what string
	}{{d.Lost, "lost"}, {d.Duplicated, "duplicated"}, {d.Unexpected, "unexpected"}, {d.IDMismatch, "id mismatches"}} {
		if c.n > 0 {
			out = append(out, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return out
}

// expectation is what the merge knows of an accepted message.
type expectation struct {
	idHash uint32
	step   int32
	got    int32
}

// mergeDelivery matches every accepted message with the clients' receipts
// by (user, epoch, seq). Latencies are those of first receipts.
func mergeDelivery(pushed []pushResult, clients []clientSummary) deliveryReport {
	r := deliveryReport{Events: map[string]int{}, CloseCodes: map[string]int{}}
	want := make(map[msgKey]*expectation, len(pushed))
	steps := 0
	for _, p := range pushed {
		want[msgKey{p.User, p.Epoch, p.Seq}] = &expectation{idHash: p.IDHash, step: p.Step}
		steps = max(steps, int(p.Step)+1)
	}
	r.Expected = len(want)
	r.Steps = make([]stepDelivery, steps)
	stepLat := make([][]int64, steps)
	unexpected := map[msgKey]int{}
	var fromSched, fromSend []int64
	for _, c := range clients {
		r.Gaps += c.Gaps
		r.OutOfOrder += c.OutOfOrder
		r.Duplicated += int(c.Duplicates) // the gateway sent them again; the client kept them from the app
		r.Reconnects += c.Reconnects
		r.DialErrors += c.DialErrors
		r.Failed += c.Failed
		for k, v := range c.Events {
			r.Events[k] += v
		}
		for k, v := range c.CloseCodes {
			r.CloseCodes[k] += v
		}
		for _, l := range c.Logs {
			for _, m := range l.Msgs {
				r.Received++
				k := msgKey{l.User, l.Epochs[m.epochIndex()], m.seq()}
				e, ok := want[k]
				if !ok {
					if unexpected[k]++; unexpected[k] > 1 {
						r.Duplicated++
					}
					continue
				}
				if e.got++; e.got > 1 {
					r.Duplicated++
					r.Steps[e.step].Duplicated++
					continue
				}
				if e.idHash != m.idHash() {
					r.IDMismatch++
				}
				if v := m.fromSchedule(); v >= 0 {
					fromSched = append(fromSched, v)
					stepLat[e.step] = append(stepLat[e.step], v)
				}
				if v := m.fromSend(); v >= 0 {
					fromSend = append(fromSend, v)
				}
			}
		}
	}
	r.Unexpected = len(unexpected)
	for k, e := range want {
		s := &r.Steps[e.step]
		s.Expected++
		if e.got > 0 {
			r.Unique++
			s.Unique++
			continue
		}
		r.Lost++
		s.Lost++
		if len(r.LostSamples) < 10 {
			r.LostSamples = append(r.LostSamples, fmt.Sprintf("user %d epoch %s seq %d", k.user, k.epoch, k.seq))
		}
	}
	r.Unique += len(unexpected)
	slices.Sort(r.LostSamples)
	for i := range r.Steps {
		r.Steps[i].FromSchedule = latencies(stepLat[i])
	}
	r.FromSchedule, r.FromSend = latencies(fromSched), latencies(fromSend)
	return r
}
