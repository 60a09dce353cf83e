package grpcapi

import (
	"context"
	"encoding/json"

	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// errNoInbox answers the inbox methods of a server without an inbox.
var errNoInbox = app.Errorf(app.EUnavailable, "the inbox is not available on this node")

// inboxError keeps the inbox's own errors and makes any other (Redis
// down) UNAVAILABLE.
func inboxError(err error) error {
	if code := app.ErrorCode(err); code != app.EInternal {
		return err
	}
	return app.Errorf(app.EUnavailable, "the inbox is unavailable")
}

// ListInbox lists the caller's user's inbox, newest first.
func (h *house) ListInbox(ctx context.Context, req *housev1.ListInboxRequest) (*housev1.ListInboxReply, error) {
	if h.inbox == nil {
		return nil, errNoInbox
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	if req.GetLimit() < 0 {
		return nil, app.Errorf(app.EInvalidArgument, "limit must be positive")
	}
	if t := req.GetType(); t != 0 && (t < int32(app.MsgReservationCreated) || t > int32(app.MsgGenericPush)) {
		return nil, app.Errorf(app.EInvalidArgument, "type must be a message type, %d to %d", app.MsgReservationCreated, app.MsgGenericPush)
	}
	page, err := h.inbox.List(ctx, user, app.InboxQuery{Before: req.GetBefore(), Limit: int(req.GetLimit()),
		State: req.GetState(), Type: app.MessageType(req.GetType())})
	if err != nil {
		return nil, inboxError(err)
	}
	out := &housev1.ListInboxReply{Epoch: page.Epoch, HeadSeq: page.Head, Unseen: page.Unseen, Unread: page.Unread,
		NextCursor: page.NextCursor, Messages: make([]*housev1.InboxMessage, len(page.Items))}
	for i, it := range page.Items {
		var n struct {
			app.Notification
			TS int64 `json:"ts"`
		}
		_ = json.Unmarshal(it.Raw, &n) // stored by the publisher: it parses
		out.Messages[i] = &housev1.InboxMessage{Seq: it.Seq, Epoch: page.Epoch, Ts: n.TS, Id: n.ID, Type: int32(n.Type),
			Title: n.Title, Content: n.Content, Seen: it.Seen, Read: it.Read, Archived: it.Archived, Json: string(it.Raw)}
	}
	return out, nil
}

// MarkInbox marks messages of the caller's user's inbox.
func (h *house) MarkInbox(ctx context.Context, req *housev1.MarkInboxRequest) (*housev1.MarkInboxReply, error) {
	if h.inbox == nil {
		return nil, errNoInbox
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	res, err := h.inbox.Mark(ctx, user, app.InboxMark{State: req.GetState(), Epoch: req.GetEpoch(), All: req.GetAll(),
		Seq: app.GivenSeq(req.Seq), UpTo: app.GivenSeq(req.UpTo)})
	if err != nil {
		return nil, inboxError(err)
	}
	return &housev1.MarkInboxReply{Epoch: res.Epoch, HeadSeq: res.Head, Unseen: res.Unseen, Unread: res.Unread,
		Changed: res.Changed}, nil
}

// InboxCounts returns the caller's user's counts.
func (h *house) InboxCounts(ctx context.Context, req *housev1.InboxCountsRequest) (*housev1.InboxCountsReply, error) {
	if h.inbox == nil {
		return nil, errNoInbox
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	c, err := h.inbox.Counts(ctx, user)
	if err != nil {
		return nil, inboxError(err)
	}
	return &housev1.InboxCountsReply{Unseen: c.Unseen, Unread: c.Unread}, nil
}
