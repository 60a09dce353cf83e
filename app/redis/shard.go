package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// errShardRetired is what the dialer of a shard connection answers
// go-redis's own reconnect attempt: the subscriber replaces the
// connection instead.
var errShardRetired = errors.New("sharded pub/sub connection lost; the subscriber replaces it")

// shard is one pub/sub connection to one cluster master. It carries the
// SSUBSCRIBEs of the users whose slots that master owns, and the node's
// probe channel of that shard. It is used for one TCP connection only.
type shard struct {
	addr      string
	probe     string // the probe channel, in a slot of this master
	client    *goredis.Client
	ps        *goredis.PubSub
	born      time.Time
	confirmed chan struct{} // closed when the probe subscription is confirmed
	confirm   sync.Once

	lost      atomic.Bool  // the connection broke or went silent: never used again
	lastProbe atomic.Int64 // unix nanos of the last probe received
	probeSent atomic.Int64 // unix nanos at which the last probe received was sent
}

// dialShard connects to master addr and subscribes to its probe channel,
// chosen among the slots owned says are addr's; a reader goroutine hands
// on what arrives.
func (s *ShardedSubscriber) dialShard(ctx context.Context, addr string, owned func(slot int) bool) (*shard, error) {
	tag, ok := s.keys.ProbeTagFor(owned)
	if !ok {
		return nil, fmt.Errorf("connect to shard %s: no probe channel hashes to its slots", addr)
	}
	sh := &shard{addr: addr, born: time.Now(), confirmed: make(chan struct{}), probe: s.keys.ShardProbe(s.opts.NodeID, tag)}
	o := s.cluster.Options()
	var dialed atomic.Bool
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	sh.client = goredis.NewClient(&goredis.Options{Addr: addr, Username: o.Username, Password: o.Password,
		TLSConfig: o.TLSConfig, Protocol: 2, MaxRetries: -1, PoolSize: 1, DisableIdentity: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dialed.Swap(true) {
				if !sh.lost.Swap(true) {
					s.remapSoon()
				}
				return nil, errShardRetired
			}
			return dialer.DialContext(ctx, network, addr)
		}})
	sh.ps = sh.client.SSubscribe(ctx)
	if err := sh.ps.SSubscribe(ctx, sh.probe); err != nil {
		sh.close()
		return nil, fmt.Errorf("connect to shard %s: %w", addr, err)
	}
	s.readers.Add(1)
	go s.readShard(sh)
	return sh, nil
}

// readShard hands on what arrives on sh until the connection ends. An
// error reply (MOVED, CLUSTERDOWN: a command reached a master that no
// longer owns the slot, or a cluster that is failing over) has the slot map
// read again; a broken connection retires sh.
func (s *ShardedSubscriber) readShard(sh *shard) {
	defer s.readers.Done()
	for {
		msg, err := sh.ps.Receive(context.Background())
		if err != nil {
			if sh.lost.Load() || errors.Is(err, goredis.ErrClosed) {
				return
			}
			var reply goredis.Error
			if errors.As(err, &reply) {
				s.opts.Logger.Warn("sharded pub/sub command refused; reading the slot map again", "shard", sh.addr, "err", err)
				s.remapSoon()
				continue
			}
			s.opts.Logger.Warn("sharded pub/sub connection lost", "shard", sh.addr, "err", err)
			if !sh.lost.Swap(true) {
				s.remapSoon()
			}
			return
		}
		switch m := msg.(type) {
		case *goredis.Message:
			if m.Channel == sh.probe {
				sh.lastProbe.Store(time.Now().UnixNano())
				if sent, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
					sh.probeSent.Store(sent)
				}
				continue
			}
			s.deliver(m.Channel, m.Payload)
		case *goredis.Subscription:
			s.subscription(sh, m)
		}
	}
}

// subscription handles a confirmation (or Redis's own SUNSUBSCRIBE) on sh.
func (s *ShardedSubscriber) subscription(sh *shard, m *goredis.Subscription) {
	if m.Channel == sh.probe {
		switch m.Kind {
		case "ssubscribe":
			sh.lastProbe.Store(time.Now().UnixNano())
			sh.confirm.Do(func() { close(sh.confirmed) })
		case "sunsubscribe": // the probe's slot moved: replace the connection
			if !sh.lost.Swap(true) {
				s.remapSoon()
			}
		}
		return
	}
	user, ok := s.keys.ChannelUser(m.Channel)
	if !ok {
		return
	}
	switch m.Kind {
	case "ssubscribe":
		s.confirmSubscribe(sh, user)
	case "sunsubscribe":
		s.confirmUnsubscribe(sh, user)
	}
}

// close ends sh's connection (its reader returns).
func (sh *shard) close() {
	sh.lost.Store(true)
	if sh.ps != nil {
		sh.ps.Close()
	}
	sh.client.Close()
}
