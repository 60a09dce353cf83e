// Package subscribe is a node's pub/sub subscription to the channels of
// the users it holds sessions of, on one Redis server (standalone and
// sentinel modes) or on every master of a Redis Cluster, and its handling
// of the control messages that arrive on them.
package subscribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// Receiver is told what arrives on the node's subscription. Its methods are
// called from the subscription's reader goroutines and must not block.
type Receiver interface {
	// Deliver hands over a message published on its user's channel,
	// parsed once.
	Deliver(env *app.Envelope)
	// Resubscribed says the subscription to user's channel was restored
	// after the connection dropped: messages published meanwhile were lost
	// on the wire and must be read from the stored list.
	Resubscribed(user int64)
	// Revoke closes every session of user on this node (the user was
	// disconnected by an operator) and returns how many it closed.
	Revoke(user int64) int
	// Evict closes the session of user named session, if this node holds
	// it (the user opened more sessions than allowed).
	Evict(user int64, session string)
}

// Metrics counts what the subscription drops. It must not block.
type Metrics interface {
	// MessageDropped counts a message not handed on; reason is
	// DropMalformed.
	MessageDropped(reason string)
}

// DropMalformed is the reason of a message on a user channel without the
// envelope the publish script writes.
const DropMalformed = "malformed"

// CursorFlusher writes a user's pending delivered-cursor advance now
// (redis.Streams).
type CursorFlusher interface {
	FlushUser(ctx context.Context, user int64) error
}

var _ CursorFlusher = (*redis.Streams)(nil)

// Options tune a Subscriber.
type Options struct {
	NodeID        string
	ProbeInterval time.Duration // how often the node publishes to its own probe channels (default 1 s)
	StaleAfter    time.Duration // no probe back for this long means a connection is down (default 5 s)
	Logger        *slog.Logger
	Metrics       Metrics // nil: none
	// Cursors answers the flush control message (redis.Deliveries asks it
	// of the nodes holding a user's sessions); nil: answered without
	// flushing.
	Cursors CursorFlusher
}

// Subscriber holds the node's pub/sub connections (links) and subscribes
// to a user's channel while the node has sessions of that user: on one
// server, one connection; on a Redis Cluster, one per master, carrying the
// sharded subscriptions (SSUBSCRIBE) of the channels whose slots it owns,
// made and replaced from the cluster's slot map (cluster.go).
//
// Each connection subscribes to a probe channel of its own; Probe
// publishes to it and replaces a connection whose probes stop coming back
// while Redis answers: go-redis notices a connection that broke, not one
// that went silent (its reads have no deadline). A subscription restored
// on a new connection (or by go-redis's own reconnect) makes the receiver
// catch the user's sessions up from the stored stream (Resubscribed):
// nothing published meanwhile is lost.
//
// Acquire and Release only change state in memory; one writer goroutine
// sends the subscription commands in batches and no lock is held across a
// network round trip. Each channel has at most one command in flight, so
// every confirmation Redis sends answers a known command: a subscription
// is ready only once Redis confirmed the command sent for it.
type Subscriber struct {
	conn *redis.Conn
	keys redis.Keys
	opts Options
	recv Receiver

	table                    // mu also guards links and owners
	links   map[string]*link // by master address ("" on one server)
	owners  []*link          // by slot on a cluster; the one link otherwise
	refresh chan struct{}    // the links must be made again

	resubs     atomic.Int64
	stop       context.CancelFunc
	readers    sync.WaitGroup
	writerDone chan struct{}
}

// New returns the subscriber of node opts.NodeID on c; call Start to
// start it.
func New(c *redis.Conn, opts Options) *Subscriber {
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{conn: c, keys: c.Keys(), opts: opts, table: newTable(), links: map[string]*link{},
		refresh: make(chan struct{}, 1), writerDone: make(chan struct{})}
}

// Start connects (on a cluster, to every master), starts reading and
// writing, and hands what arrives to recv. It returns once every
// connection's probe subscription is confirmed.
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

// connect makes the links the node needs now and moves to them every
// subscription whose link is gone or whose slot moved. It fails when some
// slot has no reachable master (the writer retries).
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

// dialServer keeps the connection to the one server, or replaces it when
// it was lost.
func (s *Subscriber) dialServer(ctx context.Context) (map[string]*link, []*link, error) {
	s.mu.Lock()
	l := s.links[""]
	s.mu.Unlock()
	if l == nil || l.lost.Load() {
		var err error
		if l, err = s.dialLink(ctx); err != nil {
			return nil, nil, err
		}
	}
	return map[string]*link{"": l}, []*link{l}, nil
}

// ownerLocked is the link that user's channel belongs on (nil: none yet).
// mu is held.
func (s *Subscriber) ownerLocked(user int64) *link {
	switch len(s.owners) {
	case 0:
		return nil
	case 1:
		return s.owners[0]
	}
	return s.owners[redis.Slot(s.keys.Channel(user))]
}

// remapSoon asks the writer to make the links again.
func (s *Subscriber) remapSoon() {
	select {
	case s.refresh <- struct{}{}:
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

// ErrSubscriptionStale means that a connection of the node's subscription
// has not delivered its own probe for StaleAfter (or, on a cluster, that
// some slot has no reachable master): it is down or stuck.
var ErrSubscriptionStale = errors.New("pub/sub subscription is down or stuck")

// Healthy reports whether every connection delivered a probe within
// StaleAfter and, on a cluster, every slot has a master this node is
// connected to: the node then receives what is published to any user.
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

// liveLinks returns the current links.
func (s *Subscriber) liveLinks() []*link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*link, 0, len(s.links))
	for _, l := range s.links {
		out = append(out, l)
	}
	return out
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
