package coord

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// Presence defaults.
const (
	DefaultHeartbeat   = 5 * time.Second
	DefaultPresenceTTL = 30 * time.Second
)

// Fields of the node hash; SetInfo cannot override them.
const (
	fieldNodeID      = "node_id"
	fieldConnections = "connections"
	fieldUsers       = "users"
	fieldStartedAt   = "started_at"
	fieldHeartbeatAt = "heartbeat_at"
)

var reservedNodeFields = []string{fieldNodeID, fieldConnections, fieldUsers, fieldStartedAt, fieldHeartbeatAt}

// PresenceOptions configure one node's presence.
type PresenceOptions struct {
	NodeID    string        // unique among the live nodes of a deployment (required)
	Heartbeat time.Duration // how often the node rewrites its keys (default 5 s)
	// TTL is how long a silent node stays live: then its keys expire and the
	// other nodes ignore and prune it (default 30 s). It must exceed
	// Heartbeat; node clocks must agree to well within it.
	TTL    time.Duration
	Now    func() time.Time // the clock (default time.Now)
	Logger *slog.Logger     // the background loop's Redis errors (nil: discarded)
}

// Presence publishes one node's users (Keys.NodeUsers), stats (Keys.Node)
// and heartbeat (its score in Keys.Nodes) to Redis and reads the whole
// cluster's. A node whose heartbeat is older than TTL is dead: readers
// ignore it, live nodes prune it from Nodes, and its keys expire. A node
// that stops normally (Run's context done) removes its keys at once.
type Presence struct {
	rdb       goredis.UniversalClient
	keys      redis.Keys
	id        string
	heartbeat time.Duration
	ttl       time.Duration
	now       func() time.Time
	log       *slog.Logger

	conns        atomic.Int64
	connsWritten int64 // connections as last written (Run's goroutine only)

	mu      sync.Mutex
	pending map[int64]bool    // user -> online: the last queued state
	info    map[string]string // extra fields of the node hash

	wake chan struct{} // holds a token while changes wait

	applied map[int64]struct{} // the users written to NodeUsers (Run's goroutine only, as the next two)
	synced  bool               // NodeUsers is known to hold exactly applied
	started int64              // unix seconds Run began
}

// NewPresence returns the presence of node opts.NodeID on c. It panics
// without a NodeID or when TTL does not exceed Heartbeat. Nothing is written
// until Run.
func NewPresence(c *redis.Conn, opts PresenceOptions) *Presence {
	if opts.NodeID == "" {
		panic("coord: PresenceOptions.NodeID is required")
	}
	opts.Heartbeat = cmp.Or(max(opts.Heartbeat, 0), DefaultHeartbeat)
	opts.TTL = cmp.Or(max(opts.TTL, 0), DefaultPresenceTTL)
	if opts.TTL <= opts.Heartbeat {
		panic(fmt.Sprintf("coord: presence TTL %v must exceed Heartbeat %v", opts.TTL, opts.Heartbeat))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)).With("node_id", opts.NodeID)
	return &Presence{rdb: c.Client(), keys: c.Keys(), id: opts.NodeID, heartbeat: opts.Heartbeat, ttl: opts.TTL,
		now: opts.Now, log: log, pending: map[int64]bool{}, info: map[string]string{}, wake: make(chan struct{}, 1),
		applied: map[int64]struct{}{}}
}

// UserOnline records that user has a session on this node (its first local
// one opened). It never blocks: Run writes the change shortly after.
func (p *Presence) UserOnline(user int64) { p.queue(user, true) }

// UserOffline records that user has no session left on this node, as
// UserOnline does; of a user's changes between two writes, the last wins.
func (p *Presence) UserOffline(user int64) { p.queue(user, false) }

func (p *Presence) queue(user int64, online bool) {
	p.mu.Lock()
	p.pending[user] = online
	p.mu.Unlock()
	wake(p.wake)
}

// SetConnections records how many sessions the node holds, for Run to
// write with the other changes. It never blocks.
func (p *Presence) SetConnections(n int) {
	p.conns.Store(int64(n))
	wake(p.wake)
}

// wake gives ch (of capacity 1) a token unless it holds one: a write is
// due already.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// SetInfo sets an extra field of the node hash (e.g. http_addr), published
// from the next heartbeat on and shown in app.NodeStats.Extra; an empty
// value removes it. The standard fields cannot be set this way.
func (p *Presence) SetInfo(field, value string) {
	if slices.Contains(reservedNodeFields, field) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.info[field] = value
	maps.DeleteFunc(p.info, func(_, v string) bool { return v == "" })
}

// Run keeps the node's keys in Redis until ctx is done, then removes them.
// It empties the node's user set first (a node restarted under the same id
// does not show the users of its previous life), then writes queued
// changes as they arrive and the heartbeat every Heartbeat. Call it once.
func (p *Presence) Run(ctx context.Context) {
	p.started = p.now().Unix()
	p.step(ctx, true)
	tick := time.NewTicker(p.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.cleanup(ctx)
			return
		case <-p.wake:
			p.step(ctx, false)
		case <-tick.C:
			p.step(ctx, true)
		}
	}
}

// step writes the queued user changes and, when beat, the heartbeat, in
// one transaction; NodeUsers is rewritten whole until known to be in sync.
// Changes that fail are queued again unless newer ones superseded them.
func (p *Presence) step(ctx context.Context, beat bool) {
	p.mu.Lock()
	changes := p.pending
	p.pending = map[int64]bool{}
	info := maps.Clone(p.info)
	p.mu.Unlock()
	users := maps.Clone(p.applied)
	var adds, rems []any
	for u, online := range changes {
		if online {
			users[u] = struct{}{}
			adds = append(adds, u)
		} else {
			delete(users, u)
			rems = append(rems, u)
		}
	}
	conns := p.conns.Load()
	if !beat && p.synced && len(changes) == 0 && conns == p.connsWritten {
		return
	}
	usersKey := p.keys.NodeUsers(p.id)
	pipe := p.rdb.TxPipeline()
	if !p.synced {
		pipe.Del(ctx, usersKey)
		adds, rems = make([]any, 0, len(users)), nil
		for u := range users {
			adds = append(adds, u)
		}
	}
	if len(adds) > 0 {
		pipe.SAdd(ctx, usersKey, adds...)
	}
	if len(rems) > 0 {
		pipe.SRem(ctx, usersKey, rems...)
	}
	pipe.PExpire(ctx, usersKey, p.ttl)
	card := p.writeNode(ctx, pipe, beat, conns, len(users), info)
	if _, err := pipe.Exec(ctx); err != nil {
		p.requeue(changes)
		if ctx.Err() == nil {
			p.log.WarnContext(ctx, "presence: write to redis failed", "heartbeat", beat, "err", err)
		}
		return
	}
	p.applied, p.synced, p.connsWritten = users, true, conns
	if card != nil && card.Val() != int64(len(users)) {
		// The set was lost (expired during a stall, or Redis restarted):
		// rewrite it whole at once.
		p.log.WarnContext(ctx, "presence: user set out of sync, rewriting", "redis", card.Val(), "local", len(users))
		p.synced = false
		p.step(ctx, false)
	}
}

// writeNode queues the node hash's counts on pipe or, when beat, the whole
// hash, the heartbeat, and (returned) the read of the user set's size.
func (p *Presence) writeNode(ctx context.Context, pipe goredis.Pipeliner, beat bool, conns int64, users int,
	info map[string]string) *goredis.IntCmd {
	nodeKey := p.keys.Node(p.id)
	if !beat {
		// Keep the count current between heartbeats; the key exists
		// since Run's first step wrote it.
		pipe.HSet(ctx, nodeKey, fieldUsers, users, fieldConnections, conns)
		pipe.PExpire(ctx, nodeKey, p.ttl)
		return nil
	}
	now := p.now()
	fields := []any{fieldNodeID, p.id, fieldConnections, conns, fieldUsers, users, fieldStartedAt, p.started,
		fieldHeartbeatAt, now.UnixMilli()}
	for k, v := range info {
		fields = append(fields, k, v)
	}
	pipe.Del(ctx, nodeKey)
	pipe.HSet(ctx, nodeKey, fields...)
	pipe.PExpire(ctx, nodeKey, p.ttl)
	pipe.ZAdd(ctx, p.keys.Nodes(), goredis.Z{Score: float64(now.UnixMilli()), Member: p.id})
	pipe.ZRemRangeByScore(ctx, p.keys.Nodes(), "-inf", "("+strconv.FormatInt(p.cutoff(now), 10))
	pipe.PExpire(ctx, p.keys.Nodes(), p.ttl)
	return pipe.SCard(ctx, p.keys.NodeUsers(p.id))
}

// requeue puts back changes that failed, unless newer ones were queued.
func (p *Presence) requeue(changes map[int64]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for u, online := range changes {
		if _, newer := p.pending[u]; !newer {
			p.pending[u] = online
		}
	}
}

func (p *Presence) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	pipe := p.rdb.TxPipeline()
	pipe.ZRem(ctx, p.keys.Nodes(), p.id)
	pipe.Del(ctx, p.keys.Node(p.id), p.keys.NodeUsers(p.id))
	if _, err := pipe.Exec(ctx); err != nil {
		p.log.WarnContext(ctx, "presence: remove node keys failed", "err", err)
	}
}

// cutoff is the oldest heartbeat (unix ms) of a live node at now.
func (p *Presence) cutoff(now time.Time) int64 { return now.Add(-p.ttl).UnixMilli() }

// Online returns every user with a session on a live node, sorted, without
// duplicates. A dead node's users are left out even before it is pruned.
func (p *Presence) Online(ctx context.Context) ([]int64, error) {
	_, users, err := p.read(ctx, false)
	return users, err
}

// Stats returns the stats of every live node and the cluster totals.
func (p *Presence) Stats(ctx context.Context) (app.ClusterStats, error) {
	nodes, users, err := p.read(ctx, true)
	st := app.ClusterStats{Nodes: append([]app.NodeStats{}, nodes...), OnlineUsers: len(users)}
	for _, n := range nodes {
		st.TotalConnections += n.Connections
	}
	return st, err
}

// read returns the users of the live nodes (whose heartbeat is within
// TTL) and, with stats, the live nodes' stats, sorted by id.
func (p *Presence) read(ctx context.Context, stats bool) ([]app.NodeStats, []int64, error) {
	cutoff := strconv.FormatInt(p.cutoff(p.now()), 10)
	ids, err := p.rdb.ZRangeByScore(ctx, p.keys.Nodes(), &goredis.ZRangeBy{Min: cutoff, Max: "+inf"}).Result()
	if err != nil {
		return nil, []int64{}, fmt.Errorf("presence: list nodes: %w", err)
	}
	if len(ids) == 0 {
		return nil, []int64{}, nil
	}
	slices.Sort(ids)
	pipe := p.rdb.Pipeline()
	hashes := make([]*goredis.MapStringStringCmd, len(ids))
	userKeys := make([]string, len(ids))
	for i, id := range ids {
		if userKeys[i] = p.keys.NodeUsers(id); stats {
			hashes[i] = pipe.HGetAll(ctx, p.keys.Node(id))
		}
	}
	union := pipe.SUnion(ctx, userKeys...)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("presence: read nodes: %w", err)
	}
	var nodes []app.NodeStats
	for i, h := range hashes {
		if h != nil && len(h.Val()) > 0 { // not removed since the node list was read
			nodes = append(nodes, parseNode(ids[i], h.Val()))
		}
	}
	users := make([]int64, 0, len(union.Val()))
	for _, m := range union.Val() {
		u, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("presence: user set member %q is not a user id", m)
		}
		users = append(users, u)
	}
	slices.Sort(users)
	return nodes, users, nil
}

// parseNode reads a node hash; unparsable numbers read as 0.
func parseNode(id string, h map[string]string) app.NodeStats {
	num := func(f string) int64 {
		v, _ := strconv.ParseInt(h[f], 10, 64)
		return v
	}
	n := app.NodeStats{NodeID: id, Connections: int(num(fieldConnections)), Users: int(num(fieldUsers)),
		StartedAt: num(fieldStartedAt), HeartbeatAt: num(fieldHeartbeatAt)}
	maps.DeleteFunc(h, func(k, _ string) bool { return slices.Contains(reservedNodeFields, k) })
	if len(h) > 0 {
		n.Extra = h
	}
	return n
}
