package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/cmd/gateway/settings"
)

// Every mode's subscription serves the hub.
var _ ws.Subscriptions = redis.NodeSubscriber(nil)

// redisClient returns the go-redis client of the configured mode. RESP2: go-redis
// then skips its RESP3 push-notification checks, which cost a read attempt
// on every command (8% of a node's CPU under load).
func redisClient(c settings.RedisConfig) goredis.UniversalClient {
	switch c.Mode {
	case redis.ModeCluster:
		cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs, Password: c.Password, Protocol: 2})
		redis.FollowFailover(cc)
		return cc
	case redis.ModeSentinel:
		return goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: c.MasterName, SentinelAddrs: c.Addrs,
			Password: c.Password, DB: c.DB, Protocol: 2})
	default:
		return goredis.NewClient(&goredis.Options{Addr: c.Addr, Password: c.Password, DB: c.DB, Protocol: 2})
	}
}

// connectRedis returns a client of the configured mode once Redis answered.
func connectRedis(ctx context.Context, c settings.RedisConfig) (goredis.UniversalClient, error) {
	rdb := redisClient(c)
	if err := pingRedis(ctx, rdb); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis (%s mode, %s): %w", c.Mode, redisWhere(c), err)
	}
	return rdb, nil
}

// redisWhere names the Redis of the configured mode in errors.
func redisWhere(c settings.RedisConfig) string {
	switch c.Mode {
	case redis.ModeCluster:
		return "cluster " + strings.Join(c.Addrs, ",")
	case redis.ModeSentinel:
		return fmt.Sprintf("master %q of sentinels %s", c.MasterName, strings.Join(c.Addrs, ","))
	default:
		return c.Addr
	}
}

// asynqConnOpt is how the asynq UI (asynqmon) connects: as the node does.
func asynqConnOpt(c settings.RedisConfig) asynq.RedisConnOpt {
	switch c.Mode {
	case redis.ModeCluster:
		return asynq.RedisClusterClientOpt{Addrs: c.Addrs, Password: c.Password}
	case redis.ModeSentinel:
		return asynq.RedisFailoverClientOpt{MasterName: c.MasterName, SentinelAddrs: c.Addrs, Password: c.Password, DB: c.DB}
	default:
		return asynq.RedisClientOpt{Addr: c.Addr, Password: c.Password, DB: c.DB}
	}
}

// pingRedis checks that Redis answers: in cluster mode, every master.
func pingRedis(ctx context.Context, rdb goredis.UniversalClient) error {
	if cc, ok := rdb.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			if err := m.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("master %s: %w", m.Options().Addr, err)
			}
			return nil
		})
	}
	return rdb.Ping(ctx).Err()
}

// newSubscriber returns the node's subscription for the configured mode.
func newSubscriber(rdb goredis.UniversalClient, keys redis.Keys, opts redis.SubscriberOptions) redis.NodeSubscriber {
	if cc, ok := rdb.(*goredis.ClusterClient); ok {
		return redis.NewShardedSubscriber(cc, keys, opts)
	}
	return redis.NewSubscriber(rdb, keys, opts)
}
