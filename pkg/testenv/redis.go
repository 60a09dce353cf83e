package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a throwaway redis-server on a free loopback port, for
// tests that stop, restart or flush Redis. It runs without
// persistence unless extra arguments say otherwise, and is killed (and its
// directory removed) when the test ends.
type RedisServer struct {
	Addr string
	Port int
	Dir  string // working directory (nodes.conf, dumps)
	args []string
	tb   testing.TB
	proc *Process
}

// MustRedisServer starts redis-server with extra arguments (e.g.
// "--cluster-enabled", "yes") and waits until it answers PING.
func MustRedisServer(tb testing.TB, extra ...string) *RedisServer {
	tb.Helper()
	port, dir := MustFreePort(tb), tb.TempDir()
	return startRedis(tb, port, dir, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--logfile", "redis.log"}, extra...))
}

func startRedis(tb testing.TB, port int, dir string, args []string) *RedisServer {
	tb.Helper()
	s := &RedisServer{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Dir: dir, tb: tb, args: args}
	tb.Cleanup(s.Kill)
	s.Start()
	return s
}

// Start starts the server (again, after Kill: with its data gone unless
// persistence was configured) and waits until it answers.
func (s *RedisServer) Start() {
	s.tb.Helper()
	s.proc = mustStart(s.tb, ProcessOptions{Name: "redis-server", Path: "redis-server", Args: s.args, Dir: s.Dir})
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	if waitFor(20*time.Second, func() error { return c.Ping(context.Background()).Err() }) != nil {
		log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
		s.tb.Fatalf("testenv: redis-server on %s did not answer within 20s; log:\n%s", s.Addr, log)
	}
}

// Kill stops the server at once (SIGKILL) and waits for it to exit.
func (s *RedisServer) Kill() {
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// Client returns a client of logical database db, closed when the test ends.
func (s *RedisServer) Client(db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DB: db})
	s.tb.Cleanup(func() { c.Close() })
	return c
}

// info returns the INFO section of the server at addr ("cluster info" for
// CLUSTER INFO) as key -> value, empty on error.
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

// RedisCluster is a throwaway Redis Cluster on loopback: masters with
// replicas, each a RedisServer, removed when the test ends.
type RedisCluster struct {
	Nodes []*RedisServer
	tb    testing.TB
}

// MustRedisCluster starts masters*(1+replicas) cluster-enabled
// redis-servers on free loopback ports, joins them with redis-cli --cluster
// create and returns once the cluster is healthy (see WaitHealthy): a
// replica that has not finished its first sync refuses to take over.
func MustRedisCluster(tb testing.TB, masters, replicas int) *RedisCluster {
	tb.Helper()
	c := &RedisCluster{tb: tb}
	for range masters * (1 + replicas) {
		// The bus port is chosen too: the default (port + 10000) may be
		// taken. A master that stops answering is replaced by its replica
		// a few seconds after (the node timeout).
		c.Nodes = append(c.Nodes, MustRedisServer(tb, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000", "--cluster-port", strconv.Itoa(MustFreePort(tb))))
	}
	args := append(append([]string{"--cluster", "create"}, c.Addrs()...), "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
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

// Healthy returns nil when every running node reports cluster_state:ok and
// each running replica's link to its master is up.
func (c *RedisCluster) Healthy(ctx context.Context) error {
	for _, n := range c.Nodes {
		if n.proc == nil {
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
	if err := waitFor(timeout, func() error { return c.Healthy(context.Background()) }); err != nil {
		c.tb.Fatalf("testenv: cluster not healthy within %s: %v", timeout, err)
	}
}

// MasterOf returns the running node that serves slot as master.
func (c *RedisCluster) MasterOf(slot int) *RedisServer {
	c.tb.Helper()
	for _, n := range c.Nodes {
		if n.proc == nil {
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

func servesSlot(sh redis.ClusterShard, slot int) bool {
	for _, r := range sh.Slots {
		if int(r.Start) <= slot && slot <= int(r.End) {
			return true
		}
	}
	return false
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
	var m *RedisServer
	err := waitFor(timeout, func() error {
		if err := c.Healthy(context.Background()); err != nil {
			return err
		}
		if m = c.MasterOf(slot); m == old {
			return fmt.Errorf("slot %d still on %s", slot, old.Addr)
		}
		return nil
	})
	if err != nil {
		c.tb.Fatalf("testenv: no replica took over slot %d within %s", slot, timeout)
	}
	return m
}

// MigrateSlot moves slot, with its keys, from its master to master to (as
// resharding does: IMPORTING, MIGRATING, MIGRATE, SETSLOT NODE) and waits
// until the cluster is ok.
func (c *RedisCluster) MigrateSlot(slot int, to *RedisServer) {
	c.tb.Helper()
	ctx := context.Background()
	from := c.MasterOf(slot)
	must := func(err error) {
		c.tb.Helper()
		if err != nil {
			c.tb.Fatalf("testenv: migrate slot %d: %v", slot, err)
		}
	}
	src, dst := from.Client(0), to.Client(0)
	srcID, err := src.ClusterMyID(ctx).Result()
	must(err)
	dstID, err := dst.ClusterMyID(ctx).Result()
	must(err)
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
		if n.proc != nil && n != from && n != to {
			_ = n.Client(0).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err()
		}
	}
	c.WaitHealthy(30 * time.Second)
}

// Masters returns the running nodes that serve slots, ordered as Nodes.
func (c *RedisCluster) Masters() []*RedisServer {
	var out []*RedisServer
	for _, n := range c.Nodes {
		if n.proc != nil && info(context.Background(), n.Addr, "replication")["role"] == "master" {
			out = append(out, n)
		}
	}
	return out
}

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
	port, dir := MustFreePort(s.tb), s.tb.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\nlogfile redis.log\n"+
		"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s 1000\n"+
		"sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
		port, dir, s.MasterName, s.Master.Port, s.MasterName, s.MasterName, s.MasterName)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		s.tb.Fatal(err)
	}
	return startRedis(s.tb, port, dir, []string{conf, "--sentinel"})
}

// Addrs are the sentinels' addresses.
func (s *SentinelSetup) Addrs() []string {
	out := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		out[i] = sn.Addr
	}
	return out
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

// wait polls cond, each call within 2 s, until it returns nil, failing the
// test after timeout.
func (s *SentinelSetup) wait(timeout time.Duration, cond func(context.Context) error) {
	s.tb.Helper()
	err := waitFor(timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return cond(ctx)
	})
	if err != nil {
		s.tb.Fatalf("testenv: sentinel setup: not within %s: %v", timeout, err)
	}
}

// AnyRedisDB asks ClaimRedisDB for the first free logical database.
const AnyRedisDB = 0

// redisDBs is the number of logical databases that may be claimed (1..15;
// 0 holds the claims).
const redisDBs = 15

func claimKey(db int) string { return fmt.Sprintf("testenv:claim:db:%d", db) }

// RedisClaim is a logical Redis database held through its claim key
// ("testenv:claim:db:N" in DB 0), so no test or tool in any process uses
// it meanwhile. The claim expires by itself after its ttl, so a killed
// holder frees the database.
type RedisClaim struct {
	DB     int
	Addr   string
	Client *redis.Client // bound to DB

	ctl   *redis.Client // DB 0, where the claims live
	owner string
}

// ClaimRedisDB claims logical database db (1..15, or AnyRedisDB for the
// first free one) on the Redis at addr, waiting up to wait for it to be
// free, and flushes it. The claim lasts ttl at most; Release flushes the
// database and gives the claim back.
func ClaimRedisDB(ctx context.Context, addr string, db int, wait, ttl time.Duration) (*RedisClaim, error) {
	if db < 0 || db > redisDBs {
		return nil, fmt.Errorf("redis db %d: use 1 to %d, or %d for any free one", db, redisDBs, AnyRedisDB)
	}
	candidates := []int{db}
	if db == AnyRedisDB {
		candidates = candidates[:0]
		for n := 1; n <= redisDBs; n++ {
			candidates = append(candidates, n)
		}
	}
	ctl := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	owner := RandomName(fmt.Sprintf("%s-%d-", filepath.Base(os.Args[0]), os.Getpid()))
	deadline := time.Now().Add(wait)
	for {
		for _, n := range candidates {
			ok, err := ctl.SetNX(ctx, claimKey(n), owner, ttl).Result()
			if err != nil {
				ctl.Close()
				return nil, fmt.Errorf("redis at %s: %w", addr, err)
			}
			if !ok {
				continue
			}
			c := &RedisClaim{DB: n, Addr: addr, Client: redis.NewClient(&redis.Options{Addr: addr, DB: n}), ctl: ctl, owner: owner}
			if err := c.Client.FlushDBAsync(ctx).Err(); err != nil {
				_ = c.Release()
				return nil, fmt.Errorf("flush redis db %d: %w", n, err)
			}
			return c, nil
		}
		if time.Now().After(deadline) {
			defer ctl.Close()
			if db == AnyRedisDB {
				return nil, fmt.Errorf("no free redis database on %s after %s", addr, wait)
			}
			holder, _ := ctl.Get(ctx, claimKey(db)).Result()
			return nil, fmt.Errorf("redis db %d on %s is claimed by %q (key %s in DB 0: a test, or a holder that was killed) for more than %s",
				db, addr, holder, claimKey(db), wait)
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			ctl.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// PrivateRedisDB is database 0 of a private server that nobody else uses
// (a throwaway Redis Cluster node, where SELECT and claims do not work):
// nothing is claimed; Release flushes it.
func PrivateRedisDB(addr string) *RedisClaim {
	return &RedisClaim{DB: 0, Addr: addr, Client: redis.NewClient(&redis.Options{Addr: addr})}
}

// Flush empties the claimed database.
func (c *RedisClaim) Flush(ctx context.Context) error { return c.Client.FlushDB(ctx).Err() }

// Release flushes the database, closes the client and gives the claim
// back (only if it is still this holder's). The flush is FLUSHDB ASYNC:
// the keys are gone at once and Redis frees their memory in the
// background, so a database of millions of entries (a soak's) does not
// outlast the client's read timeout.
func (c *RedisClaim) Release() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Client.FlushDBAsync(ctx).Err()
	err = errors.Join(err, c.Client.Close())
	if c.ctl == nil { // PrivateRedisDB: nothing was claimed
		return err
	}
	if v, _ := c.ctl.Get(ctx, claimKey(c.DB)).Result(); v == c.owner {
		c.ctl.Del(ctx, claimKey(c.DB))
	}
	c.ctl.Close()
	return err
}
