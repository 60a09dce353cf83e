package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
)

// listInbox serves GET /api/inbox?state=&type=&limit=&before=: the user's
// stored messages with their states, newest first.
func (h *handler) listInbox(c *gin.Context) {
	user, err := subjectUser(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	q := app.InboxQuery{Before: c.Query("before"), State: c.Query("state")}
	if v := c.Query("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			h.fail(c, app.Errorf(app.EInvalidArgument, "limit must be a positive integer"))
			return
		}
	}
	if v := c.Query("type"); v != "" {
		t, err := strconv.Atoi(v)
		if err != nil || t < int(app.MsgReservationCreated) || t > int(app.MsgGenericPush) {
			h.fail(c, app.Errorf(app.EInvalidArgument, "type must be a message type, %d to %d", app.MsgReservationCreated, app.MsgGenericPush))
			return
		}
		q.Type = app.MessageType(t)
	}
	page, err := h.opts.Inbox.List(c.Request.Context(), user, q)
	if err != nil {
		h.fail(c, h.unavailable(c, err, "the inbox"))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", inboxReply(user, page))
}

// inboxReply encodes a page: each stored message as it is, with its states
// added.
func inboxReply(user int64, p app.InboxPage) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"user_id":%d,"epoch":"%s","head_seq":%d,"unseen":%d,"unread":%d,"next_cursor":%s,"messages":[`,
		user, p.Epoch, p.Head, p.Unseen, p.Unread, strconv.Quote(p.NextCursor))
	for i, it := range p.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		writeWithStates(&b, it.Raw, it.InboxStates)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// writeWithStates writes a stored message (a JSON object) with its inbox
// states as its last fields.
func writeWithStates(b *bytes.Buffer, raw []byte, s app.InboxStates) {
	b.Write(raw[:len(raw)-1])
	fmt.Fprintf(b, `,"seen":%t,"read":%t,"archived":%t}`, s.Seen, s.Read, s.Archived)
}

// markInbox serves POST /api/inbox/mark: {"state","seq"|"up_to"|"all",
// "epoch"}; it answers the counts after the mark.
func (h *handler) markInbox(c *gin.Context) {
	var b reqbody.Mark
	if err := decodeJSON(c, h.opts.MaxBodyBytes, &b, false); err != nil {
		h.fail(c, err)
		return
	}
	user, err := callerOf(c).Actor(b.UserID, "user_id")
	if err != nil {
		h.fail(c, err)
		return
	}
	m := app.InboxMark{State: b.State, Epoch: b.Epoch, All: b.All, Seq: app.GivenSeq(b.Seq), UpTo: app.GivenSeq(b.UpTo)}
	res, err := h.opts.Inbox.Mark(c.Request.Context(), user, m)
	if err != nil {
		h.fail(c, h.unavailable(c, err, "the inbox"))
		return
	}
	c.JSON(http.StatusOK, gin.H{"user_id": user, "epoch": res.Epoch, "head_seq": res.Head, "unseen": res.Unseen,
		"unread": res.Unread, "changed": res.Changed})
}

// inboxCounts serves GET /api/inbox/counts.
func (h *handler) inboxCounts(c *gin.Context) {
	user, err := subjectUser(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	counts, err := h.opts.Inbox.Counts(c.Request.Context(), user)
	if err != nil {
		h.fail(c, h.unavailable(c, err, "the inbox"))
		return
	}
	c.JSON(http.StatusOK, gin.H{"user_id": user, "unseen": counts.Unseen, "unread": counts.Unread})
}

// unavailable turns an error that is not the service's own (Redis down)
// into a 503 after logging it.
func (h *handler) unavailable(c *gin.Context, err error, what string) error {
	if code := app.ErrorCode(err); code != "" && code != app.EInternal {
		return err
	}
	if c.Request.Context().Err() == nil {
		h.log.WarnContext(c.Request.Context(), what+" failed", "err", err.Error())
	}
	return app.Errorf(app.EUnavailable, "%s is unavailable", what)
}
