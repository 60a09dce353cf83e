package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

// Control messages travel on a user's channel, like notifications, to the
// nodes that hold sessions of that user (exactly the nodes subscribed to
// it). They are never stored and have no seq: they start with
// {"control": where every notification starts with {"seq":.
const controlPrefix = `{"control":`

// The kinds of control message.
const (
	ControlDisconnect = "disconnect" // close every session of the user; answer the count on Reply
	ControlEvict      = "evict"      // close the session named Session (too many sessions)
	ControlFlush      = "flush"      // write the user's pending cursor advance now; answer 1 (0: it failed) on Reply
	ControlPositions  = "positions"  // answer the JSON array of the user's app.SessionPosition on this node on Reply
	// ControlInbox carries the user's inbox counts after a mark (mark.lua
	// publishes it, in order with the user's messages).
	ControlInbox = "inbox"
)

// Control is a control message on a user's channel.
type Control struct {
	Control string `json:"control"`
	Reply   string `json:"reply,omitempty"`   // the id of the Replies list to answer on
	Session string `json:"session,omitempty"` // a session id (coord.SessionRegistry)
	// Unseen and Unread are the counts of an inbox message.
	Unseen int64 `json:"unseen,omitempty"`
	Unread int64 `json:"unread,omitempty"`
}

// IsControl reports whether payload is a control message.
func IsControl(payload string) bool { return strings.HasPrefix(payload, controlPrefix) }

// Payload is m as published.
func (m Control) Payload() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// ReplyTTL bounds how long a Replies list lives: answers that come after
// the asker stopped waiting expire with it.
const ReplyTTL = 10 * time.Second

// Answer pushes this node's answer to user's control message of Reply id:
// a count (ints are sent in decimal) or a text.
func (c *Conn) Answer(ctx context.Context, user int64, id string, answer any) error {
	key := c.keys.Replies(user, id)
	pipe := c.rdb.Pipeline()
	pipe.RPush(ctx, key, answer)
	pipe.PExpire(ctx, key, ReplyTTL)
	_, err := pipe.Exec(ctx)
	return err
}

// Ask publishes a control message (m with a fresh Reply) on user's channel
// and reads the answers of the nodes that received it (those holding
// sessions of the user: the publish says how many) until each answered or
// wait passed. It returns how many nodes received it and the answers. Its
// BLPOPs use a client of their own (Open): a burst of asks never parks the
// connections that publishes and reads share.
func (c *Conn) Ask(ctx context.Context, user int64, m Control, wait time.Duration) (int, []int, error) {
	nodes, texts, err := c.AskText(ctx, user, m, wait)
	answers := make([]int, len(texts))
	for i, t := range texts {
		answers[i], _ = strconv.Atoi(t)
	}
	return nodes, answers, err
}

// AskText is Ask for answers that are texts.
func (c *Conn) AskText(ctx context.Context, user int64, m Control, wait time.Duration) (int, []string, error) {
	m.Reply = Token()
	replies := c.keys.Replies(user, m.Reply)
	nodes, err := c.Publish(ctx, c.rdb, c.keys.Channel(user), m.Payload()).Result()
	if err != nil {
		return 0, nil, err
	}
	var answers []string
	deadline := time.Now().Add(wait)
	for len(answers) < int(nodes) {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		// BLPOP takes fractional seconds; go-redis's BLPop rounds them up
		// to whole ones. Each wait stays below the client's read timeout.
		timeout := strconv.FormatFloat(min(max(left, 10*time.Millisecond), time.Second).Seconds(), 'f', 3, 64)
		v, err := c.waits.Do(ctx, "BLPOP", replies, timeout).StringSlice()
		if errors.Is(err, goredis.Nil) {
			continue // this wait passed; the loop checks the deadline
		}
		if err != nil || len(v) != 2 {
			return int(nodes), answers, fmt.Errorf("read answers: %v", err)
		}
		answers = append(answers, v[1])
	}
	c.rdb.Del(context.WithoutCancel(ctx), replies)
	return int(nodes), answers, nil
}

// PositionsWait bounds how long Positions waits for the nodes' answers.
const PositionsWait = time.Second

// Positions asks the nodes holding sessions of user where each session is
// in the user's stream (only the node holding a session knows). A node
// that does not answer within PositionsWait is left out.
func (c *Conn) Positions(ctx context.Context, user int64) ([]app.SessionPosition, error) {
	_, texts, err := c.AskText(ctx, user, Control{Control: ControlPositions}, PositionsWait)
	var all []app.SessionPosition
	for _, t := range texts {
		var some []app.SessionPosition
		if json.Unmarshal([]byte(t), &some) == nil {
			all = append(all, some...)
		}
	}
	return all, err
}
