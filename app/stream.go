package app

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
}

// Envelope is one published notification as it travels to sessions: the
// routing fields read once from its stored form, and the bytes sent to
// clients as they are (one encoding shared by every session).
type Envelope struct {
	UserID int64
	Epoch  string
	Seq    int64
	TS     int64  // publish time, unix milliseconds (the Redis server's clock)
	Raw    []byte // the JSON frame: {"seq":N,"epoch":"E","ts":MS,...notification}
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
}
