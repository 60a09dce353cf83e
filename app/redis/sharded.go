package redis

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// ShardedSubscriber is the node's subscription on a Redis Cluster. User
// channels are sharded (SSUBSCRIBE): a channel lives on the master that
// owns its slot, and a publish (SPUBLISH) reaches only that shard. The node
// holds one pub/sub connection per master, made and replaced by this type
// alone from the cluster's slot map:
//
//   - SSUBSCRIBE and SUNSUBSCRIBE commands are grouped by slot (Redis
//     refuses a command whose channels span slots, CROSSSLOT);
//   - go-redis never reconnects these connections itself (it would send
//     every channel of the connection in one command, which Redis refuses
//     as soon as they span slots, and to an address that may no longer own
//     them): a connection that breaks is replaced after the slot map is read
//     again, so a master killed and replaced by its replica is followed to
//     the new one;
//   - a slot that moves (resharding, failover) unsubscribes its channels on
//     the old owner (Redis sends SUNSUBSCRIBE): they are subscribed again on
//     the new one.
//
// A subscription restored anywhere but on its first confirmation makes the
// receiver catch the user's sessions up from the stored stream
// (Resubscribed), as a pub/sub reconnect does in standalone mode: nothing
// published meanwhile is lost. Each connection subscribes to a probe
// channel in one of its slots; Probe publishes to it and Healthy reports a
// shard whose probes stopped coming back or whose slots have no reachable
// master.
type ShardedSubscriber struct {
	dispatch
	cluster *goredis.ClusterClient

	subTable                   // mu also guards owners, shards and mapped
	owners   []*shard          // slot -> the connection of its master (nil: none reachable)
	shards   map[string]*shard // live connections by master address
	mapped   bool              // a slot map was read
	refresh  chan struct{}     // the slot map must be read again

	resubs     atomic.Int64
	stop       context.CancelFunc
	readers    sync.WaitGroup
	writerDone chan struct{}
}

// NewShardedSubscriber returns the subscriber of a node on a Redis
// Cluster; call Start to start it.
func NewShardedSubscriber(rdb *goredis.ClusterClient, keys Keys, opts SubscriberOptions) *ShardedSubscriber {
	return &ShardedSubscriber{dispatch: dispatch{rdb: rdb, keys: keys, opts: opts.withDefaults()}, cluster: rdb,
		subTable: newSubTable(), owners: make([]*shard, SlotCount), shards: map[string]*shard{},
		refresh: make(chan struct{}, 1), writerDone: make(chan struct{})}
}

// Start reads the slot map, connects to every master and returns once
// each has confirmed its probe subscription.
func (s *ShardedSubscriber) Start(ctx context.Context, recv Receiver) error {
	s.recv = recv
	if err := s.remap(ctx); err != nil {
		s.closeShards()
		return fmt.Errorf("sharded subscribe: %w", err)
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	go s.write(wctx)
	for _, sh := range s.liveShards() {
		select {
		case <-sh.confirmed:
		case <-ctx.Done():
			return fmt.Errorf("sharded subscribe to %s: %w", sh.addr, ctx.Err())
		}
	}
	return nil
}

// remapSoon asks the writer to read the slot map again.
func (s *ShardedSubscriber) remapSoon() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

// confirmSubscribe handles sh's confirmation of user's SSUBSCRIBE.
func (s *ShardedSubscriber) confirmSubscribe(sh *shard, user int64) {
	s.mu.Lock()
	sub := s.subs[user]
	restored := false
	if sub != nil && sub.shard == sh && sub.state == subscribing {
		restored = s.confirmedLocked(user, sub)
	}
	s.mu.Unlock()
	if restored {
		s.recv.Resubscribed(user)
	}
}

// confirmUnsubscribe handles a SUNSUBSCRIBE of user's channel from sh: the
// answer to the one in flight, or Redis dropping the subscription because
// the slot moved to another master (it is then made again there).
func (s *ShardedSubscriber) confirmUnsubscribe(sh *shard, user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[user]
	if sub == nil || sub.shard != sh {
		return
	}
	switch sub.state {
	case unsubscribing:
		s.detachLocked(user, sub)
	case subscribed, subscribing:
		s.detachLocked(user, sub)
		s.remapSoon()
	}
}

// detachLocked takes user's subscription off its connection (gone, or no
// longer the owner of its slot) and queues it: with sessions left it is
// made again on the slot's master, restored. s.mu is held.
func (s *ShardedSubscriber) detachLocked(user int64, sub *subscription) {
	if sub.state == subscribed {
		if sub.refs > 0 {
			sub.restore = true // ready stays closed: sessions keep running meanwhile
		} else {
			sub.ready = make(chan struct{})
		}
	}
	sub.state, sub.shard = unsubscribed, nil
	delete(s.inflight, user)
	s.markLocked(user)
}

// Resubscriptions counts the shard connections replaced and the
// subscriptions moved to another master.
func (s *ShardedSubscriber) Resubscriptions() int64 { return s.resubs.Load() }

// Close ends every connection.
func (s *ShardedSubscriber) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.writerDone
	}
	s.closeShards()
	s.readers.Wait()
	return nil
}

// liveShards returns the current connections.
func (s *ShardedSubscriber) liveShards() []*shard {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*shard, 0, len(s.shards))
	for _, sh := range s.shards {
		out = append(out, sh)
	}
	return out
}

func (s *ShardedSubscriber) closeShards() {
	s.mu.Lock()
	all := s.shards
	s.shards = map[string]*shard{}
	clear(s.owners)
	s.mu.Unlock()
	for _, sh := range all {
		sh.close()
	}
}
