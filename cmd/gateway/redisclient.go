package main

import (
	"context"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/cmd/gateway/settings"
)

// connectRedis opens the Redis of settings c once it answered.
func connectRedis(ctx context.Context, c settings.RedisConfig) (*redis.Conn, error) {
	return redis.Open(ctx, redis.Config{Mode: c.Mode, Addr: c.Addr, Addrs: c.Addrs, MasterName: c.MasterName,
		Password: c.Password, DB: c.DB, Namespace: c.Namespace})
}
