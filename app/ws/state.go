package ws

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

var stateNames = [...]string{"subscribing", "opening", "catching up", "rereading", "live", "closed"}

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
