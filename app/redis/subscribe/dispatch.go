package subscribe

import (
	"context"
	"encoding/json"
	"time"

	"github.com/houseview/gateway/app/redis"
)

// deliver parses a message of a user channel and hands it on.
func (s *Subscriber) deliver(channel, payload string) {
	user, ok := s.keys.ChannelUser(channel)
	if !ok {
		return
	}
	if redis.IsControl(payload) {
		s.control(user, payload)
		return
	}
	env, ok := redis.ParseEnvelope(user, payload)
	if !ok {
		s.opts.Logger.Warn("dropping a message without the publisher's envelope", "user_id", user)
		if s.opts.Metrics != nil {
			s.opts.Metrics.MessageDropped(DropMalformed)
		}
		return
	}
	s.recv.Deliver(env)
}

// control acts on a control message of user's channel (redis.Control):
// the receiver closes sessions, and a disconnect is answered with how many
// it closed; a flush writes the user's cursor (Options.Cursors) and is
// answered once it is written.
func (s *Subscriber) control(user int64, payload string) {
	var m redis.Control
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		s.opts.Logger.Warn("ignoring a control message that does not parse", "user_id", user)
		return
	}
	switch m.Control {
	case redis.ControlDisconnect:
		n := s.recv.Revoke(user)
		if m.Reply != "" {
			go s.reply(user, m.Reply, n)
		}
	case redis.ControlEvict:
		s.recv.Evict(user, m.Session)
	case redis.ControlFlush:
		go s.flushCursor(user, m.Reply)
	default:
		s.opts.Logger.Warn("ignoring an unknown control message", "user_id", user, "control", m.Control)
	}
}

// flushCursor writes user's pending cursor advance and answers the flush
// control message: 1 when written (or none was pending), 0 when it failed.
func (s *Subscriber) flushCursor(user int64, reply string) {
	ok := 1
	if s.opts.Cursors != nil {
		ctx, cancel := context.WithTimeout(context.Background(), redis.ReplyTTL/2)
		err := s.opts.Cursors.FlushUser(ctx, user)
		cancel()
		if err != nil {
			s.opts.Logger.Warn("flushing a cursor on request failed", "user_id", user, "err", err)
			ok = 0
		}
	}
	if reply != "" {
		s.reply(user, reply, ok)
	}
}

// reply pushes this node's answer to a control message.
func (s *Subscriber) reply(user int64, id string, answer int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.conn.Answer(ctx, user, id, answer); err != nil {
		s.opts.Logger.Warn("answering a control message failed", "user_id", user, "err", err)
	}
}
