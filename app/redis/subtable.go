package redis

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// wireState is where a user's channel stands on a pub/sub connection.
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
	shard   *shard        // cluster: the connection the subscription (or the command in flight) is on
	since   time.Time     // when the command in flight was sent
	ready   chan struct{} // closed when state becomes subscribed; a fresh one when it leaves it
	restore bool          // the next confirmation restores a subscription: its sessions catch up
}

// subTable is what Subscriber and ShardedSubscriber share: each user's
// subscription with its Acquire count and wire state, and the users whose
// state the connection's writer must look at. Acquire and Release only
// touch memory. mu also guards the embedding type's connection state.
type subTable struct {
	mu       sync.Mutex
	subs     map[int64]*subscription
	dirty    map[int64]struct{} // users whose subscription may need a command
	inflight map[int64]struct{} // users with a command awaiting confirmation
	wake     chan struct{}      // holds a token while dirty is not empty
}

func newSubTable() subTable {
	return subTable{subs: map[int64]*subscription{}, dirty: map[int64]struct{}{}, inflight: map[int64]struct{}{},
		wake: make(chan struct{}, 1)}
}

// Acquire makes sure the node is subscribed to user's channel and returns
// once Redis has confirmed the subscription: what is published after that
// is delivered. Each Acquire needs one Release, except one that returned
// an error.
func (t *subTable) Acquire(ctx context.Context, user int64) error {
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
func (t *subTable) Release(user int64) {
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
func (t *subTable) markLocked(user int64) {
	t.dirty[user] = struct{}{}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// confirmedLocked takes Redis's answer to the subscription command in
// flight for user: the subscription is ready, or, when it was made again
// on another connection, restored, which it reports (its sessions must
// catch up). One nobody holds any more goes back to the writer. mu is held.
func (t *subTable) confirmedLocked(user int64, sub *subscription) (restored bool) {
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

// expire queues the users whose command has waited too long.
func (t *subTable) expire(now time.Time) {
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
			sub.state, sub.shard = unsubscribed, nil
			delete(t.inflight, user)
			t.dirty[user] = struct{}{}
		case sub.state == subscribing && now.Sub(sub.since) >= subscribeResend:
			t.dirty[user] = struct{}{}
		}
	}
}
