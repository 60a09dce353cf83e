package main

import (
	"context"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/cmd/gateway/settings"
)

// Every mode's subscription serves the hub.
var _ ws.Subscriptions = (*subscribe.Subscriber)(nil)

// connectRedis opens the Redis of settings c once it answered.
func connectRedis(ctx context.Context, c settings.RedisConfig) (*redis.Conn, error) {
	return redis.Open(ctx, redis.Config{Mode: c.Mode, Addr: c.Addr, Addrs: c.Addrs, MasterName: c.MasterName,
		Password: c.Password, DB: c.DB, Namespace: c.Namespace})
}
