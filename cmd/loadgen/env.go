package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// redisDB is the Redis logical database of a run, claimed through
// pkg/testenv with the key the tests use, so a test running meanwhile
// never picks it; it is flushed before and after.
type redisDB struct {
	*testenv.RedisClaim
}

func (r *redisDB) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.Flush(ctx)
}

// cpuSeconds is the CPU time redis-server has used (INFO cpu), or 0.
func (r *redisDB) cpuSeconds() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := r.Client.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}
