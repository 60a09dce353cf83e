package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/pkg/testenv"
)

// ownCluster is a private Redis Cluster of masters only (-own-redis-cluster).
type ownCluster struct {
	addrs []string
	procs []*testenv.Process
	cpu0  []float64 // each master's CPU seconds once the cluster was up
}

// startOwnCluster starts n cluster-enabled redis-servers (no persistence)
// in dir, joins them as n masters with redis-cli --cluster create and waits
// until every node reports cluster_state:ok.
func startOwnCluster(ctx context.Context, dir string, n int) (_ *ownCluster, err error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("-own-redis-cluster: %w", err)
	}
	c := &ownCluster{}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	for i := range n {
		port, err := testenv.FreePort()
		if err != nil {
			return nil, err
		}
		bus, err := testenv.FreePort()
		if err != nil {
			return nil, err
		}
		d := filepath.Join(dir, "redis-"+strconv.Itoa(i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", strconv.Itoa(bus)}
		p, err := testenv.StartProcess(testenv.ProcessOptions{Name: "redis-server", Path: path, Args: args, Env: os.Environ(),
			LogFile: filepath.Join(d, "redis.log")})
		if err != nil {
			return nil, err
		}
		c.procs = append(c.procs, p)
		c.addrs = append(c.addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	for _, a := range c.addrs {
		cl := goredis.NewClient(&goredis.Options{Addr: a, MaxRetries: -1})
		ok := waitFor(ctx, 20*time.Second, func() bool { return cl.Ping(ctx).Err() == nil })
		cl.Close()
		if !ok {
			return nil, fmt.Errorf("cluster node %s did not answer", a)
		}
	}
	args := append(append([]string{"--cluster", "create"}, c.addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range c.addrs {
		cl := goredis.NewClient(&goredis.Options{Addr: a})
		ok := waitFor(ctx, 30*time.Second, func() bool {
			info, err := cl.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		cl.Close()
		if !ok {
			return nil, fmt.Errorf("cluster node %s: cluster_state not ok", a)
		}
	}
	for _, pid := range c.pids() {
		c.cpu0 = append(c.cpu0, cpuSeconds(pid))
	}
	return c, nil
}

func (c *ownCluster) pids() []int {
	out := make([]int, len(c.procs))
	for i, p := range c.procs {
		out[i] = p.Pid()
	}
	return out
}

// report prints each master's CPU seconds since the cluster was up: how
// evenly the run loaded the shards.
func (c *ownCluster) report(w io.Writer) {
	var parts []string
	for i, pid := range c.pids() {
		if i < len(c.cpu0) {
			parts = append(parts, fmt.Sprintf("%s %.2fs", c.addrs[i], cpuSeconds(pid)-c.cpu0[i]))
		}
	}
	fmt.Fprintf(w, "redis cluster masters, CPU over the whole run: %s\n", strings.Join(parts, ", "))
}

func (c *ownCluster) stop() {
	for _, p := range c.procs {
		_ = p.Stop(10 * time.Second)
	}
}
