// Package protocol is the gateway's WebSocket protocol, written once: every
// frame a server or a client sends, every close code with what it means and
// what a client does about it, the token refresh rule and the limits a
// client must stay within. The gateway (app/ws), the Go client
// (pkg/client) and, through generated tables, the JavaScript client and
// docs/protocol.md all follow it. It depends on nothing but the standard
// library.
package protocol

// Version is the protocol version: a later one adds fields (clients ignore
// fields they do not know) and never changes the meaning of one.
const Version = 1

// The event of every control frame the server sends ("event" field).
// Notifications have no event: they have a seq.
const (
	EventConnected = "connected" // always the first frame of a session
	EventReset     = "reset"     // the user's stream has a new epoch
	EventRefreshed = "refreshed" // answers a refresh
	EventPong      = "pong"      // answers a ping
	EventError     = "error"     // answers a frame the server does not accept
	EventInbox     = "inbox"     // the user's inbox counts changed (a mark or a new message)
)

// The action of every frame a client may send ("action" field).
const (
	ActionAck     = "ack"     // {"action":"ack","seq":N[,"epoch":E]}
	ActionRefresh = "refresh" // {"action":"refresh","token":JWT}
	ActionPing    = "ping"    // {"action":"ping"}
	ActionMark    = "mark"    // {"action":"mark","state":S,"seq":N|"up_to":N|"all":true[,"epoch":E]}
)

// The inbox states a mark sets: read implies seen, archived implies seen
// and read (an archived message leaves the inbox).
const (
	StateSeen     = "seen"
	StateRead     = "read"
	StateArchived = "archived"
)

// Reconnect is the backoff the server advises in its connected frame: wait
// min(MaxMS, BaseMS·2^attempt) scaled by a random factor in [1-Jitter, 1].
type Reconnect struct {
	BaseMS int64   `json:"base_ms"`
	MaxMS  int64   `json:"max_ms"`
	Jitter float64 `json:"jitter"`
}

// DefaultReconnect is the advice a client follows before any connected
// frame told it the server's.
var DefaultReconnect = Reconnect{BaseMS: 500, MaxMS: 30000, Jitter: 0.5}

// Connected is the first frame of every session.
type Connected struct {
	Event       string    `json:"event"` // EventConnected
	NodeID      string    `json:"node_id"`
	UserID      int64     `json:"user_id"`
	Epoch       string    `json:"epoch"`
	LastSeq     int64     `json:"last_seq"` // the seq the replay continues after
	HeadSeq     int64     `json:"head_seq"` // the user's newest seq now
	Truncated   bool      `json:"truncated"`
	Reset       bool      `json:"reset"`
	HeartbeatMS int64     `json:"heartbeat_ms"`
	Reconnect   Reconnect `json:"reconnect"`
	Exp         int64     `json:"exp,omitempty"` // unix seconds the session's token expires at (jwt mode)
	// Unseen and Unread count the user's stored messages not seen and not
	// read.
	Unseen int64 `json:"unseen"`
	Unread int64 `json:"unread"`
}

// Reset tells a live session that the user's stream was recreated under a
// new epoch: what the client kept for the old epoch is void, and the new
// epoch's messages after LastSeq follow.
type Reset struct {
	Event     string `json:"event"` // EventReset
	Epoch     string `json:"epoch"`
	LastSeq   int64  `json:"last_seq"`
	HeadSeq   int64  `json:"head_seq"`
	Truncated bool   `json:"truncated"`
	Unseen    int64  `json:"unseen"` // the new epoch's inbox counts
	Unread    int64  `json:"unread"`
}

// Inbox tells every session of the user, on every node, the user's inbox
// counts after a mark or a new message.
type Inbox struct {
	Event  string `json:"event"` // EventInbox
	Unseen int64  `json:"unseen"`
	Unread int64  `json:"unread"`
}

// Refreshed answers a refresh: the session now ends at Exp unless
// refreshed again.
type Refreshed struct {
	Event string `json:"event"` // EventRefreshed
	Exp   int64  `json:"exp"`
}

// Pong answers a ping.
type Pong struct {
	Event string `json:"event"` // EventPong
}

// Error answers a client frame the server does not accept; the session
// lives on. Limit and RetryAfterMS are set when a limit refused the frame
// (LimitFrames): the client may send such frames again after that long.
type Error struct {
	Event        string `json:"event"` // EventError
	Code         string `json:"code"`  // a gRPC-style code: invalid_argument, resource_exhausted...
	Message      string `json:"message"`
	Limit        string `json:"limit,omitempty"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

// Notification is a message of the user's stream: (Epoch, Seq) is its
// position. Detail and fields this version does not name travel as they
// are.
type Notification struct {
	Seq           int64  `json:"seq"`
	Epoch         string `json:"epoch"`
	TS            int64  `json:"ts"` // publish time, unix ms (the server's Redis clock)
	ID            string `json:"id"`
	Type          int    `json:"type"`
	UserID        int64  `json:"user_id"`
	ReservationID int64  `json:"reservation_id,omitempty"`
	Title         string `json:"title"`
	Content       string `json:"content"`
	Timestamp     int64  `json:"timestamp"`
}

// ServerFrame is any frame the server sends, for a client to decode once:
// a control frame (Event set) or a notification (Seq set).
type ServerFrame struct {
	Event string `json:"event"`
	// error
	Code         string `json:"code"`
	Message      string `json:"message"`
	Limit        string `json:"limit"`
	RetryAfterMS int64  `json:"retry_after_ms"`
	// connected, reset, refreshed
	NodeID      string    `json:"node_id"`
	LastSeq     int64     `json:"last_seq"`
	HeadSeq     int64     `json:"head_seq"`
	Truncated   bool      `json:"truncated"`
	Reset       bool      `json:"reset"`
	Exp         int64     `json:"exp"`
	HeartbeatMS int64     `json:"heartbeat_ms"`
	Reconnect   Reconnect `json:"reconnect"`
	// connected, reset, inbox
	Unseen int64 `json:"unseen"`
	Unread int64 `json:"unread"`
	// notifications (UserID and Epoch are also those of connected and reset)
	Notification
}

// Ack acknowledges every message of Epoch up to Seq. Only the highest ack
// matters: a client may ack every message or batch them.
type Ack struct {
	Action string `json:"action"` // ActionAck
	Seq    int64  `json:"seq"`
	Epoch  string `json:"epoch,omitempty"`
}

// Refresh extends the session to the expiry of a new token of its user.
type Refresh struct {
	Action string `json:"action"` // ActionRefresh
	Token  string `json:"token"`
}

// Mark marks messages of the user's inbox with State (and the states it
// implies): the message Seq, every stored one up to UpTo, or All of them,
// exactly one of the three. Epoch is the one the seqs belong to (omitted:
// the session's). Every session of the user then gets an Inbox frame.
type Mark struct {
	Action string `json:"action"` // ActionMark
	State  string `json:"state"`
	Seq    int64  `json:"seq,omitempty"`
	UpTo   int64  `json:"up_to,omitempty"`
	All    bool   `json:"all,omitempty"`
	Epoch  string `json:"epoch,omitempty"`
}

// Ping asks for a Pong.
type Ping struct {
	Action string `json:"action"` // ActionPing
}

// ClientFrame is any frame a client sends, for the server to decode once.
// Seq is a pointer so that an ack without one is told from seq 0.
type ClientFrame struct {
	Action string `json:"action"`
	Seq    *int64 `json:"seq"`
	Epoch  string `json:"epoch"`
	Token  string `json:"token"`
	// mark
	State string `json:"state"`
	UpTo  *int64 `json:"up_to"`
	All   bool   `json:"all"`
}
