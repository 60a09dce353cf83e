package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCluster is a throwaway Redis Cluster on loopback: masters with
// replicas, each a RedisServer, removed when the test ends.
type RedisCluster struct {
	Nodes []*RedisServer
	tb    testing.TB
}

// clusterNodeTimeout is the nodes' --cluster-node-timeout: a master that
// stops answering is replaced by its replica a few seconds after.
const clusterNodeTimeout = "2000"

// MustRedisCluster starts masters*(1+replicas) cluster-enabled
// redis-servers on free loopback ports, joins them with redis-cli --cluster
// create and returns once every node reports cluster_state:ok and every
// replica's link to its master is up (a replica that has not finished its
// first sync refuses to take over).
func MustRedisCluster(tb testing.TB, masters, replicas int) *RedisCluster {
	tb.Helper()
	c := &RedisCluster{tb: tb}
	args := []string{"--cluster"}
	addrs := []string{}
	for range masters * (1 + replicas) {
		// The bus port is chosen too: the default (port + 10000) may be taken.
		s := MustRedisServer(tb, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", clusterNodeTimeout, "--cluster-port", strconv.Itoa(MustFreePort(tb)))
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr)
	}
	args = append(args, "create")
	args = append(args, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		tb.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy(60 * time.Second)
	return c
}

// Addrs are the addresses of every node, for a cluster client's seeds.
func (c *RedisCluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// Client returns a cluster client, closed when the test ends.
func (c *RedisCluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.tb.Cleanup(func() { cc.Close() })
	return cc
}

// live reports whether n runs.
func (n *RedisServer) live() bool { return n.cmd != nil }

// info returns the INFO section of n as key -> value ("" on error).
func info(ctx context.Context, addr, section string) map[string]string {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	defer c.Close()
	out := map[string]string{}
	var text string
	var err error
	if section == "cluster info" {
		text, err = c.ClusterInfo(ctx).Result()
	} else {
		text, err = c.Info(ctx, section).Result()
	}
	if err != nil {
		return out
	}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// Healthy returns nil when every running node reports cluster_state:ok,
// each running replica's link to its master is up, and every running
// master that serves slots has a replica online.
func (c *RedisCluster) Healthy(ctx context.Context) error {
	for _, n := range c.Nodes {
		if !n.live() {
			continue
		}
		if st := info(ctx, n.Addr, "cluster info")["cluster_state"]; st != "ok" {
			return fmt.Errorf("%s: cluster_state %q", n.Addr, st)
		}
		repl := info(ctx, n.Addr, "replication")
		if repl["role"] == "slave" && repl["master_link_status"] != "up" {
			return fmt.Errorf("%s: replica link %q", n.Addr, repl["master_link_status"])
		}
	}
	return nil
}

// WaitHealthy waits up to timeout for Healthy.
func (c *RedisCluster) WaitHealthy(timeout time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := c.Healthy(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("testenv: cluster not healthy within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MasterOf returns the running node that serves slot as master.
func (c *RedisCluster) MasterOf(slot int) *RedisServer {
	c.tb.Helper()
	for _, n := range c.Nodes {
		if !n.live() {
			continue
		}
		cl := redis.NewClient(&redis.Options{Addr: n.Addr})
		shards, err := cl.ClusterShards(context.Background()).Result()
		cl.Close()
		if err != nil {
			continue
		}
		for _, sh := range shards {
			if !servesSlot(sh, slot) {
				continue
			}
			for _, node := range sh.Nodes {
				for _, m := range c.Nodes {
					if node.Role == "master" && node.Health == "online" && m.Addr == fmt.Sprintf("%s:%d", node.IP, node.Port) {
						return m
					}
				}
			}
		}
	}
	c.tb.Fatalf("testenv: no master serves slot %d", slot)
	return nil
}

// KillMasterAndWaitFailover kills (SIGKILL) the master of slot and waits
// until another node serves the slot and the cluster is ok again. It
// returns the new master.
func (c *RedisCluster) KillMasterAndWaitFailover(slot int, timeout time.Duration) *RedisServer {
	c.tb.Helper()
	return c.WaitFailover(slot, c.KillMaster(slot), timeout)
}

// KillMaster kills (SIGKILL) the master of slot and returns it.
func (c *RedisCluster) KillMaster(slot int) *RedisServer {
	c.tb.Helper()
	old := c.MasterOf(slot)
	old.Kill()
	return old
}

// WaitFailover waits until a node other than old serves slot and the
// cluster is ok again, and returns it.
func (c *RedisCluster) WaitFailover(slot int, old *RedisServer, timeout time.Duration) *RedisServer {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if c.Healthy(context.Background()) == nil {
			if m := c.MasterOf(slot); m != old {
				return m
			}
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("testenv: no replica took over slot %d within %s", slot, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MigrateSlot moves slot, with its keys, from its master to master to (as
// resharding does: IMPORTING, MIGRATING, MIGRATE, SETSLOT NODE) and waits
// until the cluster is ok.
func (c *RedisCluster) MigrateSlot(slot int, to *RedisServer) {
	c.tb.Helper()
	ctx := context.Background()
	from := c.MasterOf(slot)
	client := func(n *RedisServer) *redis.Client {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr})
		c.tb.Cleanup(func() { cl.Close() })
		return cl
	}
	src, dst := client(from), client(to)
	srcID, err := src.ClusterMyID(ctx).Result()
	if err != nil {
		c.tb.Fatal(err)
	}
	dstID, err := dst.ClusterMyID(ctx).Result()
	if err != nil {
		c.tb.Fatal(err)
	}
	must := func(err error) {
		c.tb.Helper()
		if err != nil {
			c.tb.Fatalf("testenv: migrate slot %d: %v", slot, err)
		}
	}
	must(dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
	must(src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 100).Result()
		must(err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", "127.0.0.1", to.Port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(src.Do(ctx, args...).Err())
	}
	must(dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	must(src.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	for _, n := range c.Nodes {
		if n.live() && n != from && n != to {
			_ = client(n).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err()
		}
	}
	c.WaitHealthy(30 * time.Second)
}

// Masters returns the running nodes that serve slots, ordered as Nodes.
func (c *RedisCluster) Masters() []*RedisServer {
	c.tb.Helper()
	var out []*RedisServer
	for _, n := range c.Nodes {
		if n.live() && info(context.Background(), n.Addr, "replication")["role"] == "master" {
			out = append(out, n)
		}
	}
	return out
}

// servesSlot reports whether shard sh holds slot.
func servesSlot(sh redis.ClusterShard, slot int) bool {
	for _, r := range sh.Slots {
		if int(r.Start) <= slot && slot <= int(r.End) {
			return true
		}
	}
	return false
}
