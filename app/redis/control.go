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
	controlFlush      = "flush"      // write the user's pending cursor advance now; answer 1 (0: it failed) on Reply
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
// sessions, and a disconnect is answered with how many it closed; a flush
// writes the user's cursor (SubscriberOptions.Cursors) and is answered once
// it is written.
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
	case controlFlush:
		go s.flushCursor(user, m.Reply)
	default:
		s.opts.Logger.Warn("ignoring an unknown control message", "user_id", user, "control", m.Control)
	}
}

// flushCursor writes user's pending cursor advance and answers the flush
// control message: 1 when written (or none was pending), 0 when it failed.
func (s *dispatch) flushCursor(user int64, reply string) {
	ok := 1
	if s.opts.Cursors != nil {
		ctx, cancel := context.WithTimeout(context.Background(), replyTTL/2)
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
func (s *dispatch) reply(user int64, id string, answer int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	key := s.keys.Replies(user, id)
	pipe := s.rdb.Pipeline()
	pipe.RPush(ctx, key, answer)
	pipe.PExpire(ctx, key, replyTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		s.opts.Logger.Warn("answering a control message failed", "user_id", user, "err", err)
	}
}

// Asker sends control messages to the nodes holding a user's sessions
// and reads their answers. It waits for the answers with BLPOP on waits, a
// client of its own (NewWaitClient), so that a burst of disconnects or
// webhook checks never parks the connections that publishes and reads
// share.
type Asker struct {
	rdb, waits goredis.UniversalClient
	keys       Keys
}

// NewAsker returns an Asker that publishes on rdb and waits on waits (rdb
// when nil, for tests that ask one at a time).
func NewAsker(rdb, waits goredis.UniversalClient, keys Keys) *Asker {
	if waits == nil {
		waits = rdb
	}
	return &Asker{rdb: rdb, waits: waits, keys: keys}
}

// WaitPoolSize is the number of connections of a wait client: asks
// beyond it wait for one of them, never for the node's shared pool.
const WaitPoolSize = 32

// NewWaitClient returns a client to the Redis of rdb (a standalone,
// sentinel or cluster one) with a pool of its own of WaitPoolSize
// connections, for an Asker's blocking waits. It copies rdb's options but
// the state go-redis keeps in them per client.
func NewWaitClient(rdb goredis.UniversalClient) goredis.UniversalClient {
	switch c := rdb.(type) {
	case *goredis.ClusterClient:
		o := *c.Options()
		o.PoolSize, o.PushNotificationProcessor, o.MaintNotificationsConfig = WaitPoolSize, nil, nil
		cc := goredis.NewClusterClient(&o)
		FollowFailover(cc)
		return cc
	case *goredis.Client:
		o := *c.Options()
		o.PoolSize, o.PushNotificationProcessor, o.MaintNotificationsConfig = WaitPoolSize, nil, nil
		return goredis.NewClient(&o)
	}
	return rdb
}

// ask publishes a control message (m with a fresh Reply) on user's channel
// and reads the answers of the nodes that received it (those holding
// sessions of the user: PUBLISH, or SPUBLISH on a cluster, says how many)
// until each answered or wait passed. It returns how many nodes received
// it and the answers.
func (a *Asker) ask(ctx context.Context, user int64, m controlMessage, wait time.Duration) (int, []int, error) {
	m.Reply = newEpoch() // any random token
	replies := a.keys.Replies(user, m.Reply)
	nodes, err := publish(ctx, a.rdb, a.rdb, a.keys.Channel(user), m.payload()).Result()
	if err != nil {
		return 0, nil, err
	}
	var answers []int
	deadline := time.Now().Add(wait)
	for len(answers) < int(nodes) {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		// BLPOP takes fractional seconds; go-redis's BLPop rounds them up
		// to whole ones. Each wait stays below the client's read timeout.
		timeout := strconv.FormatFloat(min(max(left, 10*time.Millisecond), time.Second).Seconds(), 'f', 3, 64)
		v, err := a.waits.Do(ctx, "BLPOP", replies, timeout).StringSlice()
		if errors.Is(err, goredis.Nil) {
			continue // this wait passed; the loop checks the deadline
		}
		if err != nil || len(v) != 2 {
			return int(nodes), answers, fmt.Errorf("read answers: %v", err)
		}
		n, _ := strconv.Atoi(v[1])
		answers = append(answers, n)
	}
	a.rdb.Del(context.WithoutCancel(ctx), replies)
	return int(nodes), answers, nil
}
