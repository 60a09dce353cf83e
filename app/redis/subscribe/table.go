package subscribe

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Timing of subscription commands whose confirmation does not come: a
// lost UNSUBSCRIBE reply means the connection dropped, and the channel,
// already forgotten by go-redis, is not on the new connection; a SUBSCRIBE
// is sent again (a second confirmation is harmless).
const (
	unsubscribeGiveUp = 5 * time.Second
	subscribeResend   = 10 * time.Second
	// channelsPerCommand bounds one command.
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

// table is each user's subscription with its Acquire count and wire state,
// and the users whose state the writer must look at. Acquire and Release
// only touch memory.
type table struct {
	mu       sync.Mutex
	subs     map[int64]*subscription
	dirty    map[int64]struct{} // users whose subscription may need a command
	inflight map[int64]struct{} // users with a command awaiting confirmation
	wake     chan struct{}      // holds a token while dirty is not empty
}

func newTable() table {
	return table{subs: map[int64]*subscription{}, dirty: map[int64]struct{}{}, inflight: map[int64]struct{}{},
		wake: make(chan struct{}, 1)}
}

// Acquire makes sure the node is subscribed to user's channel and returns
// once Redis has confirmed the subscription: what is published after that
// is delivered. Each Acquire needs one Release, except one that returned
// an error.
func (t *table) Acquire(ctx context.Context, user int64) error {
	t.mu.Lock()
	sub := t.subs[user]
	if sub == nil {
		sub = &subscription{ready: make(chan struct{})}
		t.subs[user] = sub
	}
	sub.refs++
	ready := sub.ready
	if sub.state == unsubscribed {
		t.markLocked(user)
	}
	t.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		t.Release(user)
		return fmt.Errorf("subscribe to user %d: %w", user, ctx.Err())
	}
}

// Release drops one Acquire; after the last one the writer unsubscribes.
func (t *table) Release(user int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sub := t.subs[user]
	if sub == nil || sub.refs == 0 {
		return
	}
	if sub.refs--; sub.refs == 0 {
		t.markLocked(user)
	}
}

// markLocked queues user for the writer. mu is held.
func (t *table) markLocked(user int64) {
	t.dirty[user] = struct{}{}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// confirmedLocked takes Redis's answer to the subscription command in
// flight for user: the subscription is ready, or, when it was made again
// on another link, restored, which it reports (its sessions must catch
// up). One nobody holds any more goes back to the writer. mu is held.
func (t *table) confirmedLocked(user int64, sub *subscription) (restored bool) {
	sub.state = subscribed
	if sub.restore {
		sub.restore, restored = false, sub.refs > 0
	} else {
		close(sub.ready)
	}
	delete(t.inflight, user)
	if sub.refs == 0 {
		t.markLocked(user)
	}
	return restored
}

// detachLocked takes user's subscription off its link (gone, done
// unsubscribing, or no longer the owner of its slot) and queues it: with
// sessions left it is made again, restored. mu is held.
func (t *table) detachLocked(user int64, sub *subscription) {
	if sub.state == subscribed {
		if sub.refs > 0 {
			sub.restore = true // ready stays closed: sessions keep running meanwhile
		} else {
			sub.ready = make(chan struct{})
		}
	}
	sub.state, sub.link = unsubscribed, nil
	delete(t.inflight, user)
	t.markLocked(user)
}

// expire queues the users whose command has waited too long.
func (t *table) expire(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for user := range t.inflight {
		sub := t.subs[user]
		switch {
		case sub == nil:
			delete(t.inflight, user)
		case sub.state == unsubscribing && now.Sub(sub.since) >= unsubscribeGiveUp:
			// The reply was lost with the connection; go-redis forgot the
			// channel before sending, so the new connection lacks it.
			sub.state, sub.link = unsubscribed, nil
			delete(t.inflight, user)
			t.dirty[user] = struct{}{}
		case sub.state == subscribing && now.Sub(sub.since) >= subscribeResend:
			t.dirty[user] = struct{}{}
		}
	}
}

// commands are the channels to subscribe and unsubscribe on one link, by
// group (link.group).
type commands struct {
	subs, unsubs map[int][]string
}

// plan moves the queued users to their next state and returns the
// commands to send. A user whose slot has no reachable link waits for the
// next one.
func (s *Subscriber) plan(now time.Time) map[*link]*commands {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[*link]*commands{}
	add := func(l *link, sub bool, ch string) {
		c := out[l]
		if c == nil {
			c = &commands{subs: map[int][]string{}, unsubs: map[int][]string{}}
			out[l] = c
		}
		m := c.unsubs
		if sub {
			m = c.subs
		}
		m[l.group(ch)] = append(m[l.group(ch)], ch)
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

// send issues the planned commands, one per group and at most
// channelsPerCommand channels. A failed write is only logged: go-redis
// reconnects (or the broken link is replaced) and the confirmation, or the
// give-up timer, settles each channel's state.
func (s *Subscriber) send(ctx context.Context, cmds map[*link]*commands) {
	for l, c := range cmds {
		for _, subscribe := range []bool{true, false} {
			groups := c.unsubs
			if subscribe {
				groups = c.subs
			}
			for _, channels := range groups {
				for len(channels) > 0 {
					n := min(len(channels), channelsPerCommand)
					cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					err := l.command(cctx, subscribe, channels[:n])
					cancel()
					if err != nil && ctx.Err() == nil {
						s.opts.Logger.Warn("pub/sub command failed", "shard", l.addr, "subscribe", subscribe, "channels", n, "err", err)
					}
					channels = channels[n:]
				}
			}
		}
	}
}

// Retry bounds of making the links again while it fails (on a cluster, a
// slot has no reachable master: a failover under way).
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
			backoff = remapRetryMin
			s.remap(ctx, retry, &backoff)
		case <-retry.C:
			s.remap(ctx, retry, &backoff)
		}
		s.send(ctx, s.plan(time.Now()))
	}
}

// remap makes the links again and schedules another try while it fails.
func (s *Subscriber) remap(ctx context.Context, retry *time.Timer, backoff *time.Duration) {
	if err := s.connect(ctx); err != nil {
		if ctx.Err() == nil {
			s.opts.Logger.Warn("pub/sub: cannot connect every link; retrying", "in", *backoff, "err", err)
		}
		retry.Reset(*backoff)
		*backoff = min(*backoff*2, remapRetryMax)
		return
	}
	*backoff = remapRetryMin
}
