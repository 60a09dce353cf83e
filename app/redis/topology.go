package redis

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retry bounds of reading the slot map while a slot has no reachable
// master (a failover under way).
const (
	remapRetryMin = 100 * time.Millisecond
	remapRetryMax = 2 * time.Second
)

// write sends the commands the queued users need, reads the slot map again
// when asked (and, while a slot has no reachable master, with backoff),
// until ctx ends.
func (s *ShardedSubscriber) write(ctx context.Context) {
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
			s.remapOrRetry(ctx, retry, &backoff)
		case <-retry.C:
			s.remapOrRetry(ctx, retry, &backoff)
		}
		s.send(ctx, s.plan(time.Now()))
	}
}

// remapOrRetry reads the slot map and schedules another read while it
// fails or leaves slots without a master.
func (s *ShardedSubscriber) remapOrRetry(ctx context.Context, retry *time.Timer, backoff *time.Duration) {
	if err := s.remap(ctx); err != nil {
		if ctx.Err() == nil {
			s.opts.Logger.Warn("sharded pub/sub: slot map incomplete; retrying", "in", *backoff, "err", err)
		}
		retry.Reset(*backoff)
		*backoff = min(*backoff*2, remapRetryMax)
		return
	}
	*backoff = remapRetryMin
}

// errSlotsUncovered means some slots have no reachable master.
var errSlotsUncovered = errors.New("slots without a reachable master")

// remap reads the cluster's slot map, connects to masters that have no
// connection, retires connections that broke or went silent and those of
// nodes that are no longer masters, and queues every subscription whose
// connection is gone or whose slot moved: it is made again on the slot's
// master and restored (catch-up). It fails when some slot has no
// reachable master (the caller retries).
func (s *ShardedSubscriber) remap(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var ranges []slotRange
	var err error
	for range 3 { // a node that is down, or not answering, may be asked
		if ranges, err = s.slotRanges(ctx); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	addrOf := make([]string, SlotCount)
	for _, r := range ranges {
		for i := r.start; i <= r.end && i < SlotCount; i++ {
			addrOf[i] = r.master
		}
	}
	s.mu.Lock()
	old := s.shards
	s.mu.Unlock()
	shards := map[string]*shard{}
	var retired []*shard
	var failed error
	for _, r := range ranges {
		if _, done := shards[r.master]; done {
			continue
		}
		if sh := old[r.master]; sh != nil && !sh.lost.Load() && addrOf[Slot(sh.probe)] == r.master {
			shards[r.master] = sh
			continue
		}
		master := r.master
		sh, err := s.dialShard(ctx, master, func(slot int) bool { return addrOf[slot] == master })
		if err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		shards[master] = sh
	}
	for addr, sh := range old {
		if shards[addr] != sh {
			retired = append(retired, sh)
		}
	}
	uncovered := 0
	s.mu.Lock()
	for i := range s.owners {
		s.owners[i] = shards[addrOf[i]]
		if s.owners[i] == nil {
			uncovered++
		}
	}
	s.shards, s.mapped = shards, true
	for user, sub := range s.subs {
		switch {
		case sub.shard != nil && (sub.shard.lost.Load() || shards[sub.shard.addr] != sub.shard ||
			s.owners[Slot(s.keys.Channel(user))] != sub.shard):
			s.detachLocked(user, sub)
		case sub.state == unsubscribed:
			s.markLocked(user)
		}
	}
	s.mu.Unlock()
	for _, sh := range retired {
		s.resubs.Add(1)
		sh.close()
	}
	if uncovered > 0 {
		return fmt.Errorf("%w: %d of %d (%v)", errSlotsUncovered, uncovered, SlotCount, failed)
	}
	return nil
}

// slotRange is a range of slots and the address of their master.
type slotRange struct {
	start, end int
	master     string
}

// slotRanges asks a cluster node for the slot map (CLUSTER SLOTS).
func (s *ShardedSubscriber) slotRanges(ctx context.Context) ([]slotRange, error) {
	slots, err := s.cluster.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("read the slot map: %w", err)
	}
	out := make([]slotRange, 0, len(slots))
	for _, r := range slots {
		if len(r.Nodes) == 0 || r.Nodes[0].Addr == "" {
			continue
		}
		out = append(out, slotRange{start: int(r.Start), end: int(r.End), master: r.Nodes[0].Addr})
	}
	if len(out) == 0 {
		return nil, errors.New("read the slot map: no slot has a master")
	}
	return out, nil
}

// shardCommands are the channels to subscribe and unsubscribe on one
// connection, grouped by slot.
type shardCommands struct {
	subs, unsubs map[int][]string
}

// plan moves the queued users to their next state and returns the
// commands to send. A user whose slot has no reachable master waits for
// the next slot map.
func (s *ShardedSubscriber) plan(now time.Time) map[*shard]*shardCommands {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[*shard]*shardCommands{}
	add := func(sh *shard, sub bool, ch string) {
		c := out[sh]
		if c == nil {
			c = &shardCommands{subs: map[int][]string{}, unsubs: map[int][]string{}}
			out[sh] = c
		}
		if sub {
			c.subs[Slot(ch)] = append(c.subs[Slot(ch)], ch)
		} else {
			c.unsubs[Slot(ch)] = append(c.unsubs[Slot(ch)], ch)
		}
	}
	for user := range s.dirty {
		sub := s.subs[user]
		if sub == nil {
			delete(s.dirty, user)
			continue
		}
		ch := s.keys.Channel(user)
		switch {
		case sub.refs > 0 && sub.state == unsubscribed,
			sub.refs > 0 && sub.state == subscribing && now.Sub(sub.since) >= subscribeResend:
			sh := sub.shard
			if sub.state == unsubscribed {
				sh = s.owners[Slot(ch)]
			}
			if sh == nil || sh.lost.Load() {
				continue // stays queued until the next slot map gives the slot a master
			}
			sub.state, sub.shard, sub.since = subscribing, sh, now
			s.inflight[user] = struct{}{}
			add(sh, true, ch)
		case sub.refs == 0 && sub.state == subscribed:
			sub.state, sub.since = unsubscribing, now
			sub.ready = make(chan struct{})
			s.inflight[user] = struct{}{}
			add(sub.shard, false, ch)
		case sub.refs == 0 && sub.state == unsubscribed:
			delete(s.subs, user)
		}
		delete(s.dirty, user)
	}
	return out
}

// send issues the planned commands, one per slot (and at most
// channelsPerCommand channels). A failed write is only logged: the broken
// connection is replaced, and every subscription on it made again.
func (s *ShardedSubscriber) send(ctx context.Context, cmds map[*shard]*shardCommands) {
	for sh, c := range cmds {
		for _, group := range []struct {
			kind  string
			slots map[int][]string
		}{{"ssubscribe", c.subs}, {"sunsubscribe", c.unsubs}} {
			for _, channels := range group.slots {
				for len(channels) > 0 {
					n := min(len(channels), channelsPerCommand)
					cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					var err error
					if group.kind == "ssubscribe" {
						err = sh.ps.SSubscribe(cctx, channels[:n]...)
					} else {
						err = sh.ps.SUnsubscribe(cctx, channels[:n]...) // never empty: that would drop every channel
					}
					cancel()
					if err != nil && ctx.Err() == nil {
						s.opts.Logger.Warn("sharded pub/sub command failed", "shard", sh.addr, "command", group.kind, "channels", n, "err", err)
					}
					channels = channels[n:]
				}
			}
		}
	}
}
