package systest

import (
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// redisFor returns a client on the Redis database a node env names.
func redisFor(tb testing.TB, env []string) *goredis.Client {
	tb.Helper()
	opts := &goredis.Options{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GATEWAY_REDIS_ADDR":
			opts.Addr = v
		case "GATEWAY_REDIS_DB":
			opts.DB, _ = strconv.Atoi(v)
		}
	}
	c := goredis.NewClient(opts)
	tb.Cleanup(func() { c.Close() })
	return c
}
