package redis

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Control messages travel on a user's channel, like notifications, to the
// nodes that hold sessions of that user (exactly the nodes subscribed to
// it). They are never stored and have no seq: they start with
// {"control": where every notification starts with {"seq":.
const controlPrefix = `{"control":`

// The kinds of control message.
const (
	controlDisconnect = "disconnect" // close every session of the user; answer the count on Reply
	controlEvict      = "evict"      // close the session named Session (too many sessions)
)

// controlMessage is a control message on a user's channel.
type controlMessage struct {
	Control string `json:"control"`
	Reply   string `json:"reply,omitempty"`   // the id of the Replies list to answer on
	Session string `json:"session,omitempty"` // a session id (SessionRegistry)
}

// isControl reports whether payload is a control message.
func isControl(payload string) bool { return strings.HasPrefix(payload, controlPrefix) }

func (m controlMessage) payload() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// replyTTL bounds how long a Replies list lives: answers that come after
// the asker stopped waiting expire with it.
const replyTTL = 10 * time.Second

// control acts on a control message of user's channel: the receiver closes
// sessions, and a disconnect is answered with how many it closed.
func (s *dispatch) control(user int64, payload string) {
	var m controlMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		s.opts.Logger.Warn("ignoring a control message that does not parse", "user_id", user)
		return
	}
	switch m.Control {
	case controlDisconnect:
		n := s.recv.Revoke(user)
		if m.Reply != "" {
			go s.reply(user, m.Reply, n)
		}
	case controlEvict:
		s.recv.Evict(user, m.Session)
	default:
		s.opts.Logger.Warn("ignoring an unknown control message", "user_id", user, "control", m.Control)
	}
}

// reply pushes this node's answer to a control message.
func (s *dispatch) reply(user int64, id string, closed int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	key := s.keys.Replies(user, id)
	pipe := s.rdb.Pipeline()
	pipe.RPush(ctx, key, closed)
	pipe.PExpire(ctx, key, replyTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		s.opts.Logger.Warn("answering a disconnect failed", "user_id", user, "err", err)
	}
}
