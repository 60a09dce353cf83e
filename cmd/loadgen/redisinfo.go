package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// redisDB is the Redis logical database of a run, claimed through
// pkg/testenv with the key the tests use, so a test running meanwhile never
// picks it; it is flushed before and after. serverPID is the private
// redis-server's (-own-redis), 0 for a shared one.
type redisDB struct {
	*testenv.RedisClaim
	serverPID  int
	clusterPID []int // the masters of a private cluster (-own-redis-cluster)
}

func (r *redisDB) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.Flush(ctx)
}

// cpuSeconds is the CPU time redis-server has used: from /proc for a
// private server, else from INFO cpu (the whole server's); 0 when unknown.
func (r *redisDB) cpuSeconds() float64 {
	if r.serverPID > 0 {
		return cpuSeconds(r.serverPID)
	}
	if len(r.clusterPID) > 0 {
		sum := 0.0
		for _, pid := range r.clusterPID {
			sum += cpuSeconds(pid)
		}
		return sum
	}
	info, err := r.info("cpu")
	if err != nil {
		return 0
	}
	return infoFloat(info, "used_cpu_user") + infoFloat(info, "used_cpu_sys")
}

// usedMemory reads used_memory (INFO memory).
func (r *redisDB) usedMemory() (int64, error) {
	info, err := r.info("memory")
	if err != nil {
		return 0, err
	}
	v, ok := infoField(info, "used_memory")
	if !ok {
		return 0, fmt.Errorf("no used_memory in INFO memory")
	}
	return strconv.ParseInt(v, 10, 64)
}

// version is redis_version (INFO server), or "unknown".
func (r *redisDB) version() string {
	info, err := r.info("server")
	if err != nil {
		return "unknown"
	}
	if v, ok := infoField(info, "redis_version"); ok {
		return v
	}
	return "unknown"
}

func (r *redisDB) info(section string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.Client.Info(ctx, section).Result()
}

// infoField finds "key:value" in an INFO reply.
func infoField(info, key string) (string, bool) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v, true
		}
	}
	return "", false
}

func infoFloat(info, key string) float64 {
	v, _ := infoField(info, key)
	f, _ := strconv.ParseFloat(v, 64)
	return f
}

// keyCounts is what a scan of the run's database found.
type keyCounts struct {
	Keys           int      `json:"keys"`
	MaxKeysPerUser int      `json:"max_keys_per_user"`
	KeysWithoutTTL int      `json:"keys_without_ttl"`
	NoTTLSamples   []string `json:"keys_without_ttl_samples"`
	MessageBytes   float64  `json:"stored_message_bytes"` // mean length of a stored message
}

// countKeys scans the run's DB: keys, keys per user (by the user's hash
// tag, "{ns:db:u:ID}"), keys without a TTL and the mean stored message.
func (r *redisDB) countKeys(ctx context.Context) (keyCounts, error) {
	var kc keyCounts
	perUser := map[string]int{}
	var msgBytes, msgs int64
	iter := r.Client.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		kc.Keys++
		if tag, _, ok := strings.Cut(k, "}"); ok && strings.Contains(tag, ":u:") {
			perUser[tag]++
		}
		if ttl, err := r.Client.TTL(ctx, k).Result(); err == nil && ttl < 0 {
			if kc.KeysWithoutTTL++; len(kc.NoTTLSamples) < 5 {
				kc.NoTTLSamples = append(kc.NoTTLSamples, k)
			}
		}
		if strings.HasSuffix(k, ":msgs") && msgs < 1000 {
			if s, err := r.Client.LIndex(ctx, k, -1).Result(); err == nil {
				msgBytes += int64(len(s))
				msgs++
			}
		}
	}
	for _, n := range perUser {
		kc.MaxKeysPerUser = max(kc.MaxKeysPerUser, n)
	}
	if msgs > 0 {
		kc.MessageBytes = round2(float64(msgBytes) / float64(msgs))
	}
	return kc, iter.Err()
}
