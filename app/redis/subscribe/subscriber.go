// Package subscribe is a node's pub/sub subscription to the channels of
// the users it holds sessions of, on one Redis server (standalone and
// sentinel modes) or on every master of a Redis Cluster, and its handling
// of the control messages that arrive on them.
package subscribe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// Receiver is told what arrives on the node's subscription, from the
// reader goroutines: its methods must not block.
type Receiver interface {
	Deliver(env *app.Envelope) // a message published on its user's channel, parsed once
	// Resubscribed says the subscription to user's channel was restored
	// after the connection dropped: messages published meanwhile were lost
	// on the wire and must be read from the stored list.
	Resubscribed(user int64)
	Revoke(user int64) int            // close every session of user on this node; how many it closed
	Evict(user int64, session string) // close the session of user named session, if this node holds it
	// Positions returns where each of user's sessions on this node is in
	// the user's stream. It must not block.
	Positions(user int64) []app.SessionPosition
	// Inbox tells user's sessions on this node the user's inbox counts
	// after a mark (a message's counts come with it, in Envelope.Counts).
	Inbox(user int64, counts app.InboxCounts)
}

// Metrics counts what the subscription drops. It must not block.
type Metrics interface {
	MessageDropped(reason string) // reason: DropMalformed
}

// DropMalformed is the reason of a message on a user channel without the
// envelope the publish script writes.
const DropMalformed = "malformed"

// CursorFlusher writes a user's pending delivered-cursor advance now
// (redis.Streams).
type CursorFlusher interface {
	FlushUser(ctx context.Context, user int64) error
}

// Options tune a Subscriber.
type Options struct {
	NodeID        string
	ProbeInterval time.Duration // how often the node publishes to its own probe channels (default 1 s)
	StaleAfter    time.Duration // no probe back for this long means a connection is down (default 5 s)
	Logger        *slog.Logger
	Metrics       Metrics       // nil: none
	Cursors       CursorFlusher // answers the flush control message (nil: answered without flushing)
}

// Subscriber holds the node's pub/sub connections (links: one to a
// server, or one per Redis Cluster master, see cluster.go) and subscribes
// to a user's channel while the node has sessions of that user.
//
// Each link subscribes to a probe channel of its own (Probe): go-redis
// notices a connection that broke, not one that went silent. A
// subscription restored on a new link, or by go-redis's own reconnect,
// makes the receiver catch the user's sessions up (Resubscribed).
//
// Acquire and Release only change state in memory; one writer goroutine
// sends the commands in batches, and no lock is held across a network
// round trip. Each channel has at most one command in flight, so every
// confirmation answers a known command: a subscription is ready only once
// Redis confirmed the command sent for it.
type Subscriber struct {
	conn *redis.Conn
	keys redis.Keys
	opts Options
	recv Receiver

	mu       sync.Mutex
	subs     map[int64]*subscription
	dirty    map[int64]struct{} // users whose subscription may need a command
	inflight map[int64]struct{} // users with a command awaiting confirmation
	wake     chan struct{}      // holds a token while dirty is not empty
	links    map[string]*link   // by master address ("" on one server)
	owners   []*link            // by slot on a cluster; the one link otherwise
	refresh  chan struct{}      // the links must be made again

	resubs     atomic.Int64
	stop       context.CancelFunc
	readers    sync.WaitGroup
	writerDone chan struct{}
}

// New returns the subscriber of node opts.NodeID on c; call Start to
// start it.
func New(c *redis.Conn, opts Options) *Subscriber {
	opts.ProbeInterval = cmp.Or(max(opts.ProbeInterval, 0), time.Second)
	opts.StaleAfter = cmp.Or(max(opts.StaleAfter, 0), 5*time.Second)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Subscriber{conn: c, keys: c.Keys(), opts: opts, subs: map[int64]*subscription{}, dirty: map[int64]struct{}{},
		inflight: map[int64]struct{}{}, wake: make(chan struct{}, 1), links: map[string]*link{},
		refresh: make(chan struct{}, 1), writerDone: make(chan struct{})}
}

// Start connects, hands what arrives to recv, and returns once every
// link's probe subscription is confirmed.
func (s *Subscriber) Start(ctx context.Context, recv Receiver) error {
	s.recv = recv
	if err := s.connect(ctx); err != nil {
		s.closeLinks()
		return fmt.Errorf("subscribe: %w", err)
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	go s.write(wctx)
	for _, l := range s.liveLinks() {
		select {
		case <-l.confirmed:
		case <-ctx.Done():
			return fmt.Errorf("subscribe %s: %w", l.addr, ctx.Err())
		}
	}
	return nil
}

// connect makes the links the node needs now and moves every subscription
// whose link is gone or whose slot moved. It fails when some slot has no
// reachable master.
func (s *Subscriber) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	dial := s.dialServer
	if s.conn.Cluster() != nil {
		dial = s.dialCluster
	}
	links, owners, err := dial(ctx)
	if links == nil {
		return err
	}
	s.mu.Lock()
	old := s.links
	s.links, s.owners = links, owners
	for user, sub := range s.subs {
		switch {
		case sub.link != nil && (sub.link.lost.Load() || s.ownerLocked(user) != sub.link):
			s.detachLocked(user, sub)
		case sub.state == unsubscribed:
			s.markLocked(user)
		}
	}
	s.mu.Unlock()
	for addr, l := range old {
		if links[addr] != l {
			s.resubs.Add(1)
			go l.close() // may wait for go-redis's own reconnect attempt
		}
	}
	return err
}

// ownerLocked is the link user's channel belongs on (nil: none). mu is held.
func (s *Subscriber) ownerLocked(user int64) *link {
	switch len(s.owners) {
	case 0:
		return nil
	case 1:
		return s.owners[0]
	}
	return s.owners[redis.Slot(s.keys.Channel(user))]
}

func (s *Subscriber) remapSoon() { wake(s.refresh) }

// wake gives ch (of capacity 1) a token unless it holds one.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// retire marks l as never to be used again and has it replaced.
func (s *Subscriber) retire(l *link) {
	if !l.lost.Swap(true) {
		s.remapSoon()
	}
}

// Resubscriptions counts the connections replaced or restored and the
// subscriptions moved to another master.
func (s *Subscriber) Resubscriptions() int64 { return s.resubs.Load() }

// ErrSubscriptionStale means that a link has not delivered its own probe
// for StaleAfter, or that a slot has no reachable master.
var ErrSubscriptionStale = errors.New("pub/sub subscription is down or stuck")

// Healthy reports whether every link delivered a probe within StaleAfter
// and, on a cluster, every slot has a master this node is connected to.
func (s *Subscriber) Healthy() error {
	s.mu.Lock()
	uncovered := 0
	for _, l := range s.owners {
		if l == nil || (l.lost.Load() && l.sharded) {
			uncovered++
		}
	}
	s.mu.Unlock()
	if uncovered > 0 {
		return fmt.Errorf("%w: %d of %d slots have no reachable master", ErrSubscriptionStale, uncovered, redis.SlotCount)
	}
	for _, l := range s.liveLinks() {
		if age := time.Since(time.Unix(0, l.lastProbe.Load())); age > s.opts.StaleAfter {
			return fmt.Errorf("%w: %sno probe for %s", ErrSubscriptionStale, l.name(), age.Round(time.Millisecond))
		}
	}
	return nil
}

// Close ends every connection.
func (s *Subscriber) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.writerDone
	}
	s.closeLinks()
	s.readers.Wait()
	return nil
}

func (s *Subscriber) liveLinks() []*link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.links))
}

func (s *Subscriber) closeLinks() {
	s.mu.Lock()
	all := s.links
	s.links, s.owners = map[string]*link{}, nil
	s.mu.Unlock()
	for _, l := range all {
		l.close()
	}
}

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
// answered once it is written: 1, or 0 when that failed; positions is
// answered with the sessions' positions as JSON; inbox counts go to the
// receiver.
func (s *Subscriber) control(user int64, payload string) {
	var m redis.Control
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		s.opts.Logger.Warn("ignoring a control message that does not parse", "user_id", user)
		return
	}
	switch m.Control {
	case redis.ControlDisconnect:
		n := s.recv.Revoke(user)
		go s.reply(user, m.Reply, func() any { return n })
	case redis.ControlEvict:
		s.recv.Evict(user, m.Session)
	case redis.ControlFlush:
		go s.reply(user, m.Reply, func() any { return s.flushCursor(user) })
	case redis.ControlInbox:
		s.recv.Inbox(user, app.InboxCounts{Unseen: m.Unseen, Unread: m.Unread})
	case redis.ControlPositions:
		positions := s.recv.Positions(user)
		go s.reply(user, m.Reply, func() any { b, _ := json.Marshal(positions); return string(b) })
	default:
		s.opts.Logger.Warn("ignoring an unknown control message", "user_id", user, "control", m.Control)
	}
}

func (s *Subscriber) flushCursor(user int64) int {
	if s.opts.Cursors == nil {
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), redis.ReplyTTL/2)
	defer cancel()
	if err := s.opts.Cursors.FlushUser(ctx, user); err != nil {
		s.opts.Logger.Warn("flushing a cursor on request failed", "user_id", user, "err", err)
		return 0
	}
	return 1
}

// reply pushes this node's answer to a control message whose Reply is id
// (none when "").
func (s *Subscriber) reply(user int64, id string, answer func() any) {
	n := answer()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.conn.Answer(ctx, user, id, n); err != nil {
		s.opts.Logger.Warn("answering a control message failed", "user_id", user, "err", err)
	}
}
