package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// idleConfig is the idle scenario: many connections that get nothing.
type idleConfig struct {
	nodes, conns, procs int
	settle, window      time.Duration
}

func (c *idleConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes")
	fs.IntVar(&c.conns, "conns", 19000, "idle connections (one user each)")
	fs.IntVar(&c.procs, "procs", 4, "client processes (a process may open 20,000 files at most)")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "wait this long after the last connection before reading RSS")
	fs.DurationVar(&c.window, "window", 30*time.Second, "then measure the nodes' idle CPU over this long (0: skip)")
}

func (c *idleConfig) check() error {
	if c.nodes <= 0 || c.settle < 0 || c.window < 0 {
		return errors.New("-nodes must be positive, -settle and -window not negative")
	}
	return checkSpread("-conns", c.conns, c.procs)
}

// idleNode is one node's memory before and after the connections.
type idleNode struct {
	ID        string  `json:"id"`
	BeforeKB  int64   `json:"rss_before_kb"`
	AfterKB   int64   `json:"rss_after_kb"`
	Conns     int     `json:"connections"`
	FDs       int     `json:"open_fds"`
	KBPerConn float64 `json:"kb_per_conn"`
}

// idleReport is the outcome of an idle run.
type idleReport struct {
	Conns          int            `json:"connections"`
	Nodes          []idleNode     `json:"nodes"`
	ConnectMS      int64          `json:"connect_ms"`
	NodeCPUPerConn float64        `json:"node_cpu_ms_per_conn"` // node CPU while connecting / connections
	RedisCPUPerCon float64        `json:"redis_cpu_ms_per_conn"`
	RSSDeltaKB     int64          `json:"rss_delta_kb"`
	KBPerConn      float64        `json:"rss_kb_per_conn"` // VmRSS after settling - before, / connections
	WindowS        float64        `json:"idle_window_s"`
	IdleCores      float64        `json:"idle_node_cores"` // node CPU over the window / its length
	IdleRedisCores float64        `json:"idle_redis_cores"`
	LiveAtEnd      int64          `json:"live_at_end"` // sessions open after the window
	Reconnects     int64          `json:"reconnects"`
	ClientRSSKB    []int64        `json:"client_rss_kb"`
	Probe          pushReport     `json:"probe_push"`
	Delivery       deliveryReport `json:"probe_delivery"` // one message to every user after the window
	NodeWarnings   []int          `json:"node_log_warnings"`
}

func (r *idleReport) failures() []string {
	f := r.Delivery.failures()
	if r.LiveAtEnd != int64(r.Conns) {
		f = append(f, fmt.Sprintf("%d of %d connections live after the window", r.LiveAtEnd, r.Conns))
	}
	if r.Reconnects > 0 {
		f = append(f, fmt.Sprintf("%d reconnects", r.Reconnects))
	}
	if r.Probe.FailedReqs > 0 {
		f = append(f, fmt.Sprintf("%d probe push requests failed", r.Probe.FailedReqs))
	}
	return f
}

func (c *idleConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "idle: %d node(s), %d connections from %d client processes, settle %s, idle window %s\n",
		c.nodes, c.conns, c.procs, c.settle, c.window)
	nodes, err := o.startNodes(ctx, c.nodes)
	if err != nil {
		return nil, err
	}
	if !sleepCtx(ctx, 3*time.Second) { // let start-up garbage settle
		return nil, ctx.Err()
	}
	rep := &idleReport{Conns: c.conns, WindowS: c.window.Seconds()}
	for _, n := range nodes {
		kb, err := statusKB(n.Pid(), "VmRSS")
		if err != nil {
			return nil, err
		}
		rep.Nodes = append(rep.Nodes, idleNode{ID: n.id, BeforeKB: kb})
	}
	meter := loadMeter{nodes: pidsOf(nodes), rdb: o.rdb}
	s0 := meter.sample()
	cps, took, err := o.startClients(ctx, nodes, c.conns, c.procs, 0, clientOpts{})
	if err != nil {
		return nil, err
	}
	s1 := meter.sample()
	rep.ConnectMS = took.Milliseconds()
	rep.NodeCPUPerConn = round3((s1.node() - s0.node()) * 1000 / float64(c.conns))
	rep.RedisCPUPerCon = round3((s1.redis - s0.redis) * 1000 / float64(c.conns))
	fmt.Fprintf(o.out, "  %d connections in %.2fs; waiting %s before reading RSS\n", c.conns, took.Seconds(), c.settle)
	meter.cps = cps
	cores := &coresMeter{m: meter}
	if err := c.wait(ctx, o, c.settle, "settling", cps, cores); err != nil {
		return nil, err
	}
	if err := c.readMemory(o, nodes, cps, rep); err != nil {
		return nil, err
	}
	w0 := meter.sample()
	if err := c.wait(ctx, o, c.window, "idle window", cps, cores); err != nil {
		return nil, err
	}
	if c.window > 0 {
		w1 := meter.sample()
		secs := w1.at.Sub(w0.at).Seconds()
		rep.IdleCores, rep.IdleRedisCores = round3((w1.node()-w0.node())/secs), round3((w1.redis-w0.redis)/secs)
	}
	rep.LiveAtEnd, rep.Reconnects = cps.live(), cps.reconnects()
	if rep.Probe, rep.Delivery, err = probeEveryUser(ctx, o, nodes, cps, c.conns, 0); err != nil {
		return nil, err
	}
	rep.NodeWarnings = stopNodes(nodes)
	return rep, nil
}

// wait sleeps d, printing the progress line.
func (c *idleConfig) wait(ctx context.Context, o *orch, d time.Duration, what string, cps clientProcs, cores *coresMeter) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if !sleepCtx(ctx, min(100*time.Millisecond, time.Until(end))) {
			return ctx.Err()
		}
		o.progress.maybe(func() string {
			node, redis := cores.read()
			return fmt.Sprintf("%s: connected %d/%d, live %d | node %.3f cores, redis %.3f cores", what, cps.connected(), c.conns, cps.live(), node, redis)
		})
	}
	return nil
}

// readMemory reads each node's RSS, open files and connections after
// settling, and the clients' RSS.
func (c *idleConfig) readMemory(o *orch, nodes []*gatewayNode, cps clientProcs, rep *idleReport) error {
	conns := nodeConnections(o.fetchStats(nodes[0].HTTPURL))
	for i, n := range nodes {
		kb, err := statusKB(n.Pid(), "VmRSS")
		if err != nil {
			return err
		}
		m := &rep.Nodes[i]
		m.AfterKB, m.FDs, m.Conns = kb, openFDs(n.Pid()), conns[n.id]
		if m.Conns > 0 {
			m.KBPerConn = round2(float64(m.AfterKB-m.BeforeKB) / float64(m.Conns))
		}
		rep.RSSDeltaKB += m.AfterKB - m.BeforeKB
	}
	rep.KBPerConn = round2(float64(rep.RSSDeltaKB) / float64(c.conns))
	for _, cp := range cps {
		kb, _ := statusKB(cp.Pid(), "VmRSS")
		rep.ClientRSSKB = append(rep.ClientRSSKB, kb)
	}
	return nil
}

// probeEveryUser pushes one message to each of users firstUser+1 ..
// firstUser+users (500 per request), waits for them and merges what the
// clients got: every connection must get its message once.
func probeEveryUser(ctx context.Context, o *orch, nodes []*gatewayNode, cps clientProcs, users, firstUser int) (pushReport, deliveryReport, error) {
	batch := min(users, 500)
	step := fixedStep(20000, users)
	p := newPusher(pushPlan{nodes: urlsOf(nodes), apiKey: o.apiKey, users: users, offset: firstUser, batch: batch, concurrency: 4,
		step: func(k int) (stepPlan, bool) { return step, k == 0 }})
	before := cps.received()
	p.run(ctx)
	push := p.report()
	if _, all := cps.waitReceived(ctx, before+int64(push.Accepted), time.Minute); !all {
		fmt.Fprintf(o.out, "  probe: %d of %d messages arrived within a minute\n", cps.received()-before, push.Accepted)
	}
	if !sleepCtx(ctx, time.Second) {
		return push, deliveryReport{}, ctx.Err()
	}
	sums, err := cps.summaries()
	if err != nil {
		return push, deliveryReport{}, err
	}
	return push, mergeDelivery(p.results, sums), nil
}

func (r *idleReport) printTable(w io.Writer) {
	d := r.Delivery
	rows := [][2]string{
		{"connections, connect time", fmt.Sprintf("%d, %.2f s", r.Conns, float64(r.ConnectMS)/1000)},
		{"node CPU per new connection", fmt.Sprintf("%.3f ms (Redis %.3f ms)", r.NodeCPUPerConn, r.RedisCPUPerCon)},
		{"RSS per idle connection", fmt.Sprintf("%.2f KB (+%d kB in all)", r.KBPerConn, r.RSSDeltaKB)},
		{"idle CPU over the window", idleCPU(r)},
		{"live at the end, reconnects", fmt.Sprintf("%d, %d", r.LiveAtEnd, r.Reconnects)},
		{"probe: accepted / received", fmt.Sprintf("%d / %d (failed requests %d)", d.Expected, d.Received, r.Probe.FailedReqs)},
		{"probe: lost, duplicated", fmt.Sprintf("%d, %d", d.Lost, d.Duplicated)},
		{"client processes VmRSS kB", fmt.Sprint(r.ClientRSSKB)},
		{"node log warnings", fmt.Sprint(r.NodeWarnings)},
	}
	for _, n := range r.Nodes {
		rows = append(rows, [2]string{"node " + n.ID, fmt.Sprintf("VmRSS %d -> %d kB, %d connections, %d open files: %.2f KB each",
			n.BeforeKB, n.AfterKB, n.Conns, n.FDs, n.KBPerConn)})
	}
	printRows(w, "idle", rows)
}

func idleCPU(r *idleReport) string {
	if r.WindowS == 0 {
		return "not measured (-window 0)"
	}
	return fmt.Sprintf("node %.3f cores, Redis %.3f cores (%.0f s)", r.IdleCores, r.IdleRedisCores, r.WindowS)
}
