package ws

import (
	"encoding/json"

	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
)

// clientFrame is what a client may send: {"action":"ack","seq":N}.
type clientFrame struct {
	Action string `json:"action"`
	Seq    *int64 `json:"seq"`
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
		c.mu.Lock()
		last := c.last
		c.mu.Unlock()
		if *f.Seq > last {
			c.reject("ack of a seq that was not sent")
			return
		}
		h.cursors.Advance(c.user, *f.Seq)
	default:
		c.reject(`unknown action; the only client frame is {"action":"ack","seq":N}`)
	}
}

func (c *conn) reject(message string) {
	c.h.stats.badFrames.Add(1)
	b, _ := json.Marshal(errorFrame{Event: "error", Code: app.EInvalidArgument, Message: message})
	_ = c.s.Write(b)
}
