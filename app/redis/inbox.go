package redis

import (
	"context"
	"fmt"

	"github.com/houseview/gateway/app"
)

// Inbox keeps the inbox states of users' stored messages in their stream
// hashes (stream.lua) and reads them back. Marks publish the new counts
// on the user's channel from inside the script (mark.lua), so that every
// node holding a session of the user tells it, in order with the user's
// messages.
type Inbox struct {
	c *Conn
}

var _ app.Inbox = (*Inbox)(nil)

// NewInbox returns the inbox on c.
func NewInbox(c *Conn) *Inbox { return &Inbox{c: c} }

// Page sizes of an inbox list.
const (
	DefaultInboxLimit = 50
	MaxInboxLimit     = 500
	inboxChunk        = 500 // stored messages read per round trip while filtering
)

// stateBits are mark.lua's bits of a state with those it implies.
var stateBits = map[string]int{app.StateSeen: 1, app.StateRead: 3, app.StateArchived: 7}

// Mark marks messages of user's inbox. A stream of another epoch (or none)
// is failed_precondition, a seq that is not stored not_found.
func (b *Inbox) Mark(ctx context.Context, user int64, m app.InboxMark) (app.Marked, error) {
	if err := m.Check(); err != nil {
		return app.Marked{}, err
	}
	mode, n := "seq", m.Seq
	switch {
	case m.UpTo > 0:
		mode, n = "up_to", m.UpTo
	case m.All:
		mode, n = "all", 0
	}
	res, err := b.c.RunScript(ctx, markScript, b.c.keys.streamKeys(user), m.Epoch, stateBits[m.State], mode, n,
		b.c.keys.Channel(user), b.c.publishCommand()).Slice()
	if err != nil {
		return app.Marked{}, fmt.Errorf("mark the inbox of user %d: %w", user, err)
	}
	status, _ := res[0].(string)
	switch status {
	case "ok":
		if len(res) == 6 {
			epoch, _ := res[1].(string)
			head, _ := res[2].(int64)
			unseen, _ := res[3].(int64)
			unread, _ := res[4].(int64)
			changed, _ := res[5].(int64)
			return app.Marked{Epoch: epoch, Head: head, InboxCounts: app.InboxCounts{Unseen: unseen, Unread: unread},
				Changed: changed == 1}, nil
		}
	case "stale":
		epoch, _ := res[1].(string)
		if epoch == "" {
			return app.Marked{}, app.Errorf(app.EFailedPrecondition, "the inbox is empty: there is nothing to mark")
		}
		return app.Marked{}, app.Errorf(app.EFailedPrecondition,
			"epoch %q is not the inbox's current epoch %q: the stream was reset, its messages and states are gone", m.Epoch, epoch)
	case "not_stored":
		oldest, _ := res[1].(int64)
		head, _ := res[2].(int64)
		if oldest > head {
			return app.Marked{}, app.Errorf(app.ENotFound, "seq %d is not stored: no message is", m.Seq)
		}
		return app.Marked{}, app.Errorf(app.ENotFound, "seq %d is not stored: the stored seqs are %d to %d", m.Seq, oldest, head)
	}
	return app.Marked{}, fmt.Errorf("mark the inbox of user %d: mark script replied %v", user, res)
}

// Counts returns user's inbox counts.
func (b *Inbox) Counts(ctx context.Context, user int64) (app.InboxCounts, error) {
	page, err := b.list(ctx, user, 0, 0)
	return page.InboxCounts, err
}

// List returns a page of user's inbox, newest first, reading the stored
// messages in chunks until the page is full or none is left.
func (b *Inbox) List(ctx context.Context, user int64, q app.InboxQuery) (app.InboxPage, error) {
	q.Limit = app.OrDefault(q.Limit, DefaultInboxLimit)
	if q.Limit > MaxInboxLimit {
		return app.InboxPage{}, app.Errorf(app.EInvalidArgument, "limit must be 1 to %d", MaxInboxLimit)
	}
	keep, err := inboxFilter(q.State)
	if err != nil {
		return app.InboxPage{}, err
	}
	var wantEpoch string
	var before int64
	if q.Before != "" {
		if wantEpoch, before, err = app.ParseInboxCursor(q.Before); err != nil {
			return app.InboxPage{}, err
		}
	}
	var out app.InboxPage
	for first := true; ; first = false {
		page, err := b.list(ctx, user, before, inboxChunk)
		if err != nil {
			return app.InboxPage{}, err
		}
		if first {
			if wantEpoch != "" && page.Epoch != wantEpoch {
				return app.InboxPage{}, app.Errorf(app.EFailedPrecondition,
					"the cursor is of epoch %q, the inbox is of %q now: the stream was reset; list again from the start", wantEpoch, page.Epoch)
			}
			out.Epoch, out.Head, out.InboxCounts = page.Epoch, page.Head, page.InboxCounts
		} else if page.Epoch != out.Epoch {
			return app.InboxPage{}, app.Errorf(app.EAborted, "the inbox was reset while it was listed; list again")
		}
		for _, it := range page.Items {
			if !keep(it.InboxStates) || (q.Type != 0 && app.Message{Payload: it.Raw}.Type() != q.Type) {
				continue
			}
			out.Items = append(out.Items, it)
			if len(out.Items) == q.Limit {
				if it.Seq > page.oldest {
					out.NextCursor = app.InboxCursor(out.Epoch, it.Seq)
				}
				return out, nil
			}
		}
		if len(page.Items) == 0 || !page.more() {
			return out, nil
		}
		before = page.Items[len(page.Items)-1].Seq
	}
}

// inboxFilter returns the test of a list's state filter.
func inboxFilter(state string) (func(app.InboxStates) bool, error) {
	switch state {
	case app.FilterInbox:
		return func(s app.InboxStates) bool { return !s.Archived }, nil
	case app.FilterUnseen:
		return func(s app.InboxStates) bool { return !s.Seen }, nil
	case app.FilterUnread:
		return func(s app.InboxStates) bool { return !s.Read }, nil
	case app.FilterRead:
		return func(s app.InboxStates) bool { return s.Read && !s.Archived }, nil
	case app.FilterArchived:
		return func(s app.InboxStates) bool { return s.Archived }, nil
	case app.FilterAll:
		return func(app.InboxStates) bool { return true }, nil
	}
	return nil, app.Errorf(app.EInvalidArgument, `state must be "unseen", "unread", "read", "archived" or "all" (default: not archived)`)
}

// listed is a chunk that list.lua read.
type listed struct {
	app.InboxPage
	oldest int64 // the oldest stored seq
}

// more reports whether messages older than the chunk's are stored.
func (l listed) more() bool {
	return len(l.Items) > 0 && l.Items[len(l.Items)-1].Seq > l.oldest
}

// list reads up to n stored messages of user below seq before (0: from
// the head), newest first, with their states.
func (b *Inbox) list(ctx context.Context, user int64, before int64, n int) (listed, error) {
	res, err := b.c.RunScript(ctx, listScript, b.c.keys.streamKeys(user), before, n).Slice()
	if err != nil {
		return listed{}, fmt.Errorf("list the inbox of user %d: %w", user, err)
	}
	epoch, _ := res[0].(string)
	if epoch == "" || len(res) < 9 {
		return listed{}, nil // no stream: an empty inbox
	}
	head, _ := res[1].(int64)
	unseen, _ := res[2].(int64)
	unread, _ := res[3].(int64)
	w := watermarks(res[4:7])
	top, _ := res[7].(int64)
	oldest, _ := res[8].(int64)
	rest := res[9:]
	msgs, flags := rest[:len(rest)/2], rest[len(rest)/2:]
	out := listed{InboxPage: app.InboxPage{Epoch: epoch, Head: head,
		InboxCounts: app.InboxCounts{Unseen: unseen, Unread: unread}, Items: make([]app.InboxItem, len(msgs))}, oldest: oldest}
	for i, m := range msgs {
		raw, _ := m.(string)
		bits, _ := flags[i].(int64)
		seq := top - int64(i)
		out.Items[i] = app.InboxItem{Seq: seq, Raw: []byte(raw), InboxStates: w.states(seq, bits)}
	}
	return out, nil
}
