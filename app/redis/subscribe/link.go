package subscribe

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app/redis"
)

// link is one pub/sub connection: to the one server, or to one cluster
// master (sharded), with the node's probe channel.
type link struct {
	addr      string // the master's address; "" on one server
	sharded   bool   // SSUBSCRIBE on a cluster master
	probe     string
	client    *goredis.Client // a sharded link's own client
	ps        *goredis.PubSub
	born      time.Time
	confirmed chan struct{} // closed when the probe subscription is confirmed
	confirm   sync.Once

	lost      atomic.Bool  // it broke or went silent: never used again
	lastProbe atomic.Int64 // unix nanos of the last probe received (or of its birth)
	probeSent atomic.Int64 // unix nanos at which the last probe received was sent

	// Probe's own: the oldest probe Redis took that has not come back, and
	// when Redis answered its publish. go-redis bounds a publish by its read
	// timeout, not by ctx: one sent during a partition may be answered only
	// when it heals.
	waitSent  int64
	waitSince time.Time
}

func newLink(addr, probe string, sharded bool) *link {
	l := &link{addr: addr, probe: probe, sharded: sharded, born: time.Now(), confirmed: make(chan struct{})}
	l.lastProbe.Store(l.born.UnixNano())
	return l
}

func (l *link) name() string {
	if l.addr == "" {
		return ""
	}
	return "shard " + l.addr + ": "
}

// group is the group of channels that one command may carry: Redis
// refuses a sharded command whose channels span slots (CROSSSLOT).
func (l *link) group(channel string) int {
	if l.sharded {
		return redis.Slot(channel)
	}
	return 0
}

// command sends a (sharded) SUBSCRIBE or UNSUBSCRIBE of channels, which is
// never empty: that would drop every channel.
func (l *link) command(ctx context.Context, subscribe bool, channels []string) error {
	switch {
	case l.sharded && subscribe:
		return l.ps.SSubscribe(ctx, channels...)
	case l.sharded:
		return l.ps.SUnsubscribe(ctx, channels...)
	case subscribe:
		return l.ps.Subscribe(ctx, channels...)
	}
	return l.ps.Unsubscribe(ctx, channels...)
}

func (l *link) close() {
	l.lost.Store(true)
	if l.ps != nil {
		l.ps.Close()
	}
	if l.client != nil {
		l.client.Close()
	}
}

// dialServer keeps the link to the one server, or replaces a lost one with
// a pub/sub connection subscribed to the node's probe channel, and starts
// its reader. go-redis reconnects it and resubscribes by itself.
func (s *Subscriber) dialServer(ctx context.Context) (map[string]*link, []*link, error) {
	s.mu.Lock()
	l := s.links[""]
	s.mu.Unlock()
	if l != nil && !l.lost.Load() {
		return map[string]*link{"": l}, []*link{l}, nil
	}
	l = newLink("", s.keys.NodeProbe(s.opts.NodeID), false)
	l.ps = s.conn.Client().Subscribe(ctx)
	if err := l.ps.Subscribe(ctx, l.probe); err != nil {
		l.ps.Close()
		return nil, nil, err
	}
	// The channel is drained at once (Receiver never blocks); a big buffer
	// rides out bursts instead of tripping go-redis's 60 s drop timer.
	ch := l.ps.ChannelWithSubscriptions(goredis.WithChannelSize(16384), goredis.WithChannelHealthCheckInterval(time.Second))
	s.readers.Add(1)
	go func() {
		defer s.readers.Done()
		for m := range ch {
			s.handle(l, m)
		}
	}()
	return map[string]*link{"": l}, []*link{l}, nil
}

func (s *Subscriber) handle(l *link, msg any) {
	switch m := msg.(type) {
	case *goredis.Message:
		if m.Channel == l.probe {
			l.lastProbe.Store(time.Now().UnixNano())
			if sent, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
				l.probeSent.Store(sent)
			}
			return
		}
		s.deliver(m.Channel, m.Payload)
	case *goredis.Subscription:
		subscribed := m.Kind == "subscribe" || m.Kind == "ssubscribe"
		if m.Channel == l.probe {
			s.probeConfirmed(l, subscribed)
		} else if user, ok := s.keys.ChannelUser(m.Channel); ok && subscribed {
			s.confirmSubscribe(l, user)
		} else if ok {
			s.confirmUnsubscribe(l, user)
		}
	}
}

// probeConfirmed takes a confirmation of l's probe channel: the first
// makes l ready, another says go-redis restored the connection. On a
// cluster, an unsubscribe means the probe's slot moved: l is replaced.
func (s *Subscriber) probeConfirmed(l *link, subscribed bool) {
	if !subscribed {
		if l.sharded {
			s.retire(l)
		}
		return
	}
	l.lastProbe.Store(time.Now().UnixNano())
	first := false
	l.confirm.Do(func() { close(l.confirmed); first = true })
	if !first {
		s.resubs.Add(1)
	}
}

// Probe publishes to every link's probe channel each ProbeInterval until
// ctx is done, and replaces (its users catch up) a link whose probes, taken
// by Redis, have not come back for StaleAfter. A failed publish (Redis
// unreachable: go-redis or the slot map deal with it) starts the count
// again. Run it once.
func (s *Subscriber) Probe(ctx context.Context) {
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, l := range s.liveLinks() {
			s.probeLink(ctx, l)
		}
	}
}

func (s *Subscriber) probeLink(ctx context.Context, l *link) {
	sent := time.Now().UnixNano()
	pctx, cancel := context.WithTimeout(ctx, s.opts.ProbeInterval)
	err := s.conn.Publish(pctx, s.conn.Client(), l.probe, strconv.FormatInt(sent, 10)).Err()
	cancel()
	switch {
	case err != nil:
		l.waitSent = 0
	case l.waitSent != 0 && l.probeSent.Load() >= l.waitSent:
		l.waitSent = 0 // it came back
	}
	if err == nil && l.waitSent == 0 && l.probeSent.Load() < sent {
		l.waitSent, l.waitSince = sent, time.Now()
	}
	if l.waitSent != 0 && time.Since(l.waitSince) >= s.opts.StaleAfter && time.Since(l.born) >= s.opts.StaleAfter {
		s.opts.Logger.Warn("pub/sub connection silent; replacing it", "shard", l.addr)
		l.waitSent = 0
		s.retire(l)
	}
}
