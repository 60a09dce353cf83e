package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// MessageReader reads users' stored streams (see redis.Streams).
type MessageReader interface {
	// ReadStates returns up to limit stored messages of user from a resume
	// point, with their inbox states.
	ReadStates(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error)
	// Advance raises user's delivered cursor to pos.
	Advance(user int64, pos app.Position)
}

// Page sizes of GET /api/messages.
const (
	DefaultMessagesLimit = 100
	MaxMessagesLimit     = 1000
)

// messages serves GET /api/messages?after=<seq>&epoch=<epoch>&limit=N: the
// user's stored messages after a position, oldest first, as the WebSocket
// sends them. after defaults to 0 (everything stored). Asking for messages
// after seq N of the current epoch acknowledges 1..N (the user's delivered
// cursor moves, as with a WebSocket ack).
func (h *handler) messages(c *gin.Context) {
	q := c.Request.URL.Query()
	var claimed int64
	if v := q.Get("user_id"); v != "" {
		var err error
		if claimed, err = app.ParseUserID(v, "user_id"); err != nil {
			h.fail(c, err)
			return
		}
	}
	user, err := callerOf(c).Actor(claimed, "user_id")
	if err != nil {
		h.fail(c, err)
		return
	}
	after := q.Get("after")
	if after == "" {
		after = "0"
	}
	from, err := app.ParsePosition(after, q.Get("epoch"), "after")
	if err != nil {
		h.fail(c, err)
		return
	}
	limit := DefaultMessagesLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > MaxMessagesLimit {
			h.fail(c, app.Errorf(app.EInvalidArgument, "limit must be 1 to %d", MaxMessagesLimit))
			return
		}
	}
	if err := h.opts.Auth.Admit(c.Request.Context(), user); err != nil {
		h.fail(c, err) // a revoked user polls no more than it connects
		return
	}
	page, err := h.opts.Messages.ReadStates(c.Request.Context(), user, app.Resume{After: from}, limit)
	if err != nil {
		if c.Request.Context().Err() == nil {
			h.log.WarnContext(c.Request.Context(), "stored messages read failed", "err", err.Error())
			err = app.Errorf(app.EUnavailable, "stored messages are unavailable")
		}
		h.fail(c, err)
		return
	}
	if from.Epoch == page.Epoch && from.Seq > 0 && !page.Reset {
		h.opts.Messages.Advance(user, app.Position{Epoch: page.Epoch, Seq: from.Seq})
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", messagesReply(user, page))
}

// messagesReply encodes a page; the messages are the stored frames as
// they are (no decoding and encoding again) with their inbox states added.
func messagesReply(user int64, p app.StreamPage) []byte {
	last := p.After
	if n := len(p.Messages); n > 0 {
		last = p.Messages[n-1].Seq
	}
	var b bytes.Buffer
	// The epoch is letters and digits only: nothing to escape.
	fmt.Fprintf(&b, `{"user_id":%d,"epoch":"%s","head_seq":%d,"after":%d,"truncated":%t,"reset":%t,"more":%t,"unseen":%d,"unread":%d,"messages":[`,
		user, p.Epoch, p.Head, p.After, p.Truncated, p.Reset, last < p.Head, p.Counts.Unseen, p.Counts.Unread)
	for i, m := range p.Messages {
		if i > 0 {
			b.WriteByte(',')
		}
		if i < len(p.States) {
			writeWithStates(&b, m.Raw, p.States[i])
		} else {
			b.Write(m.Raw)
		}
	}
	b.WriteString("]}")
	return b.Bytes()
}
