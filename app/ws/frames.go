package ws

import (
	"encoding/json"

	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
)

// clientFrame is what a client may send: {"action":"ack","seq":N} with an
// optional "epoch".
type clientFrame struct {
	Action string `json:"action"`
	Seq    *int64 `json:"seq"`
	Epoch  string `json:"epoch"`
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

// errorFrame answers a frame the gateway does not accept; the session lives on.
type errorFrame struct {
	Event   string `json:"event"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (h *Hub) onMessage(s *melody.Session, msg []byte) {
	c := connOf(s)
	if c == nil {
		return
	}
	var f clientFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		c.reject("frame is not a JSON object")
		return
	}
	switch f.Action {
	case "ack":
		if f.Seq == nil || *f.Seq <= 0 {
			c.reject("ack needs a positive seq")
			return
		}
		if err := c.ack(f.Epoch, *f.Seq); err != nil {
			c.reject(app.ErrorMessage(err))
		}
	default:
		c.reject(`unknown action; the only client frame is {"action":"ack","seq":N}`)
	}
}

func (c *conn) reject(message string) {
	c.h.opts.Metrics.FrameRefused()
	b, _ := json.Marshal(errorFrame{Event: "error", Code: app.EInvalidArgument, Message: message})
	_ = c.s.Write(b)
}
