package app

import (
	"strconv"
	"time"
)

// A user's stream is the ordered sequence of notifications published to
// that user. Each stream has an epoch: an id made when the stream is
// created (with its seq counter). Seqs count from 1 within an epoch. A
// stream that Redis lost (a restart without persistence, a flush, an
// evicted key, a failover to a replica that missed writes) comes back with
// a new epoch, so a seq is only ever compared with seqs of the same epoch.

// Position is a place in a user's stream: the last seq a client processed
// in an epoch. The zero value is "nothing yet, epoch unknown".
type Position struct {
	Epoch string
	Seq   int64
	// Muted is set in a publish's answer for a message its user muted in
	// the app (Message.Muted: stored for the list only; with Seq 0: not
	// stored). It is no part of the position elsewhere.
	Muted bool
}

// Envelope is one published notification as it travels to sessions: the
// routing fields read once from its stored form, and the bytes sent to
// clients as they are (one encoding shared by every session).
type Envelope struct {
	UserID int64
	Epoch  string
	Seq    int64
	TS     int64  // publish time, unix milliseconds (the Redis server's clock)
	Raw    []byte // the JSON frame: {"seq":N,"epoch":"E","ts":MS,...notification}; read-only (it may share a string's bytes)
	// Counts are the user's inbox counts right after this message was
	// published, when HasCounts (a live copy; a stored one has none).
	Counts    InboxCounts
	HasCounts bool
	// Muted: the user muted the message in the app and keeps it in the
	// list ("muted":true after ts). It is stored already seen and read and
	// never written to a session: a reader of the stream steps over it.
	Muted bool
}

// Resume is where a reader of a user's stream starts: after a position,
// or, FromCursor, after the user's delivered cursor (what no session of
// the user took yet, counting advances not written yet).
type Resume struct {
	FromCursor bool
	After      Position
}

// StreamPage is a page of a user's stored messages read from a position.
type StreamPage struct {
	// Epoch is the stream's current epoch and Head its newest seq.
	Epoch string
	Head  int64
	// After is the seq the page continues after: the position asked for,
	// or 0 when Reset, or the seq before the oldest stored message when
	// Truncated.
	After int64
	// Truncated: messages after the position asked for were trimmed or
	// expired; the page starts at the oldest stored one.
	Truncated bool
	// Reset: the position asked for belongs to another epoch (or is ahead
	// of the stream): the stream was lost and recreated, and the page
	// starts at its beginning.
	Reset bool
	// Messages follow After, oldest first, at most the page size.
	Messages []*Envelope
	// Counts are the user's inbox counts.
	Counts InboxCounts
	// States are the inbox states of Messages, one each, when the read
	// asked for them (nil otherwise).
	States []InboxStates
}

// SessionCheck is what a WebSocket session that starts learns with its
// first page, in the same round trip: whether it may go on.
type SessionCheck struct {
	// RevokedUntil: the user's new sessions are refused until then (zero:
	// they are not).
	RevokedUntil time.Time
	// Evicted: the session limit closed this session (it was the user's
	// oldest) before its node could tell it.
	Evicted bool
}

// MaxEpochLen bounds an epoch a client sends; the gateway's own are at
// most 13 characters of [0-9a-z].
const MaxEpochLen = 32

// ParsePosition reads a client's position from its text form: seq (named
// seqField in errors) a non-negative integer, epoch empty (not given) or 1
// to MaxEpochLen letters and digits.
func ParsePosition(seq, epoch, seqField string) (Position, error) {
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil || n < 0 {
		return Position{}, Errorf(EInvalidArgument, "%s must be a non-negative integer", seqField)
	}
	if err := CheckEpoch(epoch); err != nil {
		return Position{}, err
	}
	return Position{Epoch: epoch, Seq: n}, nil
}

// CheckEpoch refuses what cannot be an epoch; "" (not given) passes.
func CheckEpoch(epoch string) error {
	ok := len(epoch) <= MaxEpochLen
	for i := 0; ok && i < len(epoch); i++ {
		b := epoch[i]
		ok = b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	if !ok {
		return Errorf(EInvalidArgument, "epoch must be 1 to %d letters or digits", MaxEpochLen)
	}
	return nil
}

// StreamState is what Redis holds of one user's stream now, for operators:
// nothing is created or changed by reading it.
type StreamState struct {
	// Epoch is "" when the user has no stream (never published to, or
	// expired after history.ttl).
	Epoch string
	// Head is the newest seq, Delivered the delivered cursor (what the
	// user's sessions received, or acknowledged when they ack).
	Head, Delivered int64
	// Stored is how many messages are kept; Recent the newest of them,
	// oldest first.
	Stored int64
	Recent []*Envelope
}

// SessionPosition is where one live session is in its user's stream, as
// the node holding it knows it: only that node's memory has it.
type SessionPosition struct {
	Session string `json:"session"` // the registry's id ("" when the session is not counted)
	NodeID  string `json:"node_id"`
	SinceMS int64  `json:"since_ms"` // unix ms of its handshake
	Epoch   string `json:"epoch"`    // the stream the session follows ("" before its first read)
	Sent    int64  `json:"sent_seq"` // the highest seq handed to the session's send buffer
	// Acked is the highest seq the client acknowledged (or where it
	// resumed from) when Acks; otherwise what it was sent advances the
	// delivered cursor.
	Acked int64  `json:"acked_seq"`
	Acks  bool   `json:"acks"`  // the client acknowledges messages
	State string `json:"state"` // the session's state: "catching_up", "live" or "closed"
}

// LiveSession is one WebSocket session that the session registry counts.
type LiveSession struct {
	ID     string    // the registry's id
	NodeID string    // the node holding it
	Since  time.Time // when it was admitted
}
