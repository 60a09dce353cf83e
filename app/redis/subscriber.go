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

	"github.com/houseview/gateway/app"
)

// Receiver is told what arrives on the node's subscription. Its methods are
// called from the subscription's single reader goroutine and must not block.
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

// SubscriberMetrics counts what the subscription drops. It must not block.
type SubscriberMetrics interface {
	// MessageDropped counts a message not handed on; reason is
	// DropMalformed.
	MessageDropped(reason string)
}

// DropMalformed is the reason of a message on a user channel without the
// envelope the publish script writes.
const DropMalformed = "malformed"

// CursorFlusher writes a user's pending delivered-cursor advance now
// (Streams).
type CursorFlusher interface {
	FlushUser(ctx context.Context, user int64) error
}

// SubscriberOptions tune a Subscriber.
type SubscriberOptions struct {
	NodeID        string
	ProbeInterval time.Duration // how often the node publishes to its own probe channel (default 1 s)
	StaleAfter    time.Duration // no probe back for this long means the subscription is down (default 5 s)
	Logger        *slog.Logger
	Metrics       SubscriberMetrics // nil: none
	// Cursors answers the flush control message (Deliveries asks it of the
	// nodes holding a user's sessions); nil: answered without flushing.
	Cursors CursorFlusher
}

// withDefaults fills in the defaults of unset options.
func (o SubscriberOptions) withDefaults() SubscriberOptions {
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Timing of SUBSCRIBE and UNSUBSCRIBE commands whose confirmation does not
// come: a lost UNSUBSCRIBE reply means the connection dropped, and the
// channel, already forgotten by go-redis, is not on the new connection; a
// SUBSCRIBE is sent again (a second confirmation is harmless).
const (
	unsubscribeGiveUp = 5 * time.Second
	subscribeResend   = 10 * time.Second
	// channelsPerCommand bounds one SUBSCRIBE or UNSUBSCRIBE command.
	channelsPerCommand = 500
)

// Subscriber holds the node's one pub/sub connection and subscribes to a
// user's channel while the node has sessions of that user. It proves the
// subscription works end to end by publishing probes to itself, and
// replaces the connection when the probes stop coming back while Redis
// answers: go-redis notices a connection that broke, not one that went
// silent (its reads have no deadline), and its own reconnect cannot help
// with the latter.
//
// Acquire and Release only change state in memory; one writer goroutine
// sends SUBSCRIBE and UNSUBSCRIBE commands in batches and no lock is held
// across a network round trip. Each channel has at most one command in
// flight, so every confirmation Redis sends answers a known command: a
// subscription is ready only once Redis confirmed the SUBSCRIBE sent for
// it, and a confirmation of a channel that is subscribed already means the
// connection was restored (go-redis resubscribes by itself).
type Subscriber struct {
	dispatch
	ps *goredis.PubSub

	subTable        // mu also guards gen
	gen      uint64 // the connection's generation: confirmations of an older one are void

	replace    chan struct{} // the probe asks for a new connection
	lastProbe  atomic.Int64  // unix nanos of the last probe received
	probeSent  atomic.Int64  // unix nanos at which the last probe received was sent
	resubs     atomic.Int64  // restored subscriptions seen (reconnects, replacements)
	probeChan  string
	stop       context.CancelFunc
	readers    sync.WaitGroup
	writerDone chan struct{}
}

// NewSubscriber returns a Subscriber on rdb; call Start to start it.
func NewSubscriber(rdb goredis.UniversalClient, keys Keys, opts SubscriberOptions) *Subscriber {
	return &Subscriber{dispatch: dispatch{rdb: rdb, keys: keys, opts: opts.withDefaults()}, subTable: newSubTable(),
		replace: make(chan struct{}, 1), probeChan: keys.NodeProbe(opts.NodeID), writerDone: make(chan struct{})}
}

// Start subscribes to the node's probe channel, starts reading and
// writing, and hands what arrives to recv. It returns once the probe
// subscription is confirmed.
func (s *Subscriber) Start(ctx context.Context, recv Receiver) error {
	s.recv = recv
	ps, confirmed, err := s.connect(ctx, 0)
	if err != nil {
		return err
	}
	s.ps = ps
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	go s.write(wctx)
	select {
	case <-confirmed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("subscribe: %w", ctx.Err())
	}
}

// connect opens a pub/sub connection subscribed to the probe channel and
// starts its reader, of generation gen. confirmed is closed when Redis
// confirms the probe subscription.
func (s *Subscriber) connect(ctx context.Context, gen uint64) (*goredis.PubSub, chan struct{}, error) {
	ps := s.rdb.Subscribe(ctx)
	if err := ps.Subscribe(ctx, s.probeChan); err != nil {
		ps.Close()
		return nil, nil, fmt.Errorf("subscribe: %w", err)
	}
	// The channel is drained at once (Receiver never blocks); a big buffer
	// rides out bursts instead of tripping go-redis's 60 s drop timer.
	ch := ps.ChannelWithSubscriptions(goredis.WithChannelSize(16384), goredis.WithChannelHealthCheckInterval(time.Second))
	confirmed := make(chan struct{})
	s.readers.Add(1)
	go s.read(gen, ch, confirmed)
	return ps, confirmed, nil
}

// read hands on what arrives on one connection of generation gen.
func (s *Subscriber) read(gen uint64, ch <-chan any, confirmed chan struct{}) {
	defer s.readers.Done()
	for m := range ch {
		switch m := m.(type) {
		case *goredis.Message:
			if m.Channel == s.probeChan {
				s.lastProbe.Store(time.Now().UnixNano())
				if sent, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
					s.probeSent.Store(sent)
				}
				continue
			}
			s.deliver(m.Channel, m.Payload)
		case *goredis.Subscription:
			if m.Channel == s.probeChan {
				if m.Kind != "subscribe" {
					continue
				}
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
				switch m.Kind {
				case "subscribe":
					s.confirmSubscribe(gen, user)
				case "unsubscribe":
					s.confirmUnsubscribe(gen, user)
				}
			}
		}
	}
}

// confirmSubscribe handles Redis's confirmation of a user's channel on the
// connection of generation gen: the answer to the SUBSCRIBE in flight makes
// the subscription ready (or, on a replaced connection, restored); one for
// a subscription that is ready already is a resubscription after go-redis
// reconnected.
func (s *Subscriber) confirmSubscribe(gen uint64, user int64) {
	s.mu.Lock()
	sub := s.subs[user]
	restored := false
	if sub != nil && gen == s.gen {
		switch sub.state {
		case subscribing:
			restored = s.confirmedLocked(user, sub)
		case subscribed:
			restored = sub.refs > 0
		}
	}
	s.mu.Unlock()
	if restored {
		s.recv.Resubscribed(user)
	}
}

// confirmUnsubscribe handles the answer to the UNSUBSCRIBE in flight.
func (s *Subscriber) confirmUnsubscribe(gen uint64, user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[user]; sub != nil && gen == s.gen && sub.state == unsubscribing {
		sub.state = unsubscribed
		delete(s.inflight, user)
		s.markLocked(user)
	}
}

// write sends the commands that the queued users need, until ctx ends.
func (s *Subscriber) write(ctx context.Context) {
	defer close(s.writerDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
			s.expire(time.Now())
		case <-s.replace:
			s.replaceConn(ctx)
		}
		subs, unsubs := s.plan(time.Now())
		s.send(ctx, "subscribe", subs)
		s.send(ctx, "unsubscribe", unsubs)
	}
}

// replaceConn opens a new pub/sub connection, moves every subscription to
// it and closes the old one. Sessions catch up once their channel is
// confirmed on the new connection: what was published meanwhile is read
// from the stored streams. It keeps the old connection when no new one can
// be made.
func (s *Subscriber) replaceConn(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.mu.Lock()
	gen := s.gen + 1
	s.mu.Unlock()
	ps, _, err := s.connect(cctx, gen)
	if err != nil {
		s.opts.Logger.Warn("pub/sub connection silent; a new one failed", "err", err)
		return
	}
	s.opts.Logger.Warn("pub/sub connection silent; replaced it")
	s.mu.Lock()
	s.gen = gen
	for user, sub := range s.subs {
		if sub.refs == 0 {
			delete(s.subs, user)
			continue
		}
		if sub.state == subscribed {
			sub.restore = true
		}
		sub.state = unsubscribed
		s.dirty[user] = struct{}{}
	}
	clear(s.inflight)
	s.mu.Unlock()
	old := s.ps
	s.ps = ps
	s.resubs.Add(1)
	go old.Close() // may wait for go-redis's own reconnect attempt
}

// plan moves the queued users to their next state and returns the
// channels to subscribe and to unsubscribe.
func (s *Subscriber) plan(now time.Time) (subs, unsubs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for user := range s.dirty {
		delete(s.dirty, user)
		sub := s.subs[user]
		if sub == nil {
			continue
		}
		switch {
		case sub.refs > 0 && sub.state == unsubscribed,
			sub.refs > 0 && sub.state == subscribing && now.Sub(sub.since) >= subscribeResend:
			sub.state, sub.since = subscribing, now
			s.inflight[user] = struct{}{}
			subs = append(subs, s.keys.Channel(user))
		case sub.refs == 0 && sub.state == subscribed:
			sub.state, sub.since = unsubscribing, now
			sub.ready = make(chan struct{})
			s.inflight[user] = struct{}{}
			unsubs = append(unsubs, s.keys.Channel(user))
		case sub.refs == 0 && sub.state == unsubscribed:
			delete(s.subs, user)
		}
	}
	return subs, unsubs
}

// send issues kind for channels in bounded commands. A failed write is
// only logged: go-redis reconnects and resubscribes the channels it was
// asked to subscribe, and the confirmation (or the give-up timer) settles
// each channel's state.
func (s *Subscriber) send(ctx context.Context, kind string, channels []string) {
	for len(channels) > 0 {
		n := min(len(channels), channelsPerCommand)
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		if kind == "subscribe" {
			err = s.ps.Subscribe(cctx, channels[:n]...)
		} else {
			err = s.ps.Unsubscribe(cctx, channels[:n]...) // never empty: that would drop every channel
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("pub/sub command failed; waiting for the reconnect", "command", kind, "channels", n, "err", err)
		}
		channels = channels[n:]
	}
}

// Resubscriptions counts how often the connection was restored.
func (s *Subscriber) Resubscriptions() int64 { return s.resubs.Load() }

// Probe publishes to the node's probe channel every ProbeInterval until ctx
// is done. When a probe that Redis took has not come back for StaleAfter
// while every publish since succeeded, the connection is silent though
// Redis answers: Probe has it replaced (at most once per StaleAfter). A
// failed publish means Redis is unreachable, which go-redis's own
// reconnect handles: it starts the count again.
func (s *Subscriber) Probe(ctx context.Context) {
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	// The oldest probe Redis took that has not come back: its payload (the
	// time it was sent) and when Redis answered the publish. go-redis
	// bounds a publish by its read timeout, not by ctx: a publish sent
	// during a partition may be answered only when it heals.
	var waitingSent int64
	var waitingSince time.Time
	lastAsk := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sent := time.Now().UnixNano()
			pctx, cancel := context.WithTimeout(ctx, s.opts.ProbeInterval)
			err := s.rdb.Publish(pctx, s.probeChan, strconv.FormatInt(sent, 10)).Err()
			cancel()
			switch {
			case err != nil:
				waitingSent = 0
			case waitingSent != 0 && s.probeSent.Load() >= waitingSent:
				waitingSent = 0 // it came back
			}
			if err == nil && waitingSent == 0 && s.probeSent.Load() < sent {
				waitingSent, waitingSince = sent, time.Now()
			}
			if waitingSent != 0 && time.Since(waitingSince) >= s.opts.StaleAfter && time.Since(lastAsk) >= s.opts.StaleAfter {
				lastAsk, waitingSent = time.Now(), 0
				select {
				case s.replace <- struct{}{}:
				default:
				}
			}
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
	if s.stop != nil {
		s.stop()
		<-s.writerDone
	}
	err := s.ps.Close()
	s.readers.Wait()
	return err
}
