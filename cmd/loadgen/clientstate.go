package main

import (
	"hash/fnv"
	"net"
	"sync/atomic"
)

// arrivalOf is what the log keeps of a notification the client handed over.
type arrivalOf struct {
	Epoch  string
	Seq    int64
	ID     string
	Detail wireDetail
}

// wireDetail is the detail the pusher puts in every message.
type wireDetail struct {
	SchedNS int64  `json:"sched_ns"` // when the request was scheduled, unix ns
	SentNS  int64  `json:"sent_ns"`  // when it was actually sent
	Step    *int32 `json:"step"`     // the schedule step; absent in messages not from the pusher
}

// userLog is every data message one user received, in arrival order.
type userLog struct {
	User   int64      `json:"u"`
	Epochs []string   `json:"e"` // the epochs Msgs refer to, by index
	Msgs   []received `json:"m"`
}

// received is one data message as a summary stores it: [index of its
// epoch in userLog.Epochs, seq, FNV-32a of its id, µs from the scheduled
// send to the receipt, µs from the actual send] (-1: the detail had no time).
type received [5]int64

func (r received) epochIndex() int     { return int(r[0]) }
func (r received) seq() int64          { return r[1] }
func (r received) idHash() uint32      { return uint32(r[2]) }
func (r received) fromSchedule() int64 { return r[3] }
func (r received) fromSend() int64     { return r[4] }

// idHash is the FNV-32a of a message id: summaries and pushed results keep
// it instead of the id.
func idHash(id string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return h.Sum32()
}

// userState is one user of a clients process, owned by its goroutine
// until the process ends. Its pkg/client Client follows the user's stream
// (resume, resets, duplicates); the state checks what it hands over.
type userState struct {
	id        int64
	node      string
	epoch     string // the epoch of the user's stream the position belongs to
	last      int64  // the seq processed last (the resume position)
	connected bool
	log       userLog
	gaps, ooo int64
	dups      int64 // dropped by the client as duplicates
	unique    int64 // data messages above the position when they came
	repeats   int64 // data messages at or behind it
	compact   bool  // keep counts only, not log.Msgs (long runs)

	// conn is the TCP connection of the open session, for the churn.
	conn atomic.Pointer[net.Conn]
}

// arrival says how a data message relates to the user's position.
type arrival int

const (
	arrivalNext     arrival = iota // the seq after the position
	arrivalGap                     // further ahead: some seq was skipped
	arrivalRepeat                  // at or behind the position: a duplicate
	arrivalNewEpoch                // the first of an epoch (the stream was reset, or the first message)
)

// take records a data message received at now (unix ns) and moves the
// position; a repeat is recorded too (the merge counts duplicates exactly).
func (st *userState) take(f arrivalOf, now int64) arrival {
	a := arrivalNext
	switch {
	case f.Epoch != st.epoch:
		a = arrivalNewEpoch // the client handed the reset over; the epoch starts where the gateway said
		st.epoch, st.last = f.Epoch, f.Seq-1
	case f.Seq <= st.last:
		a = arrivalRepeat
		st.ooo++
	case f.Seq > st.last+1:
		a = arrivalGap
		st.gaps++
	}
	if a == arrivalRepeat {
		st.repeats++
	} else {
		st.unique++
	}
	st.last = max(st.last, f.Seq)
	if st.compact {
		return a
	}
	st.log.Msgs = append(st.log.Msgs, received{int64(st.epochIndex(f.Epoch)), f.Seq, int64(idHash(f.ID)),
		sinceNS(now, f.Detail.SchedNS), sinceNS(now, f.Detail.SentNS)})
	return a
}

// epochIndex is the index of epoch in the log's epochs, added if new.
func (st *userState) epochIndex(epoch string) int {
	for i := len(st.log.Epochs) - 1; i >= 0; i-- {
		if st.log.Epochs[i] == epoch {
			return i
		}
	}
	st.log.Epochs = append(st.log.Epochs, epoch)
	return len(st.log.Epochs) - 1
}

// sinceNS is now - then in µs, or -1 without then.
func sinceNS(now, then int64) int64 {
	if then <= 0 {
		return -1
	}
	return max(now-then, 0) / 1000
}

// stepLive is what a clients process saw of one schedule step so far: first
// receipts, repeats, first receipts later than the late threshold, and
// their latency from the scheduled send.
type stepLive struct {
	Received int64     `json:"n"`
	Repeats  int64     `json:"dup"`
	Late     int64     `json:"late"`
	Hist     histogram `json:"h"`
}

// statusLine is what a clients process prints on stdout, one JSON object a
// line: "progress" every interval, "ready" once every user got its
// connected frame, "done" after the summary is written.
type statusLine struct {
	Event      string            `json:"event"`
	Connected  int64             `json:"connected"` // users that got a connected frame at least once
	Live       int64             `json:"live"`      // sessions open now
	Received   int64             `json:"received"`  // data messages received (repeats included)
	Reconnects int64             `json:"reconnects"`
	Failed     int64             `json:"failed"`          // users that gave up
	Steps      map[int]*stepLive `json:"steps,omitempty"` // steps that changed since the last line, cumulative
}

// clientSummary is what a clients process writes at the end.
type clientSummary struct {
	Users      int            `json:"users"`
	Connected  int64          `json:"connected"`
	Reconnects int64          `json:"reconnects"`
	DialErrors int64          `json:"dial_errors"`
	Failed     int64          `json:"failed"`
	Received   int64          `json:"received"`
	Gaps       int64          `json:"gaps"`              // a seq more than one above the previous of the user
	OutOfOrder int64          `json:"out_of_order"`      // a seq not above the previous of the user
	Duplicates int64          `json:"client_duplicates"` // notifications the client dropped as already handed over
	Events     map[string]int `json:"events"`            // non-data frames other than connected
	CloseCodes map[string]int `json:"close_codes"`       // why sessions ended before the stop
	ConnectMS  int64          `json:"connect_ms"`        // time until every user was connected (0: never)
	Logs       []userLog      `json:"logs"`
	// Compact runs (-compact) keep each user's position and counts instead
	// of Logs; -churn runs count the sessions they closed.
	Positions []userPosition `json:"positions,omitempty"`
	Churned   int64          `json:"churned,omitempty"`
}

// userPosition is where one user's stream stood at the end of a compact
// run, and how many data messages it got.
type userPosition struct {
	User    int64  `json:"u"`
	Epoch   string `json:"e"`
	Last    int64  `json:"s"`   // the last seq processed
	Unique  int64  `json:"n"`   // messages above the position when they came
	Repeats int64  `json:"dup"` // messages at or behind it, handed over
	Dropped int64  `json:"cd"`  // resent by the gateway, dropped by the client
}
