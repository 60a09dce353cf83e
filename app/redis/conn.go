package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Mode is how a deployment reaches Redis.
type Mode string

// The modes of redis.mode.
const (
	ModeStandalone Mode = "standalone" // one server (today's behaviour)
	ModeSentinel   Mode = "sentinel"   // a master found through sentinels, replaced by them on failure
	ModeCluster    Mode = "cluster"    // a Redis Cluster: keys and sharded channels spread over its masters
)

// Config says how to reach a deployment's Redis and names its keys.
type Config struct {
	Mode       Mode
	Addr       string   // the server (standalone mode)
	Addrs      []string // some nodes of the cluster, or the sentinels
	MasterName string   // the master's name as the sentinels know it
	Password   string
	DB         int
	Namespace  string
	PoolSize   int // connections of the shared pool (0: go-redis's default)
}

// Conn is a deployment's Redis: the client and its mode, the deployment's
// keys, and a client of its own for blocking waits.
type Conn struct {
	rdb     goredis.UniversalClient
	cluster *goredis.ClusterClient // in cluster mode
	waits   goredis.UniversalClient
	keys    Keys
	mode    Mode
	owned   bool   // Close closes rdb
	calls   *calls // RunScript's queue
}

// WaitPoolSize is the pool of the blocking waits' client (Ask): asks
// beyond it wait for one of its connections, never for the shared pool.
const WaitPoolSize = 32

// Open connects to the Redis of cfg and returns once it answered (in
// cluster mode, every master). Its clients speak RESP2: go-redis then
// skips its RESP3 push-notification checks, which cost a read attempt on
// every command (8% of a node's CPU under load).
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	var rdb goredis.UniversalClient
	switch cfg.Mode {
	case ModeCluster:
		rdb = goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cfg.Addrs, Password: cfg.Password, Protocol: 2,
			PoolSize: cfg.PoolSize})
	case ModeSentinel:
		rdb = goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: cfg.MasterName, SentinelAddrs: cfg.Addrs,
			Password: cfg.Password, DB: cfg.DB, Protocol: 2, PoolSize: cfg.PoolSize})
	default:
		cfg.Mode = ModeStandalone
		rdb = goredis.NewClient(&goredis.Options{Addr: cfg.Addr, Password: cfg.Password, DB: cfg.DB, Protocol: 2,
			PoolSize: cfg.PoolSize})
	}
	c := New(rdb, NewKeys(cfg.Namespace, cfg.DB))
	c.mode, c.owned = cfg.Mode, true
	if c.cluster != nil {
		FollowFailover(c.cluster)
	}
	c.waits = c.NewClient(WaitPoolSize)
	if err := c.Ping(ctx); err != nil {
		c.Close()
		where := map[Mode]string{ModeStandalone: cfg.Addr, ModeCluster: "cluster " + strings.Join(cfg.Addrs, ","),
			ModeSentinel: fmt.Sprintf("master %q of sentinels %s", cfg.MasterName, strings.Join(cfg.Addrs, ","))}
		return nil, fmt.Errorf("redis (%s mode, %s): %w", cfg.Mode, where[cfg.Mode], err)
	}
	return c, nil
}

// New returns the Conn of keys over rdb, which stays the caller's to
// close: cluster mode on a *goredis.ClusterClient, standalone otherwise.
// Blocking waits share rdb's pool.
func New(rdb goredis.UniversalClient, keys Keys) *Conn {
	c := &Conn{rdb: rdb, waits: rdb, keys: keys, mode: ModeStandalone, calls: &calls{wake: make(chan struct{}, 1)}}
	if c.cluster, _ = rdb.(*goredis.ClusterClient); c.cluster != nil {
		c.mode = ModeCluster
	}
	return c
}

// Client is the shared client.
func (c *Conn) Client() goredis.UniversalClient { return c.rdb }

// Cluster is the client of a Redis Cluster, nil in the other modes.
func (c *Conn) Cluster() *goredis.ClusterClient { return c.cluster }

// Keys names the deployment's keys and channels.
func (c *Conn) Keys() Keys { return c.keys }

// failover reports whether Redis may promote a replica (sentinel and
// cluster modes): the stream scripts then check the replication history
// (stream.lua), at the cost of an INFO per call.
func (c *Conn) failover() bool { return c.mode == ModeSentinel || c.mode == ModeCluster }

// publishCommand is Publish's command, for the publish script.
func (c *Conn) publishCommand() string {
	if c.cluster != nil {
		return "SPUBLISH"
	}
	return "PUBLISH"
}

// Publish sends payload on channel through p (the client, or a pipeline):
// SPUBLISH on a Redis Cluster (only the shard owning the channel's slot
// carries it), PUBLISH elsewhere. It returns how many subscribers got it.
func (c *Conn) Publish(ctx context.Context, p goredis.Cmdable, channel, payload string) *goredis.IntCmd {
	if c.cluster != nil {
		return p.SPublish(ctx, channel, payload)
	}
	return p.Publish(ctx, channel, payload)
}

// Ping checks that Redis answers: in cluster mode, every master.
func (c *Conn) Ping(ctx context.Context) error {
	if c.cluster == nil {
		return c.rdb.Ping(ctx).Err()
	}
	return c.cluster.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("master %s: %w", m.Options().Addr, err)
		}
		return nil
	})
}

// Close closes the clients that Open made.
func (c *Conn) Close() error {
	if !c.owned {
		return nil
	}
	return errors.Join(c.waits.Close(), c.rdb.Close())
}

// NewClient returns another client to the same Redis with a pool of
// poolSize connections (0: the shared client's size), for the caller to
// close. Of the shared client's options it leaves out the state go-redis
// keeps in them per client.
func (c *Conn) NewClient(poolSize int) goredis.UniversalClient {
	if c.cluster != nil {
		o := *c.cluster.Options()
		o.PoolSize, o.PushNotificationProcessor, o.MaintNotificationsConfig = cmp.Or(poolSize, o.PoolSize), nil, nil
		cc := goredis.NewClusterClient(&o)
		FollowFailover(cc)
		return cc
	}
	if cl, ok := c.rdb.(*goredis.Client); ok {
		o := *cl.Options()
		o.PoolSize, o.PushNotificationProcessor, o.MaintNotificationsConfig = cmp.Or(poolSize, o.PoolSize), nil, nil
		return goredis.NewClient(&o)
	}
	return c.rdb
}

// MakeRedisClient returns a new client to c's Redis (NewClient): c is an
// asynq.RedisConnOpt, for asynq and asynqmon to connect as the node does.
func (c *Conn) MakeRedisClient() any { return c.NewClient(0) }

// FollowFailover makes c read the cluster's slot map again (asynchronous,
// coalesced by go-redis) when a pipeline fails on a connection error: a
// master died. go-redis does so for single commands but not for
// pipelines, which would keep going to the dead master until its periodic
// reload.
func FollowFailover(c *goredis.ClusterClient) { c.AddHook(reloadOnFailure{c}) }

type reloadOnFailure struct{ c *goredis.ClusterClient }

func (h reloadOnFailure) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (h reloadOnFailure) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && !IsReply(err) {
			h.c.ReloadState(context.WithoutCancel(ctx))
		}
		return err
	}
}

// IsReply reports whether err is an error reply of Redis (not a network
// failure).
func IsReply(err error) bool {
	var reply goredis.Error
	return errors.As(err, &reply)
}
