package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// runConfig is the configuration of "loadgen run".
type runConfig struct {
	gateway   string
	workdir   string
	keep      bool
	mysqlDSN  string
	redisAddr string
	redisDB   int
	phases    string
	nodeEnv   listFlag
	timeout   time.Duration

	nodesA, usersA, procsA int
	push                   pushConfig
	deliverTimeout         time.Duration

	nodesB, idleConns, procsB int
	idleSettle                time.Duration

	readyTimeout time.Duration
	jsonOut      string

	ownRedis  bool
	footprint footprintConfig
}

// maxConnsPerProc bounds the WebSockets of one clients process (each is
// a file; the limit here is 20,000 per process).
const maxConnsPerProc = 19000

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runOrchestrator(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var c runConfig
	fs.StringVar(&c.gateway, "gateway", "bin/gateway", "gateway binary (go build -o bin/gateway ./cmd/gateway)")
	fs.StringVar(&c.workdir, "workdir", "", "directory for node logs and client summaries (default: a new temp dir, removed on success unless -keep)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory")
	fs.StringVar(&c.mysqlDSN, "mysql", envOr(getenv, "TEST_MYSQL_DSN", "root:@tcp(127.0.0.1:3306)/"), "MySQL server DSN (no database); a fresh gwload_<random> database is created and dropped")
	fs.StringVar(&c.redisAddr, "redis", envOr(getenv, "TEST_REDIS_ADDR", "127.0.0.1:6379"), "Redis address")
	fs.IntVar(&c.redisDB, "redis-db", 15, "Redis logical DB (claimed like the tests do, flushed before and after)")
	fs.StringVar(&c.phases, "phases", "a,b", "phases to run: a (delivery under load), b (idle memory), r (Redis footprint; use with -own-redis)")
	fs.BoolVar(&c.ownRedis, "own-redis", false, "start a private redis-server (no persistence) for the run instead of using -redis: Redis's CPU and memory then count this run only")
	fs.IntVar(&c.footprint.users, "r-users", 1000, "phase R: users that get messages")
	fs.IntVar(&c.footprint.messages, "r-messages", 50, "phase R: messages per user")
	fs.IntVar(&c.footprint.idle, "r-idle", 2000, "phase R: idle users (connect once, get nothing)")
	fs.Var(&c.nodeEnv, "node-env", "extra KEY=VALUE for every node (repeatable), e.g. GATEWAY_WS_BUFFER_SIZE=256")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Minute, "bound of the whole run")
	fs.IntVar(&c.nodesA, "a-nodes", 3, "phase A: gateway nodes")
	fs.IntVar(&c.usersA, "a-users", 3000, "phase A: connected users (one WebSocket each)")
	fs.IntVar(&c.procsA, "a-procs", 2, "phase A: client processes")
	fs.Float64Var(&c.push.rate, "rate", 2000, "phase A: messages per second")
	fs.IntVar(&c.push.total, "total", 30000, "phase A: messages")
	fs.IntVar(&c.push.batch, "batch", 1, "phase A: users per push request")
	fs.IntVar(&c.push.concurrency, "concurrency", 32, "phase A: push requests in flight at most")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", 60*time.Second, "phase A: wait this long after the last push for delivery")
	fs.IntVar(&c.nodesB, "b-nodes", 3, "phase B: gateway nodes")
	fs.IntVar(&c.idleConns, "b-conns", 15000, "phase B: idle connections (one user each)")
	fs.IntVar(&c.procsB, "b-procs", 4, "phase B: client processes (a process may open 20,000 files at most)")
	fs.DurationVar(&c.idleSettle, "b-settle", 10*time.Second, "phase B: wait this long after the last connection before reading RSS")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 3*time.Minute, "bound of start-up and of connecting all clients")
	fs.StringVar(&c.jsonOut, "json", "", "also write the full report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.usersA <= 0 || c.procsA <= 0 || c.nodesA <= 0 || c.nodesB <= 0 || c.idleConns <= 0 || c.procsB <= 0 {
		return errors.New("run: node, user, connection and process counts must be positive")
	}
	for _, kv := range c.nodeEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("run: -node-env %q is not KEY=VALUE", kv)
		}
	}
	// A process may open 20,000 files here; keep each well under that.
	if per := max((c.usersA+c.procsA-1)/c.procsA, (c.idleConns+c.procsB-1)/c.procsB); per > maxConnsPerProc {
		return fmt.Errorf("run: %d connections per client process; use more processes (-a-procs, -b-procs) for at most %d each", per, maxConnsPerProc)
	}
	gw, err := filepath.Abs(c.gateway)
	if err != nil {
		return err
	}
	if st, err := os.Stat(gw); err != nil || st.IsDir() {
		return fmt.Errorf("run: gateway binary %s not found: go build -o bin/gateway ./cmd/gateway", c.gateway)
	}
	c.gateway = gw
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	tmp := c.workdir == ""
	if tmp {
		if c.workdir, err = os.MkdirTemp("", "loadgen-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(c.workdir, 0o755); err != nil {
		return err
	}
	o := &orch{cfg: c, self: self, out: stdout, apiKey: testenv.RandomName("loadgen-") + testenv.RandomName(""), dbName: testenv.RandomName("gwload_")}
	err = o.execute(ctx)
	if o.ownRedis != nil {
		_ = o.ownRedis.stop(10 * time.Second)
	}
	if err != nil || c.keep || !tmp {
		fmt.Fprintf(stdout, "work directory (logs, summaries): %s\n", c.workdir)
	} else {
		os.RemoveAll(c.workdir)
	}
	return err
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// orch runs the scenarios and owns every process it starts.
type orch struct {
	cfg    runConfig
	self   string
	out    io.Writer
	apiKey string
	dbName string
	rdb    *redisDB

	ownRedis *proc // the private redis-server of -own-redis, stopped last

	mu    sync.Mutex
	procs []*proc
}

// runReport is the JSON report of a run.
type runReport struct {
	Conditions map[string]any `json:"conditions"`
	A          *phaseAReport  `json:"a,omitempty"`
	B          *phaseBReport  `json:"b,omitempty"`
	R          *phaseRReport  `json:"r,omitempty"`
}

type phaseAReport struct {
	Nodes       int             `json:"nodes"`
	Users       int             `json:"users"`
	ConnectMS   int64           `json:"connect_ms"`
	Push        *pushReport     `json:"push"`
	Delivery    deliveryReport  `json:"delivery"`
	DeliveredMS int64           `json:"delivered_ms"` // first push to last expected receipt seen
	NodeCPU     []float64       `json:"node_cpu_seconds"`
	ClientCPU   []float64       `json:"client_cpu_seconds"`
	PusherCPU   float64         `json:"pusher_cpu_seconds"` // this process (the pusher runs in it)
	RedisCPU    float64         `json:"redis_cpu_seconds"`
	NodeWarns   []int           `json:"node_log_warnings"`
	Stats       json.RawMessage `json:"ws_stats,omitempty"`
}

type phaseBReport struct {
	Nodes       []nodeMem       `json:"nodes"`
	Conns       int             `json:"connections"`
	ConnectMS   int64           `json:"connect_ms"`
	TotalDelta  int64           `json:"total_delta_kb"`
	KBPerConn   float64         `json:"kb_per_conn"`
	ClientRSSKB []int64         `json:"client_rss_kb"`
	Stats       json.RawMessage `json:"ws_stats,omitempty"`
}

type nodeMem struct {
	ID        string  `json:"id"`
	BeforeKB  int64   `json:"rss_before_kb"`
	AfterKB   int64   `json:"rss_after_kb"`
	Conns     int     `json:"connections"`
	FDs       int     `json:"open_fds"`
	KBPerConn float64 `json:"kb_per_conn"`
}

func (o *orch) execute(ctx context.Context) (err error) {
	c := &o.cfg
	defer o.stopAll()
	if c.ownRedis {
		if c.redisAddr, err = o.startOwnRedis(ctx); err != nil {
			return err
		}
	}
	claim, err := testenv.ClaimRedisDB(ctx, c.redisAddr, c.redisDB, 2*time.Minute, c.timeout+time.Minute)
	if err != nil {
		return fmt.Errorf("%w; pick another with -redis-db", err)
	}
	o.rdb = &redisDB{claim}
	defer func() {
		o.stopAll() // nodes first, then the data they use
		if e := o.rdb.Release(); e != nil && err == nil {
			err = fmt.Errorf("flush redis db %d: %w", c.redisDB, e)
		}
		if e := testenv.DropDatabase(context.Background(), c.mysqlDSN, o.dbName); e != nil && err == nil {
			err = e
		}
	}()
	rep := &runReport{Conditions: o.conditions()}
	fmt.Fprintf(o.out, "loadgen: %d CPUs, load average %s, database %s, redis db %d, node env %v\n",
		runtime.NumCPU(), loadAvg(), o.dbName, c.redisDB, []string(c.nodeEnv))
	phases := splitList(c.phases)
	for _, ph := range phases {
		switch ph {
		case "a":
			if rep.A, err = o.phaseA(ctx); err != nil {
				return fmt.Errorf("phase A: %w", err)
			}
		case "b":
			if rep.B, err = o.phaseB(ctx); err != nil {
				return fmt.Errorf("phase B: %w", err)
			}
		case "r":
			if rep.R, err = o.phaseR(ctx); err != nil {
				return fmt.Errorf("phase R: %w", err)
			}
		default:
			return fmt.Errorf("unknown phase %q (a, b, r)", ph)
		}
		if err := o.rdb.flush(); err != nil {
			return err
		}
	}
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (o *orch) conditions() map[string]any {
	return map[string]any{"cpus": runtime.NumCPU(), "load_avg_at_start": loadAvg(),
		"time": time.Now().UTC().Format(time.RFC3339), "node_env": []string(o.cfg.nodeEnv)}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (o *orch) track(p *proc) {
	o.mu.Lock()
	o.procs = append(o.procs, p)
	o.mu.Unlock()
}

// stopAll stops every process still running: clients first, then nodes.
func (o *orch) stopAll() {
	o.mu.Lock()
	procs := o.procs
	o.procs = nil
	o.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { _ = p.stop(15 * time.Second) })
	}
	wg.Wait()
}

// nodeEnvFor is the environment of node id: the process environment
// without GATEWAY_* variables, the run's settings, then -node-env.
func (o *orch) nodeEnvFor(id string, httpPort, grpcPort int) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"GATEWAY_NODE_ID="+id,
		"GATEWAY_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(httpPort),
		"GATEWAY_GRPC_ADDR=127.0.0.1:"+strconv.Itoa(grpcPort),
		"GATEWAY_MYSQL_DSN="+testenv.DSNOn(o.cfg.mysqlDSN, o.dbName),
		"GATEWAY_REDIS_ADDR="+o.cfg.redisAddr,
		"GATEWAY_REDIS_DB="+strconv.Itoa(o.cfg.redisDB),
		"GATEWAY_AUTH_MODE=insecure",
		"GATEWAY_API_KEY="+o.apiKey,
		"GATEWAY_LOG_FORMAT=json",
		"GATEWAY_LOG_LEVEL=warn",
		"GATEWAY_WS_DRAIN_WINDOW=1s",
		"GATEWAY_SHUTDOWN_TIMEOUT=5s",
	)
	return append(env, o.cfg.nodeEnv...)
}

// startNodes starts n nodes: the first alone (it migrates and seeds the
// database), then the others together; it returns when all are ready.
func (o *orch) startNodes(ctx context.Context, phase string, n int) ([]*gatewayNode, error) {
	nodes := make([]*gatewayNode, 0, n)
	for i := 1; i <= n; i++ {
		hp, err := testenv.FreePort()
		if err != nil {
			return nil, err
		}
		gp, err := testenv.FreePort()
		if err != nil {
			return nil, err
		}
		id := fmt.Sprintf("load-%s%d", phase, i)
		p, err := startProc("node "+id, o.cfg.gateway, []string{"serve"}, o.nodeEnvFor(id, hp, gp),
			filepath.Join(o.cfg.workdir, id+".log"), nil)
		if err != nil {
			return nil, err
		}
		o.track(p)
		node := &gatewayNode{proc: p, id: id, httpURL: "http://127.0.0.1:" + strconv.Itoa(hp)}
		nodes = append(nodes, node)
		if i == 1 {
			if err := node.waitReady(ctx, o.cfg.readyTimeout); err != nil {
				return nil, err
			}
		}
	}
	for _, node := range nodes[1:] {
		if err := node.waitReady(ctx, o.cfg.readyTimeout); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

func urlsOf(nodes []*gatewayNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.httpURL
	}
	return out
}

// startClientProcs spreads users over procs client processes and waits
// until every user is connected. It returns the processes and how long
// connecting took.
func (o *orch) startClientProcs(ctx context.Context, phase string, nodes []*gatewayNode, users, procs, firstUser int) ([]*clientProc, time.Duration, error) {
	start := time.Now()
	per := (users + procs - 1) / procs
	var cps []*clientProc
	for i, off := 0, 0; off < users; i, off = i+1, off+per {
		n := min(per, users-off)
		name := fmt.Sprintf("clients-%s%d", phase, i+1)
		out := filepath.Join(o.cfg.workdir, name+".json")
		args := []string{"clients", "-nodes", strings.Join(urlsOf(nodes), ","), "-users", strconv.Itoa(n),
			"-user-offset", strconv.Itoa(firstUser + off), "-out", out, "-duration", o.cfg.timeout.String()}
		cp, err := startClients(o.self, name, args, os.Environ(), filepath.Join(o.cfg.workdir, name+".log"), out, n)
		if err != nil {
			return cps, 0, err
		}
		o.track(cp.proc)
		cps = append(cps, cp)
	}
	deadline := time.NewTimer(o.cfg.readyTimeout)
	defer deadline.Stop()
	for _, cp := range cps {
		select {
		case <-cp.ready:
		case <-cp.done:
			return cps, 0, fmt.Errorf("%s exited before all users connected (%v):\n%s", cp.name, cp.err, cp.logTail(2000))
		case <-deadline.C:
			var got int64
			for _, c := range cps {
				got += c.connected.Load()
			}
			return cps, 0, fmt.Errorf("only %d of %d users connected within %s", got, users, o.cfg.readyTimeout)
		case <-ctx.Done():
			return cps, 0, ctx.Err()
		}
	}
	return cps, time.Since(start), nil
}

// phaseA: users connected over the nodes, pushes at a fixed rate, then
// every returned (user, seq) is looked for in what the clients received.
func (o *orch) phaseA(ctx context.Context) (*phaseAReport, error) {
	c := o.cfg
	fmt.Fprintf(o.out, "phase A: %d nodes, %d users in %d client processes, %d messages at %.0f msg/s (batch %d)\n",
		c.nodesA, c.usersA, c.procsA, c.push.total, c.push.rate, c.push.batch)
	nodes, err := o.startNodes(ctx, "a", c.nodesA)
	if err != nil {
		return nil, err
	}
	cps, took, err := o.startClientProcs(ctx, "a", nodes, c.usersA, c.procsA, 0)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.out, "  %d users connected in %.2fs\n", c.usersA, took.Seconds())
	rep := &phaseAReport{Nodes: c.nodesA, Users: c.usersA, ConnectMS: took.Milliseconds()}

	cpu0 := cpuOf(nodes, cps)
	self0, redis0 := cpuSeconds(os.Getpid()), o.rdb.cpuSeconds()
	pc := c.push
	pc.nodes, pc.apiKey, pc.users, pc.offset = urlsOf(nodes), o.apiKey, c.usersA, 0
	if err := pc.check(); err != nil {
		return nil, err
	}
	pushStart := time.Now()
	if rep.Push, err = pushLoad(ctx, pc); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted while pushing: %w", err)
	}
	// Wait until the clients have as many messages as were accepted.
	want := int64(rep.Push.Accepted)
	deadline := time.Now().Add(c.deliverTimeout)
	for {
		var got int64
		for _, cp := range cps {
			got += cp.received.Load()
		}
		if got >= want {
			rep.DeliveredMS = time.Since(pushStart).Milliseconds()
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(o.out, "  delivery wait ended after %s with %d of %d messages\n", c.deliverTimeout, got, want)
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return nil, fmt.Errorf("interrupted while waiting for delivery: %w", ctx.Err())
		}
	}
	if !sleepCtx(ctx, time.Second) { // late duplicates would show up here
		return nil, ctx.Err()
	}
	cpu1 := cpuOf(nodes, cps)
	rep.PusherCPU, rep.RedisCPU = round2(cpuSeconds(os.Getpid())-self0), round2(o.rdb.cpuSeconds()-redis0)
	for i := range nodes {
		rep.NodeCPU = append(rep.NodeCPU, round2(cpu1[i]-cpu0[i]))
	}
	for i := range cps {
		rep.ClientCPU = append(rep.ClientCPU, round2(cpu1[len(nodes)+i]-cpu0[len(nodes)+i]))
	}
	rep.Stats = fetchStats(nodes[0].httpURL)

	var sums []clientSummary
	for _, cp := range cps {
		s, err := cp.summary(30 * time.Second)
		if err != nil {
			return nil, err
		}
		sums = append(sums, s)
	}
	rep.Delivery = mergeDelivery(rep.Push.Results, sums)
	rep.Push.Results = nil
	for _, n := range nodes {
		_ = n.stop(20 * time.Second)
		rep.NodeWarns = append(rep.NodeWarns, countWarnings(n.log))
	}
	printDelivery(o.out, rep.Push, rep.Delivery)
	fmt.Fprintf(o.out, "  all accepted messages received %.2fs after the first push\n", float64(rep.DeliveredMS)/1000)
	fmt.Fprintf(o.out, "  CPU seconds during push+delivery: nodes %v, client processes %v, pusher %.2f, redis-server %.2f; node log warnings/errors %v\n",
		rep.NodeCPU, rep.ClientCPU, rep.PusherCPU, rep.RedisCPU, rep.NodeWarns)
	if n := rep.Delivery.Received; n > 0 {
		var nodeCPU float64
		for _, s := range rep.NodeCPU {
			nodeCPU += s
		}
		fmt.Fprintf(o.out, "  CPU per delivered message: nodes %.1f µs, redis-server %.1f µs\n", nodeCPU*1e6/float64(n), rep.RedisCPU*1e6/float64(n))
	}
	return rep, nil
}

// phaseB: RSS of fresh nodes before and after idle connections.
func (o *orch) phaseB(ctx context.Context) (*phaseBReport, error) {
	c := o.cfg
	fmt.Fprintf(o.out, "phase B: %d nodes, %d idle connections from %d client processes\n", c.nodesB, c.idleConns, c.procsB)
	nodes, err := o.startNodes(ctx, "b", c.nodesB)
	if err != nil {
		return nil, err
	}
	if !sleepCtx(ctx, 3*time.Second) { // let start-up garbage settle
		return nil, ctx.Err()
	}
	rep := &phaseBReport{Conns: c.idleConns}
	for _, n := range nodes {
		kb, err := statusKB(n.pid(), "VmRSS")
		if err != nil {
			return nil, err
		}
		rep.Nodes = append(rep.Nodes, nodeMem{ID: n.id, BeforeKB: kb})
	}
	cps, took, err := o.startClientProcs(ctx, "b", nodes, c.idleConns, c.procsB, 0)
	if err != nil {
		return nil, err
	}
	rep.ConnectMS = took.Milliseconds()
	fmt.Fprintf(o.out, "  %d connections in %.2fs; waiting %s before reading RSS\n", c.idleConns, took.Seconds(), c.idleSettle)
	if !sleepCtx(ctx, c.idleSettle) {
		return nil, ctx.Err()
	}
	rep.Stats = fetchStats(nodes[0].httpURL)
	conns := nodeConnections(rep.Stats)
	for i, n := range nodes {
		kb, err := statusKB(n.pid(), "VmRSS")
		if err != nil {
			return nil, err
		}
		m := &rep.Nodes[i]
		m.AfterKB, m.FDs, m.Conns = kb, openFDs(n.pid()), conns[n.id]
		if m.Conns > 0 {
			m.KBPerConn = round2(float64(m.AfterKB-m.BeforeKB) / float64(m.Conns))
		}
		rep.TotalDelta += m.AfterKB - m.BeforeKB
	}
	var live int64
	for _, cp := range cps {
		kb, _ := statusKB(cp.pid(), "VmRSS")
		rep.ClientRSSKB = append(rep.ClientRSSKB, kb)
		live += cp.live.Load()
	}
	rep.KBPerConn = round2(float64(rep.TotalDelta) / float64(c.idleConns))
	for _, cp := range cps {
		s, err := cp.summary(30 * time.Second)
		if err != nil {
			return nil, err
		}
		if s.Reconnects > 0 || s.Failed > 0 {
			fmt.Fprintf(o.out, "  %s: %d reconnects, %d users gave up, ends %v\n", cp.name, s.Reconnects, s.Failed, s.CloseCodes)
		}
	}
	for _, n := range nodes {
		_ = n.stop(20 * time.Second)
	}
	for _, m := range rep.Nodes {
		fmt.Fprintf(o.out, "  node %s: VmRSS %d kB -> %d kB with %d connections (%d open files): %.2f KB per connection\n",
			m.ID, m.BeforeKB, m.AfterKB, m.Conns, m.FDs, m.KBPerConn)
	}
	fmt.Fprintf(o.out, "  total: +%d kB for %d connections (%d live at the reading) = %.2f KB per idle connection; client processes VmRSS kB %v\n",
		rep.TotalDelta, c.idleConns, live, rep.KBPerConn, rep.ClientRSSKB)
	return rep, nil
}

func cpuOf(nodes []*gatewayNode, cps []*clientProc) []float64 {
	var out []float64
	for _, n := range nodes {
		out = append(out, cpuSeconds(n.pid()))
	}
	for _, c := range cps {
		out = append(out, cpuSeconds(c.pid()))
	}
	return out
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

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// fetchStats reads GET /api/websocket/stats (open in insecure mode).
func fetchStats(base string) json.RawMessage {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/api/websocket/stats")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || !json.Valid(b) {
		return nil
	}
	return b
}

// nodeConnections reads the per-node connections out of the stats.
func nodeConnections(stats json.RawMessage) map[string]int {
	var st struct {
		Nodes []struct {
			NodeID      string `json:"node_id"`
			Connections int    `json:"connections"`
		} `json:"nodes"`
	}
	_ = json.Unmarshal(stats, &st)
	out := map[string]int{}
	for _, n := range st.Nodes {
		out[n.NodeID] = n.Connections
	}
	return out
}

// countWarnings counts WARN and ERROR lines of a node's JSON log, but for
// the insecure-mode warning every node logs at start.
func countWarnings(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "auth.mode is insecure") { // the start-up warning of every insecure node
			continue
		}
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			n++
		}
	}
	return n
}
