package app

import (
	"context"
	"strconv"
	"strings"
)

// A user's inbox is the user's stored stream seen as a list of
// notifications with states: seen (shown in a list), read (opened) and
// archived (put away: it leaves the inbox). Read implies seen; archived
// implies seen and read. The states are kept with the stored messages and
// go with them (trimmed, expired, or lost with the stream's epoch).

// The inbox states, as every transport names them.
const (
	StateSeen     = "seen"
	StateRead     = "read"
	StateArchived = "archived"
)

// InboxStates are the states of one stored message.
type InboxStates struct {
	Seen, Read, Archived bool
}

// InboxCounts are a user's stored messages not seen and not read.
type InboxCounts struct {
	Unseen int64 `json:"unseen"`
	Unread int64 `json:"unread"`
}

// InboxMark marks messages of a user's inbox with State (and the states it
// implies): one message (Seq), every stored one up to UpTo, or All of
// them. Epoch is the epoch the seqs belong to ("" for the current one).
type InboxMark struct {
	State string
	Epoch string
	Seq   int64
	UpTo  int64
	All   bool
}

// Check refuses a mark that is not exactly one of seq, up_to and all with a
// known state.
func (m InboxMark) Check() error {
	switch m.State {
	case StateSeen, StateRead, StateArchived:
	default:
		return Errorf(EInvalidArgument, `state must be "seen", "read" or "archived"`)
	}
	n := 0
	for _, set := range []bool{m.Seq != 0, m.UpTo != 0, m.All} {
		if set {
			n++
		}
	}
	if n != 1 {
		return Errorf(EInvalidArgument, "a mark names exactly one of seq, up_to and all")
	}
	if m.Seq < 0 || m.UpTo < 0 {
		return Errorf(EInvalidArgument, "seq and up_to must be positive")
	}
	return CheckEpoch(m.Epoch)
}

// GivenSeq reads an optional seq of a mark's request: 0 when not given,
// -1 when given and not positive (which Check refuses).
func GivenSeq(n *int64) int64 {
	switch {
	case n == nil:
		return 0
	case *n <= 0:
		return -1
	}
	return *n
}

// Marked is the inbox after a mark.
type Marked struct {
	Epoch string
	Head  int64
	InboxCounts
	Changed bool // some state changed (a repeated mark changes nothing)
}

// The state filters of an inbox list.
const (
	FilterInbox    = ""         // not archived (the default)
	FilterUnseen   = "unseen"   // not seen
	FilterUnread   = "unread"   // not read
	FilterRead     = "read"     // read, not archived
	FilterArchived = "archived" // archived
	FilterAll      = "all"      // every stored message
)

// InboxQuery asks for a page of a user's inbox, newest first.
type InboxQuery struct {
	Before string // a page's NextCursor ("": from the newest)
	Limit  int
	State  string // a Filter*
	Type   MessageType
}

// InboxItem is one stored message with its states: Raw is the message as
// stored ({"seq":N,"epoch":"E","ts":MS,...}).
type InboxItem struct {
	Seq int64
	Raw []byte
	InboxStates
}

// InboxPage is a page of a user's inbox, newest first.
type InboxPage struct {
	Epoch string
	Head  int64
	InboxCounts
	Items []InboxItem
	// NextCursor continues the list ("" when nothing older is stored).
	NextCursor string
}

// InboxCursor is the text of a position in the inbox list: below seq of
// epoch.
func InboxCursor(epoch string, seq int64) string {
	return strconv.FormatInt(seq, 10) + "-" + epoch
}

// ParseInboxCursor reads an InboxCursor.
func ParseInboxCursor(s string) (epoch string, seq int64, err error) {
	n, e, ok := strings.Cut(s, "-")
	seq, perr := strconv.ParseInt(n, 10, 64)
	if !ok || perr != nil || seq < 1 || e == "" || CheckEpoch(e) != nil {
		return "", 0, Errorf(EInvalidArgument, "before must be a next_cursor of a previous page")
	}
	return e, seq, nil
}

// Inbox is the one inbox service every transport calls: it validates.
type Inbox interface {
	List(ctx context.Context, user int64, q InboxQuery) (InboxPage, error)
	Mark(ctx context.Context, user int64, m InboxMark) (Marked, error)
	Counts(ctx context.Context, user int64) (InboxCounts, error)
}
