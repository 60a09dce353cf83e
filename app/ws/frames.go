package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/olahol/melody"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/protocol"
)

// pongFrame answers a ping.
var pongFrame = mustJSON(protocol.Pong{Event: protocol.EventPong})

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// frameFrom returns the session's conn once its connected frame is out
// (a frame read earlier waits for it, so that connected is always the
// first frame the client gets), or nil when the session is closing.
func frameFrom(s *melody.Session) *conn {
	c := connOf(s)
	if c == nil || !c.waitStarted() {
		return nil
	}
	if c.reason.Load() != nil {
		return nil // closing: frames read meanwhile are ignored
	}
	return c
}

// waitStarted waits until the connected frame is out; false when the
// session closed first.
func (c *conn) waitStarted() bool {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return true
	}
	if c.ready == nil {
		c.ready = make(chan struct{})
	}
	ready := c.ready
	c.mu.Unlock()
	select {
	case <-ready:
		return true
	case <-c.done:
		return false
	}
}

// onBinary answers a binary frame with an error frame: the protocol is
// JSON text frames.
func (h *Hub) onBinary(s *melody.Session, _ []byte) {
	if c := frameFrom(s); c != nil && c.charge() {
		c.reject("binary frames are not accepted: send JSON text frames")
	}
}

// onMessage handles a client frame. Acks of what was delivered and a
// refresh with the session's own token cost nothing; every other frame is
// charged against the frame rate (charge), and one over it is dropped.
func (h *Hub) onMessage(s *melody.Session, msg []byte) {
	c := frameFrom(s)
	if c == nil {
		return
	}
	f, err := decodeFrame(msg)
	if err != nil {
		if c.charge() {
			c.reject(app.ErrorMessage(err))
		}
		return
	}
	switch f.Action {
	case protocol.ActionAck:
		c.onAck(f.Epoch, *f.Seq)
	case protocol.ActionRefresh:
		c.onRefresh(f.Token)
	case protocol.ActionPing:
		if c.charge() {
			_ = c.s.Write(pongFrame)
		}
	}
}

// decodeFrame parses and checks a client frame: a known action, and for
// an ack a positive seq and an epoch that could be one. Its errors are
// invalid_argument, with the text of the error frame.
func decodeFrame(msg []byte) (protocol.ClientFrame, error) {
	var f protocol.ClientFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		return f, app.Errorf(app.EInvalidArgument, "frame is not a JSON object")
	}
	switch f.Action {
	case protocol.ActionAck:
		if f.Seq == nil || *f.Seq <= 0 {
			return f, app.Errorf(app.EInvalidArgument, "ack needs a positive seq")
		}
		if err := app.CheckEpoch(f.Epoch); err != nil {
			return f, err
		}
	case protocol.ActionRefresh, protocol.ActionPing:
	default:
		return f, app.Errorf(app.EInvalidArgument, `unknown action; the client frames are {"action":"ack","seq":N}, {"action":"refresh","token":"JWT"} and {"action":"ping"}`)
	}
	return f, nil
}

// What an ack did (conn.ack).
type ackResult int

const (
	ackRaised  ackResult = iota // raised the session's acknowledged seq: free
	ackNothing                  // repeated, lower, or of another epoch: ignored
	ackUnsent                   // of a seq the session never sent
)

// onAck records an ack; only one that raises the acknowledged seq is free.
func (c *conn) onAck(epoch string, seq int64) {
	switch c.ack(epoch, seq) {
	case ackNothing:
		c.charge()
	case ackUnsent:
		if c.charge() {
			c.reject("ack of a seq that was not sent")
		}
	}
}

// ack records the client's acknowledgement of seq in epoch ("" = the
// session's): from now on only acks advance the delivered cursor. An ack
// of another epoch is stale (sent before a reset) and ignored.
func (c *conn) ack(epoch string, seq int64) ackResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != "" && epoch != c.epoch {
		return ackNothing
	}
	if seq > c.last {
		return ackUnsent
	}
	c.acked = true
	c.h.history.Advance(c.user, app.Position{Epoch: c.epoch, Seq: seq})
	if seq <= c.ackSeq {
		return ackNothing
	}
	c.ackSeq = seq
	return ackRaised
}

// tokenSeed hashes tokens, so that a session keeps 8 bytes of its token.
var tokenSeed = maphash.MakeSeed()

func tokenSum(token string) uint64 {
	if token == "" {
		return 0
	}
	return maphash.String(tokenSeed, token)
}

// onRefresh extends the session to the expiry of a new token of its user.
// The token the session has already (a caching token source hands it
// back) is answered with the unchanged expiry, the first time at no cost;
// any other is charged and verified, and never shortens the session.
func (c *conn) onRefresh(token string) {
	sum := tokenSum(token)
	c.mu.Lock()
	same, exp := sum != 0 && sum == c.token, c.expires
	free := same && !c.repeated
	c.repeated = c.repeated || same
	c.mu.Unlock()
	if !free && !c.charge() {
		return
	}
	if same && time.Now().Before(exp) {
		_ = c.s.Write(mustJSON(protocol.Refreshed{Event: protocol.EventRefreshed, Exp: exp.Unix()}))
		return
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, 2*time.Second)
	exp, err := c.h.opts.Auth.Refresh(ctx, c.user, token)
	cancel()
	if err != nil {
		c.refuse(err)
		return
	}
	exp, ok := c.extend(exp, sum)
	if !ok {
		c.refuse(app.Errorf(app.EFailedPrecondition, "the session's token has expired; reconnect with a new one"))
		return
	}
	_ = c.s.Write(mustJSON(protocol.Refreshed{Event: protocol.EventRefreshed, Exp: exp.Unix()}))
}

// charge counts a costly frame against the frame rate and reports whether
// it may be handled. The first frame over the rate is answered with an
// error frame saying when to send again; a client that sends another
// FrameRate frames before then is closed with 4029. Only the session's
// read goroutine calls it.
func (c *conn) charge() bool {
	retry, ok := c.allowFrame(time.Now())
	if ok {
		c.strikes = 0
		return true
	}
	c.strikes++
	switch {
	case c.strikes == 1:
		c.h.opts.Metrics.Limited(LimitFrames)
		c.h.opts.Metrics.FrameRefused()
		ms := (retry + time.Millisecond - 1).Milliseconds() // rounded up: a client waiting this long is let through
		_ = c.s.Write(mustJSON(protocol.Error{Event: protocol.EventError, Code: app.EResourceExhausted,
			Message: fmt.Sprintf("too many frames: at most %d pings, refreshes or other costly frames a second (acks of "+
				"delivered messages are free); this one was dropped, send it again after %d ms", c.h.opts.FrameRate, ms),
			Limit: protocol.LimitFrames, RetryAfterMS: ms}))
	case c.strikes > c.h.opts.FrameRate:
		c.evictWith(protocol.CloseRateLimited, ReasonRateLimited)
	}
	return false
}

func (c *conn) reject(message string) {
	c.refuse(app.Errorf(app.EInvalidArgument, "%s", message))
}

// refuse answers a client frame with an error frame of err's code and
// caller-safe message.
func (c *conn) refuse(err error) {
	c.h.opts.Metrics.FrameRefused()
	_ = c.s.Write(mustJSON(protocol.Error{Event: protocol.EventError, Code: app.ErrorCode(err), Message: app.ErrorMessage(err)}))
}
