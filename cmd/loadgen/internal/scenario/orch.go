package scenario

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
	"github.com/houseview/gateway/pkg/testenv"
)

// orch runs one scenario: it owns the work directory, the Redis database
// (and the private redis-servers), the MySQL database, the secrets the
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
	rdb       *testenv.RedisClaim // the run's Redis database
	redis     []*testenv.Process  // private redis-servers, stopped last
	redisCPU0 []float64           // their CPU seconds once they were up
	tmpDir    bool

	mu    sync.Mutex
	procs []*testenv.Process
}

// newOrch prepares a run: the work directory, Redis (claimed, or private
// servers) and the names of the run's database and secrets.
func newOrch(ctx context.Context, scenario string, cfg commonConfig, out, errOut io.Writer) (_ *orch, err error) {
	gw, err := filepath.Abs(cfg.gateway)
	if st, serr := os.Stat(gw); err != nil || serr != nil || st.IsDir() {
		return nil, fmt.Errorf("gateway binary %s not found: go build -o bin/gateway ./cmd/gateway", cfg.gateway)
	}
	cfg.gateway = gw
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	o := &orch{cfg: cfg, scenario: scenario, self: self, out: out, progress: &progress{w: errOut, every: cfg.progress, name: scenario, start: time.Now()},
		apiKey: testenv.RandomName("loadgen-api-"), jwtSecret: testenv.RandomName("loadgen-jwt-") + testenv.RandomName("-"),
		dbName: testenv.RandomName("gwload_")}
	if o.tmpDir = cfg.workdir == ""; o.tmpDir {
		o.cfg.workdir, err = os.MkdirTemp("", "loadgen-")
	} else {
		err = os.MkdirAll(cfg.workdir, 0o755)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, o.close(true))
		}
	}()
	if cfg.ownRedis || cfg.ownCluster {
		addrs, err := o.startRedis(ctx, cfg.ownCluster)
		if err != nil {
			return o, err
		}
		o.cfg.redisAddr = strings.Join(addrs, ",")
		if cfg.ownCluster {
			o.rdb = testenv.PrivateRedisDB(addrs[0])
			return o, nil
		}
	}
	claim, err := testenv.ClaimRedisDB(ctx, o.cfg.redisAddr, cfg.redisDB, 2*time.Minute, cfg.timeout+time.Minute)
	if err != nil {
		return o, fmt.Errorf("%w; pick another with -redis-db", err)
	}
	o.rdb = claim
	return o, nil
}

// close stops every process, releases the Redis database, drops the MySQL
// database and removes the work directory unless it is to be kept.
func (o *orch) close(failed bool) error {
	o.stopAll()
	var err error
	if o.rdb != nil {
		err = o.rdb.Release()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = errors.Join(err, testenv.DropDatabase(ctx, o.cfg.mysqlDSN, o.dbName))
	if o.cfg.ownCluster && len(o.redisCPU0) > 0 {
		var parts []string
		for i, cpu := range o.redisCPUs() {
			parts = append(parts, fmt.Sprintf("%s %.2fs", strings.Split(o.cfg.redisAddr, ",")[i], cpu-o.redisCPU0[i]))
		}
		fmt.Fprintf(o.out, "redis cluster masters, CPU over the whole run: %s\n", strings.Join(parts, ", "))
	}
	for _, p := range o.redis {
		_ = p.Stop(10 * time.Second)
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

// stopAll stops every process still running, all at once.
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

// redisCPUs are the CPU seconds each private redis-server used so far.
func (o *orch) redisCPUs() []float64 {
	out := make([]float64, len(o.redis))
	for i, p := range o.redis {
		out[i] = measure.CPUSeconds(p.Pid())
	}
	return out
}

// startRedis starts a private redis-server (no persistence) on a free
// port, or three cluster-enabled ones joined as a cluster of 3 masters, and
// returns their addresses once they answer (and report cluster_state:ok).
func (o *orch) startRedis(ctx context.Context, cluster bool) ([]string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	var addrs []string
	for i := range map[bool]int{false: 1, true: 3}[cluster] {
		ports := [2]int{}
		for k := range ports {
			if ports[k], err = testenv.FreePort(); err != nil {
				return nil, err
			}
		}
		dir := filepath.Join(o.cfg.workdir, "redis-"+strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		args := []string{"--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"}
		if cluster {
			args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", strconv.Itoa(ports[1]))
		}
		p, err := testenv.StartProcess(testenv.ProcessOptions{Name: "redis-server", Path: path, Args: args, Env: os.Environ(),
			LogFile: filepath.Join(dir, "redis.log")})
		if err != nil {
			return nil, err
		}
		o.redis = append(o.redis, p)
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(ports[0]))
	}
	if err := waitRedis(ctx, addrs, "PONG", func(c *goredis.Client) (string, error) { return c.Ping(ctx).Result() }); err != nil || !cluster {
		return addrs, err
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	err = waitRedis(ctx, addrs, "cluster_state:ok", func(c *goredis.Client) (string, error) { return c.ClusterInfo(ctx).Result() })
	o.redisCPU0 = o.redisCPUs()
	return addrs, err
}

// waitRedis waits until ask's answer of every server contains want.
func waitRedis(ctx context.Context, addrs []string, want string, ask func(*goredis.Client) (string, error)) error {
	for _, a := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: a, MaxRetries: -1})
		ok := measure.WaitFor(ctx, 30*time.Second, func() bool { s, err := ask(c); return err == nil && strings.Contains(s, want) })
		c.Close()
		if !ok {
			return fmt.Errorf("redis-server %s: no %s", a, want)
		}
	}
	return nil
}

// gatewayNode is a running `gateway serve`.
type gatewayNode struct {
	*testenv.Gateway
	id string
}

// nodeSettings are the settings every node of a run gets, whatever the
// scenario (the secrets, ports, database and Redis come on top).
var nodeSettings = []string{"GATEWAY_LOG_FORMAT=json", "GATEWAY_LOG_LEVEL=warn", "GATEWAY_WS_DRAIN_WINDOW=1s", "GATEWAY_SHUTDOWN_TIMEOUT=5s"}

// nodeEnv is the environment of node id: the process environment without
// GATEWAY_* variables, the run's settings, then -node-env. The launcher
// adds the node's ports.
func (o *orch) nodeEnv(id string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GATEWAY_NODE_ID="+id, "GATEWAY_MYSQL_DSN="+testenv.DSNOn(o.cfg.mysqlDSN, o.dbName),
		"GATEWAY_REDIS_ADDR="+o.rdb.Client.Options().Addr, "GATEWAY_REDIS_DB="+strconv.Itoa(o.rdb.DB),
		"GATEWAY_AUTH_MODE="+o.cfg.auth, "GATEWAY_API_KEY="+o.apiKey)
	if o.cfg.auth == "jwt" {
		env = append(env, "GATEWAY_JWT_SECRET="+o.jwtSecret)
	}
	if o.cfg.ownCluster {
		env = append(env, "GATEWAY_REDIS_MODE=cluster", "GATEWAY_REDIS_ADDRS="+o.cfg.redisAddr)
	}
	return append(append(env, nodeSettings...), o.cfg.nodeEnv...)
}

// startNodes starts n nodes: the first alone (it migrates and seeds the
// database), then the others together; it returns when all are ready.
func (o *orch) startNodes(ctx context.Context, n int) ([]*gatewayNode, error) {
	nodes := make([]*gatewayNode, 0, n)
	ready := func(ns []*gatewayNode) error {
		for _, node := range ns {
			ctx, cancel := context.WithTimeoutCause(ctx, readyTimeout, fmt.Errorf("no 200 within %s", readyTimeout))
			err := node.WaitReady(ctx)
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	}
	for i := 1; i <= n; i++ {
		hp, err := testenv.FreePort()
		gp, err2 := testenv.FreePort()
		if err = errors.Join(err, err2); err != nil {
			return nil, err
		}
		id := fmt.Sprintf("load-%s-%d", o.scenario, i)
		g, err := testenv.StartGateway(testenv.GatewayOptions{Name: "node " + id, Binary: o.cfg.gateway, Env: o.nodeEnv(id),
			LogFile: filepath.Join(o.cfg.workdir, id+".log"), HTTPPort: hp, GRPCPort: gp})
		if err != nil {
			return nil, err
		}
		o.track(g.Process)
		if nodes = append(nodes, &gatewayNode{Gateway: g, id: id}); i == 1 {
			if err := ready(nodes); err != nil {
				return nil, err
			}
		}
	}
	return nodes, ready(nodes[1:])
}

func urlsOf(nodes []*gatewayNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.HTTPURL
	}
	return out
}

// stopNodes stops the nodes and returns the WARN and ERROR lines of each
// node's JSON log (but for the warning every insecure node logs at start).
func stopNodes(nodes []*gatewayNode) []int {
	var warns []int
	for _, n := range nodes {
		_ = n.Stop(20 * time.Second)
		b, err := os.ReadFile(n.LogFile())
		if err != nil {
			warns = append(warns, -1)
			continue
		}
		c := 0
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "auth.mode is insecure") && (strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`)) {
				c++
			}
		}
		warns = append(warns, c)
	}
	return warns
}

// get reads base+path with the API key (jwt nodes want it for their
// operator endpoints); nil when it fails.
func (o *orch) get(base, path string) []byte {
	status, b, err := push.Send(context.Background(), &http.Client{Timeout: 5 * time.Second}, http.MethodGet, base+path, o.apiKey, nil)
	if err != nil || status != http.StatusOK {
		return nil
	}
	return b
}

// readyTimeout bounds the start of a node and the connecting of all users.
const readyTimeout = 3 * time.Minute

// startClients spreads users firstUser+1 .. firstUser+users over procs
// clients processes (round-robin over the nodes within each) and waits
// until every user got its connected frame. It returns the processes and
// how long connecting took. cfg holds the scenario's own settings.
func (o *orch) startClients(ctx context.Context, nodes []*gatewayNode, users, procs, firstUser int, cfg clients.Config) (clients.Procs, time.Duration, error) {
	start, per := time.Now(), (users+procs-1)/procs
	cfg.Nodes, cfg.Duration, cfg.Auth, cfg.Ack, cfg.Status = urlsOf(nodes), o.cfg.timeout, o.cfg.auth, o.cfg.ack, cmp.Or(cfg.Status, 250*time.Millisecond)
	cfg.MarkRead = o.cfg.markRead
	if o.cfg.auth == "jwt" {
		cfg.Secret = []byte(o.jwtSecret)
	}
	var cps clients.Procs
	for i, off := 0, 0; off < users; i, off = i+1, off+per {
		name := fmt.Sprintf("clients-%s-%d-%d", o.scenario, firstUser, i+1)
		cfg.Users, cfg.Offset, cfg.Out = min(per, users-off), firstUser+off, filepath.Join(o.cfg.workdir, name+".json")
		cp, err := clients.Start(o.self, name, filepath.Join(o.cfg.workdir, name+".log"), cfg)
		if err != nil {
			return cps, 0, err
		}
		o.track(cp.Process)
		cps = append(cps, cp)
	}
	deadline := time.Now().Add(readyTimeout)
	for _, cp := range cps {
		var err error
		werr := measure.TickUntil(ctx, cp.Ready(), 100*time.Millisecond, func() bool {
			switch {
			case cp.HasExited():
				err = fmt.Errorf("%s exited before all users connected (%v):\n%s", cp.Name, cp.Err(), cp.LogTail(2000))
			case time.Now().After(deadline):
				err = fmt.Errorf("only %d of %d users connected within %s", cps.Total().Connected, users, readyTimeout)
			}
			o.progress.maybe(func() string { return fmt.Sprintf("connecting: %d of %d users", cps.Total().Connected, users) })
			return err != nil
		})
		if err = errors.Join(werr, err); err != nil {
			return cps, 0, err
		}
	}
	return cps, time.Since(start), nil
}
