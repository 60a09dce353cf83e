package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/pkg/testenv"
)

// orch runs one scenario: it owns the work directory, the Redis database
// (and the private redis-server), the MySQL database, the secrets the
// nodes and clients share, and every process it starts.
type orch struct {
	cfg       commonConfig
	scenario  string
	self      string    // this executable, re-run as clients processes
	out       io.Writer // the table and the JSON line
	progress  *progress
	apiKey    string
	jwtSecret string
	dbName    string
	rdb       *redisDB
	ownRedis  *testenv.Process // stopped last
	cluster   *ownCluster
	tmpDir    bool

	mu    sync.Mutex
	procs []*testenv.Process
}

// newOrch prepares a run: the work directory, Redis (claimed, or a private
// server) and the names of the run's database and secrets.
func newOrch(ctx context.Context, scenario string, cfg commonConfig, out, errOut io.Writer) (_ *orch, err error) {
	gw, err := filepath.Abs(cfg.gateway)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(gw); err != nil || st.IsDir() {
		return nil, fmt.Errorf("gateway binary %s not found: go build -o bin/gateway ./cmd/gateway", cfg.gateway)
	}
	cfg.gateway = gw
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	o := &orch{cfg: cfg, scenario: scenario, self: self, out: out, progress: newProgress(errOut, cfg.progress, scenario),
		apiKey: testenv.RandomName("loadgen-api-"), jwtSecret: testenv.RandomName("loadgen-jwt-") + testenv.RandomName("-"),
		dbName: testenv.RandomName("gwload_")}
	if o.tmpDir = cfg.workdir == ""; o.tmpDir {
		if o.cfg.workdir, err = os.MkdirTemp("", "loadgen-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(cfg.workdir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, o.close(true))
		}
	}()
	if cfg.ownCluster {
		if o.cluster, err = startOwnCluster(ctx, o.cfg.workdir, 3); err != nil {
			return o, err
		}
		o.cfg.redisAddr = o.cluster.addrs[0]
		o.rdb = &redisDB{RedisClaim: testenv.PrivateRedisDB(o.cluster.addrs[0]), clusterPID: o.cluster.pids()}
		return o, nil
	}
	pid := 0
	if cfg.ownRedis {
		if o.cfg.redisAddr, err = o.startOwnRedis(ctx); err != nil {
			return o, err
		}
		pid = o.ownRedis.Pid()
	}
	claim, err := testenv.ClaimRedisDB(ctx, o.cfg.redisAddr, cfg.redisDB, 2*time.Minute, cfg.timeout+time.Minute)
	if err != nil {
		return o, fmt.Errorf("%w; pick another with -redis-db", err)
	}
	o.rdb = &redisDB{RedisClaim: claim, serverPID: pid}
	return o, nil
}

// close stops every process, releases the Redis database, drops the MySQL
// database and removes the work directory unless it is to be kept.
func (o *orch) close(failed bool) error {
	o.stopAll()
	var err error
	if o.rdb != nil {
		err = errors.Join(err, o.rdb.Release())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = errors.Join(err, testenv.DropDatabase(ctx, o.cfg.mysqlDSN, o.dbName))
	if o.ownRedis != nil {
		_ = o.ownRedis.Stop(10 * time.Second)
	}
	if o.cluster != nil {
		o.cluster.report(o.out)
		o.cluster.stop()
	}
	if failed || err != nil || o.cfg.keep || !o.tmpDir {
		fmt.Fprintf(o.out, "work directory (logs, summaries): %s\n", o.cfg.workdir)
	} else {
		os.RemoveAll(o.cfg.workdir)
	}
	return err
}

func (o *orch) track(p *testenv.Process) {
	o.mu.Lock()
	o.procs = append(o.procs, p)
	o.mu.Unlock()
}

// stopAll stops every process still running.
func (o *orch) stopAll() {
	o.mu.Lock()
	procs := o.procs
	o.procs = nil
	o.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { _ = p.Stop(15 * time.Second) })
	}
	wg.Wait()
}

// startOwnRedis starts a private redis-server (no persistence) on a free
// port for the run and returns its address.
func (o *orch) startOwnRedis(ctx context.Context) (string, error) {
	port, err := testenv.FreePort()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(o.cfg.workdir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("-own-redis: %w", err)
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"}
	p, err := testenv.StartProcess(testenv.ProcessOptions{Name: "redis-server", Path: path, Args: args, Env: os.Environ(),
		LogFile: filepath.Join(dir, "redis.log")})
	if err != nil {
		return "", err
	}
	o.ownRedis = p
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if !waitFor(ctx, 20*time.Second, func() bool { return c.Ping(ctx).Err() == nil }) {
		return "", fmt.Errorf("own redis-server on %s did not answer:\n%s", addr, p.LogTail(2000))
	}
	return addr, nil
}

// waitFor polls cond every 20 ms until it holds (true), timeout passes or
// ctx ends (false).
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || !sleepCtx(ctx, 20*time.Millisecond) {
			return false
		}
	}
	return true
}

// sleepCtx waits d; false means ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
