package ws

import (
	"github.com/houseview/gateway/app"
)

// state is where a session is in its life. conn.to is the only place that
// changes it.
//
//	subscribing -> opening -> catchingUp <-> live
//	                  |            ^  |
//	                  +--> rereading <+
//	any -> closed
//
// While it is catching (every state before live) live messages only raise
// maxSeen: the catch-up goroutine writes them from the stored stream.
type state uint8

const (
	// subscribing: the node subscribes to the user's channel.
	subscribing state = iota
	// opening: subscribed; the first page is being read and the connected
	// frame is not sent yet.
	opening
	// catchingUp: the catch-up goroutine copies the stored stream into the
	// send buffer.
	catchingUp
	// rereading: catching up, and the stored stream must be read once
	// more before going live: something may be missing from what was read
	// (a live message of another epoch, a gap, a full buffer, a restored
	// subscription).
	rereading
	// live: messages from the subscription are written as they come.
	live
	// closed: the session ended.
	closed
)

var stateNames = [...]string{subscribing: "subscribing", opening: "opening", catchingUp: "catching_up",
	rereading: "rereading", live: "live", closed: "closed"}

// String is the state's name in app.SessionPosition.State.
func (s state) String() string { return stateNames[s] }

// catching reports whether the stored stream is being (or is about to be)
// read: live messages are not written meanwhile.
func (s state) catching() bool { return s < live }

// subscribed reports whether a session in s holds the node's subscription
// to its user's channel.
func (s state) subscribed() bool { return s != subscribing && s != closed }

// next lists the moves each state may make (closed is always allowed).
var next = [...][]state{
	subscribing: {opening},
	opening:     {catchingUp, rereading},
	catchingUp:  {rereading, live},
	rereading:   {catchingUp},
	live:        {catchingUp},
}

// may reports whether s may move to t.
func (s state) may(t state) bool {
	if s == closed {
		return false
	}
	if t == closed {
		return true
	}
	for _, n := range next[s] {
		if n == t {
			return true
		}
	}
	return false
}

// sentQueue holds the data messages in melody's send buffer, oldest first,
// so that melody's "sent" callback finds the message it wrote without
// parsing it again. Its ring is allocated on the first write.
type sentQueue struct {
	ring []*app.Envelope
	head int
	n    int
}

func (q *sentQueue) push(env *app.Envelope, size int) {
	if q.ring == nil {
		q.ring = make([]*app.Envelope, size)
	}
	q.ring[(q.head+q.n)%len(q.ring)] = env
	q.n++
}

// pop removes and returns the oldest message if frame is its bytes (melody
// writes in order); a frame that is not is a control frame: nil.
func (q *sentQueue) pop(frame []byte) *app.Envelope {
	if q.n == 0 || len(frame) == 0 {
		return nil
	}
	env := q.ring[q.head]
	if len(env.Raw) == 0 || &env.Raw[0] != &frame[0] {
		return nil
	}
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return env
}
