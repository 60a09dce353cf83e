package ws

import (
	"context"
	"encoding/json"
	"time"

	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
)

// clientFrame is what a client may send: {"action":"ack","seq":N} with an
// optional "epoch", {"action":"refresh","token":"JWT"}, or {"action":"ping"}
// (answered with pongFrame, so that a browser, which cannot see WebSocket
// pings, can tell a half-open connection).
type clientFrame struct {
	Action string `json:"action"`
	Seq    *int64 `json:"seq"`
	Epoch  string `json:"epoch"`
	Token  string `json:"token"`
}

// connected is the first frame of every session.
type connected struct {
	Event       string    `json:"event"`
	NodeID      string    `json:"node_id"`
	UserID      int64     `json:"user_id"`
	Epoch       string    `json:"epoch"`
	LastSeq     int64     `json:"last_seq"`
	HeadSeq     int64     `json:"head_seq"`
	Truncated   bool      `json:"truncated"`
	Reset       bool      `json:"reset"`
	HeartbeatMS int64     `json:"heartbeat_ms"`
	Reconnect   Reconnect `json:"reconnect"`
	Exp         int64     `json:"exp,omitempty"` // when the session's token expires, unix seconds (jwt mode)
}

// refreshed answers a refresh: the session now ends at Exp unless
// refreshed again.
type refreshed struct {
	Event string `json:"event"`
	Exp   int64  `json:"exp"`
}

// reset tells a live session that the user's stream was recreated under a
// new epoch (Redis lost the old one): what the client stored for the old
// epoch is void, and the new epoch's messages after LastSeq follow.
type reset struct {
	Event     string `json:"event"`
	Epoch     string `json:"epoch"`
	LastSeq   int64  `json:"last_seq"`
	HeadSeq   int64  `json:"head_seq"`
	Truncated bool   `json:"truncated"`
}

// pongFrame answers a ping.
var pongFrame = []byte(`{"event":"pong"}`)

// errorFrame answers a frame the gateway does not accept; the session lives on.
type errorFrame struct {
	Event   string `json:"event"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// frameFrom returns the session's conn if a frame of it is to be handled:
// not while closing, and not over the frame rate (which closes it).
func frameFrom(s *melody.Session) *conn {
	c := connOf(s)
	if c == nil || c.reason.Load() != nil {
		return nil // closing: frames read meanwhile are ignored
	}
	if !c.allowFrame(time.Now()) {
		c.h.opts.Metrics.Limited(LimitFrames)
		c.evict(CloseRateLimited, ReasonRateLimited, "rate limited: too many frames")
		return nil
	}
	return c
}

// onBinary answers a binary frame with an error frame: the protocol is
// JSON text frames.
func (h *Hub) onBinary(s *melody.Session, _ []byte) {
	if c := frameFrom(s); c != nil {
		c.reject("binary frames are not accepted: send JSON text frames")
	}
}

func (h *Hub) onMessage(s *melody.Session, msg []byte) {
	c := frameFrom(s)
	if c == nil {
		return
	}
	f, err := decodeFrame(msg)
	if err != nil {
		c.reject(app.ErrorMessage(err))
		return
	}
	switch f.Action {
	case "ack":
		if err := c.ack(f.Epoch, *f.Seq); err != nil {
			c.reject(app.ErrorMessage(err))
		}
	case "refresh":
		c.refresh(f.Token)
	case "ping":
		_ = c.s.Write(pongFrame)
	}
}

// decodeFrame parses and checks a client frame: a known action, and for
// an ack a positive seq and an epoch that could be one. Its errors are
// invalid_argument, with the text of the error frame.
func decodeFrame(msg []byte) (clientFrame, error) {
	var f clientFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		return f, app.Errorf(app.EInvalidArgument, "frame is not a JSON object")
	}
	switch f.Action {
	case "ack":
		if f.Seq == nil || *f.Seq <= 0 {
			return f, app.Errorf(app.EInvalidArgument, "ack needs a positive seq")
		}
		if err := app.CheckEpoch(f.Epoch); err != nil {
			return f, err
		}
	case "refresh", "ping":
	default:
		return f, app.Errorf(app.EInvalidArgument, `unknown action; the client frames are {"action":"ack","seq":N}, {"action":"refresh","token":"JWT"} and {"action":"ping"}`)
	}
	return f, nil
}

// refresh extends the session to the expiry of a new token of its user;
// anything else is answered with an error frame and changes nothing.
func (c *conn) refresh(token string) {
	ctx, cancel := context.WithTimeout(c.h.ctx, 2*time.Second)
	exp, err := c.h.opts.Auth.Refresh(ctx, c.user, token)
	cancel()
	if err != nil {
		c.refuse(err)
		return
	}
	if !c.extend(exp) {
		c.refuse(app.Errorf(app.EFailedPrecondition, "the session's token has expired; reconnect with a new one"))
		return
	}
	b, _ := json.Marshal(refreshed{Event: "refreshed", Exp: exp.Unix()})
	_ = c.s.Write(b)
}

func (c *conn) reject(message string) {
	c.refuse(app.Errorf(app.EInvalidArgument, "%s", message))
}

// refuse answers a client frame with an error frame of err's code and
// caller-safe message.
func (c *conn) refuse(err error) {
	c.h.opts.Metrics.FrameRefused()
	b, _ := json.Marshal(errorFrame{Event: "error", Code: app.ErrorCode(err), Message: app.ErrorMessage(err)})
	_ = c.s.Write(b)
}
