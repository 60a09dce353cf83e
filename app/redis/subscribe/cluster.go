package subscribe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app/redis"
)

// On a Redis Cluster a user channel lives on the master that owns its slot
// (SPUBLISH reaches only that shard). The node holds one link per master,
// made and replaced from the slot map by the subscriber alone: go-redis
// would reconnect with every channel in one command, which Redis refuses
// once they span slots, and to an address that may no longer own them. So
// a master's replacement is followed, and a moved slot's channels, which
// Redis unsubscribes on the old owner, are subscribed again on the new.

var (
	// errShardRetired answers go-redis's own reconnect of a sharded link.
	errShardRetired   = errors.New("sharded pub/sub connection lost; the subscriber replaces it")
	errSlotsUncovered = errors.New("slots without a reachable master")
)

// dialCluster reads the slot map, keeps the links to masters that still
// own their probe's slot and connects to the others. It returns the links
// by address and each slot's owner, and fails when some slot has no
// reachable master (returning the links made too).
func (s *Subscriber) dialCluster(ctx context.Context) (map[string]*link, []*link, error) {
	var ranges []slotRange
	var err error
	for range 3 { // a node that is down, or not answering, may be asked
		if ranges, err = s.slotRanges(ctx); err == nil {
			break
		}
	}
	if err != nil {
		return nil, nil, err
	}
	addrOf := make([]string, redis.SlotCount)
	for _, r := range ranges {
		for i := r.start; i <= r.end && i < redis.SlotCount; i++ {
			addrOf[i] = r.master
		}
	}
	s.mu.Lock()
	old := s.links
	s.mu.Unlock()
	links := map[string]*link{}
	var failed error
	for _, r := range ranges {
		master := r.master
		if l := old[master]; links[master] == nil && l != nil && !l.lost.Load() && addrOf[redis.Slot(l.probe)] == master {
			links[master] = l
		} else if links[master] == nil {
			l, err := s.dialShard(ctx, master, func(slot int) bool { return addrOf[slot] == master })
			failed = errors.Join(failed, err)
			if err == nil {
				links[master] = l
			}
		}
	}
	owners := make([]*link, redis.SlotCount)
	uncovered := 0
	for i := range owners {
		if owners[i] = links[addrOf[i]]; owners[i] == nil {
			uncovered++
		}
	}
	if uncovered > 0 {
		return links, owners, fmt.Errorf("%w: %d of %d (%v)", errSlotsUncovered, uncovered, redis.SlotCount, failed)
	}
	return links, owners, nil
}

type slotRange struct {
	start, end int
	master     string
}

// slotRanges asks a cluster node for the slot map (CLUSTER SHARDS): the
// slots of each shard's master that is online.
func (s *Subscriber) slotRanges(ctx context.Context) ([]slotRange, error) {
	shards, err := s.conn.Cluster().ClusterShards(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("read the slot map: %w", err)
	}
	var out []slotRange
	for _, sh := range shards {
		for _, n := range sh.Nodes {
			host := cmp.Or(n.Endpoint, n.IP)
			if n.Role != "master" || n.Health != "online" || host == "" || host == "?" {
				continue
			}
			addr := net.JoinHostPort(host, strconv.FormatInt(n.Port, 10))
			for _, r := range sh.Slots {
				out = append(out, slotRange{start: int(r.Start), end: int(r.End), master: addr})
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("read the slot map: no slot has a master")
	}
	return out, nil
}

// dialShard connects to master addr and subscribes to its probe channel,
// in a slot owned says is addr's, and starts its reader.
func (s *Subscriber) dialShard(ctx context.Context, addr string, owned func(slot int) bool) (*link, error) {
	tag, ok := s.keys.ProbeTagFor(owned)
	if !ok {
		return nil, fmt.Errorf("connect to shard %s: no probe channel hashes to its slots", addr)
	}
	l := newLink(addr, s.keys.ShardProbe(s.opts.NodeID, tag), true)
	o := s.conn.Cluster().Options()
	var dialed atomic.Bool
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	l.client = goredis.NewClient(&goredis.Options{Addr: addr, Username: o.Username, Password: o.Password,
		TLSConfig: o.TLSConfig, Protocol: 2, MaxRetries: -1, PoolSize: 1, DisableIdentity: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dialed.Swap(true) {
				s.retire(l)
				return nil, errShardRetired
			}
			return dialer.DialContext(ctx, network, addr)
		}})
	l.ps = l.client.SSubscribe(ctx)
	if err := l.ps.SSubscribe(ctx, l.probe); err != nil {
		l.close()
		return nil, fmt.Errorf("connect to shard %s: %w", addr, err)
	}
	s.readers.Add(1)
	go s.readShard(l)
	return l, nil
}

// readShard hands on what arrives on l until the connection ends. An
// error reply (MOVED, CLUSTERDOWN) has the slot map read again; a broken
// connection retires l.
func (s *Subscriber) readShard(l *link) {
	defer s.readers.Done()
	for {
		msg, err := l.ps.Receive(context.Background())
		switch {
		case err == nil:
			s.handle(l, msg)
		case l.lost.Load() || errors.Is(err, goredis.ErrClosed):
			return
		case redis.IsReply(err):
			s.opts.Logger.Warn("sharded pub/sub command refused; reading the slot map again", "shard", l.addr, "err", err)
			s.remapSoon()
		default:
			s.opts.Logger.Warn("sharded pub/sub connection lost", "shard", l.addr, "err", err)
			s.retire(l)
			return
		}
	}
}
