package subscribe

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Timing of commands whose confirmation does not come: a lost UNSUBSCRIBE
// reply means the connection dropped, and the channel, already forgotten
// by go-redis, is not on the new connection; a SUBSCRIBE is sent again (a
// second confirmation is harmless).
const (
	unsubscribeGiveUp  = 5 * time.Second
	subscribeResend    = 10 * time.Second
	channelsPerCommand = 500
)

// wireState is where a user's channel stands on its link.
type wireState uint8

const (
	unsubscribed  wireState = iota // not subscribed, nothing in flight
	subscribing                    // SUBSCRIBE sent, confirmation awaited
	subscribed                     // confirmed
	unsubscribing                  // UNSUBSCRIBE sent, confirmation awaited
)

// subscription is where one user's channel stands.
type subscription struct {
	refs    int // Acquires not yet released
	state   wireState
	link    *link         // the link the subscription (or the command in flight) is on
	since   time.Time     // when the command in flight was sent
	ready   chan struct{} // closed when state becomes subscribed; a fresh one when it leaves it
	restore bool          // the next confirmation restores a subscription: its sessions catch up
}

// closedReady is the ready channel of every subscription that is ready: a
// closed channel kept per user would cost 96 bytes each.
var closedReady = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Acquire makes sure the node is subscribed to user's channel and returns
// once Redis has confirmed the subscription: what is published after that
// is delivered. Each Acquire needs one Release, except one that returned
// an error.
func (s *Subscriber) Acquire(ctx context.Context, user int64) error {
	s.mu.Lock()
	sub := s.subs[user]
	if sub == nil {
		sub = &subscription{ready: make(chan struct{})}
		s.subs[user] = sub
	}
	sub.refs++
	ready := sub.ready
	if sub.state == unsubscribed {
		s.markLocked(user)
	}
	s.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.Release(user)
		return fmt.Errorf("subscribe to user %d: %w", user, ctx.Err())
	}
}

// Release drops one Acquire; after the last one the writer unsubscribes.
func (s *Subscriber) Release(user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[user]; sub != nil && sub.refs > 0 {
		if sub.refs--; sub.refs == 0 {
			s.markLocked(user)
		}
	}
}

func (s *Subscriber) markLocked(user int64) {
	s.dirty[user] = struct{}{}
	wake(s.wake)
}

// confirmSubscribe takes l's confirmation of user's channel: the answer to
// the command in flight makes the subscription ready, or restored when it
// was made again on a new link; one for a subscription that is ready
// already is go-redis resubscribing after it reconnected. Restored
// sessions catch up.
func (s *Subscriber) confirmSubscribe(l *link, user int64) {
	s.mu.Lock()
	sub := s.subs[user]
	restored := false
	switch {
	case sub == nil || sub.link != l:
	case sub.state == subscribed:
		restored = sub.refs > 0
	case sub.state == subscribing:
		sub.state = subscribed
		if sub.restore {
			sub.restore, restored = false, sub.refs > 0
		} else {
			close(sub.ready)
			sub.ready = closedReady // one closed channel for every ready subscription
		}
		delete(s.inflight, user)
		if sub.refs == 0 {
			s.markLocked(user) // nobody holds it any more
		}
	}
	s.mu.Unlock()
	if restored {
		s.recv.Resubscribed(user)
	}
}

// confirmUnsubscribe takes an unsubscribe of user's channel from l: the
// answer to the one in flight, or, on a cluster, Redis dropping the
// subscription because the slot moved to another master (it is then made
// again there).
func (s *Subscriber) confirmUnsubscribe(l *link, user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[user]; sub != nil && sub.link == l && (sub.state == unsubscribing || l.sharded) {
		if sub.state != unsubscribing {
			s.remapSoon()
		}
		s.detachLocked(user, sub)
	}
}

// detachLocked takes user's subscription off its link (gone, done
// unsubscribing, or no longer the owner of its slot) and queues it: with
// sessions left it is made again, restored. mu is held.
func (s *Subscriber) detachLocked(user int64, sub *subscription) {
	if sub.state == subscribed {
		if sub.refs > 0 {
			sub.restore = true // ready stays closed: sessions keep running meanwhile
		} else {
			sub.ready = make(chan struct{})
		}
	}
	sub.state, sub.link = unsubscribed, nil
	delete(s.inflight, user)
	s.markLocked(user)
}

func (s *Subscriber) expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for user := range s.inflight {
		switch sub := s.subs[user]; {
		case sub == nil:
			delete(s.inflight, user)
		case sub.state == unsubscribing && now.Sub(sub.since) >= unsubscribeGiveUp:
			// The reply was lost with the connection; go-redis forgot the
			// channel before sending, so the new connection lacks it.
			sub.state, sub.link = unsubscribed, nil
			delete(s.inflight, user)
			s.dirty[user] = struct{}{}
		case sub.state == subscribing && now.Sub(sub.since) >= subscribeResend:
			s.dirty[user] = struct{}{}
		}
	}
}

// command is one command on a link: (un)subscribe channels of one group
// (link.group).
type command struct {
	link      *link
	subscribe bool
	group     int
}

// plan moves the queued users to their next state and returns the
// commands to send. A user whose slot has no reachable link waits for the
// next one.
func (s *Subscriber) plan(now time.Time) map[command][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[command][]string{}
	add := func(l *link, subscribe bool, ch string) {
		c := command{l, subscribe, l.group(ch)}
		out[c] = append(out[c], ch)
	}
	for user := range s.dirty {
		sub := s.subs[user]
		ch := s.keys.Channel(user)
		switch {
		case sub == nil:
		case sub.refs > 0 && sub.state == unsubscribed,
			sub.refs > 0 && sub.state == subscribing && now.Sub(sub.since) >= subscribeResend:
			l := sub.link
			if sub.state == unsubscribed {
				l = s.ownerLocked(user)
			}
			if l == nil || l.lost.Load() {
				continue // stays queued until a link can carry it
			}
			sub.state, sub.link, sub.since = subscribing, l, now
			s.inflight[user] = struct{}{}
			add(l, true, ch)
		case sub.refs == 0 && sub.state == subscribed:
			sub.state, sub.since = unsubscribing, now
			sub.ready = make(chan struct{})
			s.inflight[user] = struct{}{}
			add(sub.link, false, ch)
		case sub.refs == 0 && sub.state == unsubscribed:
			delete(s.subs, user)
		}
		delete(s.dirty, user)
	}
	return out
}

// send issues the planned commands. A failed write is only logged:
// go-redis reconnects (or the broken link is replaced) and the
// confirmation, or the give-up timer, settles each channel's state.
func (s *Subscriber) send(ctx context.Context, cmds map[command][]string) {
	for c, channels := range cmds {
		for chunk := range slices.Chunk(channels, channelsPerCommand) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.link.command(cctx, c.subscribe, chunk)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.opts.Logger.Warn("pub/sub command failed", "shard", c.link.addr, "subscribe", c.subscribe, "channels", len(chunk), "err", err)
			}
		}
	}
}

// Retry bounds of making the links again while that fails (on a cluster,
// a slot has no reachable master: a failover under way).
const (
	remapRetryMin = 100 * time.Millisecond
	remapRetryMax = 2 * time.Second
)

// write sends the commands the queued users need and makes the links again
// when asked (and, while that fails, with backoff), until ctx ends.
func (s *Subscriber) write(ctx context.Context) {
	defer close(s.writerDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	backoff := remapRetryMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
			s.expire(time.Now())
		case <-s.refresh:
			backoff = s.remap(ctx, retry, remapRetryMin)
		case <-retry.C:
			backoff = s.remap(ctx, retry, backoff)
		}
		s.send(ctx, s.plan(time.Now()))
	}
}

// remap makes the links again; while that fails it has retry fire after
// backoff and returns the next backoff.
func (s *Subscriber) remap(ctx context.Context, retry *time.Timer, backoff time.Duration) time.Duration {
	if err := s.connect(ctx); err != nil {
		if ctx.Err() == nil {
			s.opts.Logger.Warn("pub/sub: cannot connect every link; retrying", "in", backoff, "err", err)
		}
		retry.Reset(backoff)
		return min(backoff*2, remapRetryMax)
	}
	return remapRetryMin
}
