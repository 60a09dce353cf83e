package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Receiver is told what arrives on the node's subscription. Its methods are
// called from the subscription's single reader goroutine and must not block.
type Receiver interface {
	// Deliver hands over a message published on user's channel.
	Deliver(user int64, msg []byte)
	// Resubscribed says the subscription to user's channel was restored
	// after the connection dropped: messages published meanwhile were lost
	// on the wire and must be read from the stored list.
	Resubscribed(user int64)
}

// SubscriberOptions tune a Subscriber.
type SubscriberOptions struct {
	NodeID        string
	ProbeInterval time.Duration // how often the node publishes to its own probe channel (default 1 s)
	StaleAfter    time.Duration // no probe back for this long means the subscription is down (default 5 s)
	Logger        *slog.Logger
}

// Subscriber holds the node's one pub/sub connection and subscribes to a
// user's channel while the node has sessions of that user. It proves the
// subscription works end to end by publishing probes to itself.
type Subscriber struct {
	rdb  goredis.UniversalClient
	keys Keys
	opts SubscriberOptions
	ps   *goredis.PubSub
	recv Receiver

	cmdMu sync.Mutex // orders SUBSCRIBE/UNSUBSCRIBE with the state below
	mu    sync.Mutex
	subs  map[int64]*subscription

	lastProbe  atomic.Int64 // unix nanos of the last probe received
	resubs     atomic.Int64 // restored subscriptions seen (reconnects)
	probeChan  string
	started    time.Time
	readerDone chan struct{}
}

type subscription struct {
	refs  int
	ready chan struct{} // closed once Redis confirmed the subscription
}

// NewSubscriber returns a Subscriber on rdb; call Run to start it.
func NewSubscriber(rdb goredis.UniversalClient, keys Keys, opts SubscriberOptions) *Subscriber {
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{rdb: rdb, keys: keys, opts: opts, subs: map[int64]*subscription{},
		probeChan: keys.NodeProbe(opts.NodeID), readerDone: make(chan struct{})}
}

// Start subscribes to the node's probe channel, starts reading, and hands
// what arrives to recv. It returns once the probe subscription is confirmed.
func (s *Subscriber) Start(ctx context.Context, recv Receiver) error {
	s.recv = recv
	s.started = time.Now()
	s.ps = s.rdb.Subscribe(ctx)
	if err := s.ps.Subscribe(ctx, s.probeChan); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// The channel is drained at once (Receiver never blocks); a big buffer
	// rides out bursts instead of tripping go-redis's 60 s drop timer.
	ch := s.ps.ChannelWithSubscriptions(goredis.WithChannelSize(16384), goredis.WithChannelHealthCheckInterval(time.Second))
	confirmed := make(chan struct{})
	go s.read(ch, confirmed)
	select {
	case <-confirmed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("subscribe: %w", ctx.Err())
	}
}

func (s *Subscriber) read(ch <-chan any, confirmed chan struct{}) {
	defer close(s.readerDone)
	for m := range ch {
		switch m := m.(type) {
		case *goredis.Message:
			if m.Channel == s.probeChan {
				s.lastProbe.Store(time.Now().UnixNano())
				continue
			}
			if user, ok := s.keys.ChannelUser(m.Channel); ok {
				s.recv.Deliver(user, []byte(m.Payload))
			}
		case *goredis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if m.Channel == s.probeChan {
				if confirmed != nil {
					close(confirmed)
					confirmed = nil
				} else {
					s.resubs.Add(1)
				}
				s.lastProbe.Store(time.Now().UnixNano())
				continue
			}
			if user, ok := s.keys.ChannelUser(m.Channel); ok {
				s.confirm(user)
			}
		}
	}
}

// confirm handles Redis's confirmation of a user's channel: the first
// releases Acquire, a later one is a resubscription after a reconnect.
func (s *Subscriber) confirm(user int64) {
	s.mu.Lock()
	sub := s.subs[user]
	first := false
	if sub != nil {
		select {
		case <-sub.ready:
		default:
			close(sub.ready)
			first = true
		}
	}
	s.mu.Unlock()
	if sub != nil && !first {
		s.recv.Resubscribed(user)
	}
}

// Acquire makes sure the node is subscribed to user's channel and returns
// once Redis has confirmed it: what is published after that is delivered.
// Each Acquire needs one Release.
func (s *Subscriber) Acquire(ctx context.Context, user int64) error {
	s.cmdMu.Lock()
	s.mu.Lock()
	sub := s.subs[user]
	fresh := sub == nil
	if fresh {
		sub = &subscription{ready: make(chan struct{})}
		s.subs[user] = sub
	}
	sub.refs++
	s.mu.Unlock()
	var err error
	if fresh {
		err = s.ps.Subscribe(ctx, s.keys.Channel(user))
	}
	s.cmdMu.Unlock()
	if err == nil {
		select {
		case <-sub.ready:
			return nil
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.Release(user)
	return fmt.Errorf("subscribe to user %d: %w", user, err)
}

// Release drops one Acquire; the last one unsubscribes.
func (s *Subscriber) Release(user int64) {
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	s.mu.Lock()
	sub := s.subs[user]
	if sub == nil {
		s.mu.Unlock()
		return
	}
	sub.refs--
	last := sub.refs == 0
	if last {
		delete(s.subs, user)
	}
	s.mu.Unlock()
	if last {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// Never an empty list: that would unsubscribe from everything.
		if err := s.ps.Unsubscribe(ctx, s.keys.Channel(user)); err != nil {
			s.opts.Logger.Warn("unsubscribe failed", "user_id", user, "err", err)
		}
		cancel()
	}
}

// Subscribed returns how many user channels the node is subscribed to.
func (s *Subscriber) Subscribed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Resubscriptions counts how often the connection was restored.
func (s *Subscriber) Resubscriptions() int64 { return s.resubs.Load() }

// Probe publishes to the node's probe channel every ProbeInterval until ctx
// is done.
func (s *Subscriber) Probe(ctx context.Context) {
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, s.opts.ProbeInterval)
			_ = s.rdb.Publish(pctx, s.probeChan, strconv.FormatInt(time.Now().UnixNano(), 10)).Err()
			cancel()
		}
	}
}

// ErrSubscriptionStale means the node's subscription has not delivered its
// own probe for StaleAfter: it is down or stuck.
var ErrSubscriptionStale = errors.New("pub/sub subscription is down or stuck")

// Healthy reports whether the subscription delivered a probe recently.
func (s *Subscriber) Healthy() error {
	last := time.Unix(0, s.lastProbe.Load())
	if age := time.Since(last); age > s.opts.StaleAfter {
		return fmt.Errorf("%w: no probe for %s", ErrSubscriptionStale, age.Round(time.Millisecond))
	}
	return nil
}

// Close ends the subscription.
func (s *Subscriber) Close() error {
	if s.ps == nil {
		return nil
	}
	err := s.ps.Close()
	<-s.readerDone
	return err
}
