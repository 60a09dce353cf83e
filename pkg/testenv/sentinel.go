package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelSetup is a throwaway master, its replica and three sentinels
// watching them on loopback, removed when the test ends.
type SentinelSetup struct {
	MasterName string
	Master     *RedisServer // the master at start
	Replica    *RedisServer
	Sentinels  []*RedisServer
	tb         testing.TB
}

// MustSentinel starts a master, a replica of it and three sentinels
// (quorum 2, down-after 1 s) and returns once the replica's link is up and
// every sentinel knows the replica and the other two sentinels, so that a
// failover can be agreed.
func MustSentinel(tb testing.TB, masterName string) *SentinelSetup {
	tb.Helper()
	s := &SentinelSetup{MasterName: masterName, tb: tb}
	s.Master = MustRedisServer(tb)
	s.Replica = MustRedisServer(tb, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))
	for range 3 {
		s.Sentinels = append(s.Sentinels, s.startSentinel())
	}
	s.wait(60*time.Second, func(ctx context.Context) error {
		if st := info(ctx, s.Replica.Addr, "replication")["master_link_status"]; st != "up" {
			return fmt.Errorf("replica link %q", st)
		}
		for _, sn := range s.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr})
			replicas, err := c.Replicas(ctx, masterName).Result()
			others, err2 := c.Sentinels(ctx, masterName).Result()
			c.Close()
			if err != nil || err2 != nil || len(replicas) == 0 || len(others) < len(s.Sentinels)-1 {
				return fmt.Errorf("sentinel %s: %d replicas, %d other sentinels (%v, %v)", sn.Addr, len(replicas), len(others), err, err2)
			}
		}
		return nil
	})
	return s
}

// startSentinel starts one sentinel with a config file of its own (a
// sentinel rewrites it).
func (s *SentinelSetup) startSentinel() *RedisServer {
	port := MustFreePort(s.tb)
	dir := s.tb.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\nlogfile redis.log\n"+
		"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s 1000\n"+
		"sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
		port, dir, s.MasterName, s.Master.Port, s.MasterName, s.MasterName, s.MasterName)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		s.tb.Fatal(err)
	}
	sn := &RedisServer{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Dir: dir, tb: s.tb,
		args: []string{conf, "--sentinel"}}
	s.tb.Cleanup(sn.Kill)
	sn.Start()
	return sn
}

// Addrs are the sentinels' addresses.
func (s *SentinelSetup) Addrs() []string {
	out := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		out[i] = sn.Addr
	}
	return out
}

// MasterAddr is the master's address as the first sentinel reports it.
func (s *SentinelSetup) MasterAddr(ctx context.Context) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0].Addr})
	defer c.Close()
	hp, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", err
	}
	return hp[0] + ":" + hp[1], nil
}

// KillMasterAndWaitFailover kills (SIGKILL) the master and waits until the
// sentinels promoted the replica and it accepts writes.
func (s *SentinelSetup) KillMasterAndWaitFailover(timeout time.Duration) {
	s.tb.Helper()
	s.Master.Kill()
	s.wait(timeout, func(ctx context.Context) error {
		for _, sn := range s.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr})
			hp, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
			c.Close()
			if err != nil || hp[0]+":"+hp[1] != s.Replica.Addr {
				return fmt.Errorf("sentinel %s names master %v (%v)", sn.Addr, hp, err)
			}
		}
		if role := info(ctx, s.Replica.Addr, "replication")["role"]; role != "master" {
			return fmt.Errorf("replica's role is %q", role)
		}
		return nil
	})
}

// wait polls cond until it returns nil, failing the test after timeout.
func (s *SentinelSetup) wait(timeout time.Duration, cond func(context.Context) error) {
	s.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("testenv: sentinel setup: not within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
