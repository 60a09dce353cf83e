package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
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
	PeakKB    int64   `json:"rss_peak_kb"` // VmHWM: the highest RSS so far
}

// idleReport is the outcome of an idle run.
type idleReport struct {
	Conns          int             `json:"connections"`
	Nodes          []idleNode      `json:"nodes"`
	ConnectMS      int64           `json:"connect_ms"`
	NodeCPUPerConn float64         `json:"node_cpu_ms_per_conn"` // node CPU while connecting / connections
	RedisCPUPerCon float64         `json:"redis_cpu_ms_per_conn"`
	RSSDeltaKB     int64           `json:"rss_delta_kb"`
	KBPerConn      float64         `json:"rss_kb_per_conn"`      // VmRSS after settling - before, / connections
	PeakKBPerConn  float64         `json:"rss_peak_kb_per_conn"` // VmHWM (the peak, while connecting) - VmRSS before, / connections
	WindowS        float64         `json:"idle_window_s"`
	IdleCores      float64         `json:"idle_node_cores"` // node CPU over the window / its length
	IdleRedisCores float64         `json:"idle_redis_cores"`
	LiveAtEnd      int64           `json:"live_at_end"` // sessions open after the window
	Reconnects     int64           `json:"reconnects"`
	ClientRSSKB    []int64         `json:"client_rss_kb"`
	Probe          push.Report     `json:"probe_push"`
	Delivery       delivery.Report `json:"probe_delivery"` // one message to every user after the window
	NodeWarnings   []int           `json:"node_log_warnings"`
}

func (r *idleReport) failures() []string {
	f := r.Delivery.Failures()
	if r.LiveAtEnd != int64(r.Conns) {
		f = append(f, fmt.Sprintf("%d of %d connections live after the window", r.LiveAtEnd, r.Conns))
	}
	return append(f, delivery.Failures(r.Reconnects, "reconnects", r.Probe.FailedReqs, "probe push requests failed")...)
}

func (c *idleConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "idle: %d node(s), %d connections from %d client processes, settle %s, idle window %s\n",
		c.nodes, c.conns, c.procs, c.settle, c.window)
	nodes, err := o.startNodes(ctx, c.nodes)
	if err != nil {
		return nil, err
	}
	if !measure.Sleep(ctx, 3*time.Second) { // let start-up garbage settle
		return nil, ctx.Err()
	}
	rep := &idleReport{Conns: c.conns, WindowS: c.window.Seconds()}
	for _, n := range nodes {
		rep.Nodes = append(rep.Nodes, idleNode{ID: n.id, BeforeKB: measure.RSSKB(n.Pid())})
	}
	meter := &loadMeter{nodes: nodes, o: o}
	s0 := meter.sample()
	cps, took, err := o.startClients(ctx, nodes, c.conns, c.procs, 0, clients.Config{})
	if err != nil {
		return nil, err
	}
	s1 := meter.sample()
	rep.ConnectMS = took.Milliseconds()
	rep.NodeCPUPerConn = measure.Round3((s1.node() - s0.node()) * 1000 / float64(c.conns))
	rep.RedisCPUPerCon = measure.Round3((s1.redis - s0.redis) * 1000 / float64(c.conns))
	fmt.Fprintf(o.out, "  %d connections in %.2fs; waiting %s before reading RSS\n", c.conns, took.Seconds(), c.settle)
	meter.cps = cps
	if err := c.wait(ctx, o, c.settle, "settling", meter); err != nil {
		return nil, err
	}
	c.readMemory(o, nodes, cps, rep)
	w0 := meter.sample()
	if err := c.wait(ctx, o, c.window, "idle window", meter); err != nil {
		return nil, err
	}
	if w1 := meter.sample(); c.window > 0 {
		secs := w1.at.Sub(w0.at).Seconds()
		rep.IdleCores, rep.IdleRedisCores = measure.Round3((w1.node()-w0.node())/secs), measure.Round3((w1.redis-w0.redis)/secs)
	}
	rep.LiveAtEnd, rep.Reconnects = cps.Total().Live, cps.Total().Reconnects
	// Then one message to every user (500 per request): each must get it once.
	p := push.New(push.Plan{Nodes: urlsOf(nodes), APIKey: o.apiKey, Users: c.conns, Batch: min(c.conns, 500), Concurrency: 4,
		Step: push.OneStep(20000, c.conns)})
	before := cps.Total().Received
	p.Run(ctx)
	rep.Probe = p.Report()
	cps.WaitDelivered(ctx, o.out, before+int64(rep.Probe.Accepted), time.Minute, "probe")
	sums, err := cps.Finish(ctx)
	if err != nil {
		return nil, err
	}
	rep.Delivery = delivery.Merge(p.Results, sums)
	rep.NodeWarnings = stopNodes(nodes)
	return rep, nil
}

// wait sleeps d, printing the progress line.
func (c *idleConfig) wait(ctx context.Context, o *orch, d time.Duration, what string, meter *loadMeter) error {
	done := make(chan struct{})
	defer time.AfterFunc(d, func() { close(done) }).Stop()
	return measure.TickUntil(ctx, done, 100*time.Millisecond, func() bool {
		o.progress.maybe(func() string {
			node, redis := meter.cores()
			return fmt.Sprintf("%s: connected %d/%d, live %d | node %.3f cores, redis %.3f cores", what, meter.cps.Total().Connected, c.conns, meter.cps.Total().Live, node, redis)
		})
		return false
	})
}

// readMemory reads each node's RSS, open files and connections after
// settling, and the clients' RSS.
func (c *idleConfig) readMemory(o *orch, nodes []*gatewayNode, cps clients.Procs, rep *idleReport) {
	conns := nodeConnections(o, nodes[0].HTTPURL)
	var peak int64
	for i, n := range nodes {
		m := &rep.Nodes[i]
		m.AfterKB, m.FDs, m.Conns = measure.RSSKB(n.Pid()), measure.OpenFDs(n.Pid()), conns[n.id]
		m.PeakKB = measure.StatusKB(n.Pid(), "VmHWM:")
		peak += m.PeakKB - m.BeforeKB
		if m.Conns > 0 {
			m.KBPerConn = measure.Round2(float64(m.AfterKB-m.BeforeKB) / float64(m.Conns))
		}
		rep.RSSDeltaKB += m.AfterKB - m.BeforeKB
	}
	rep.KBPerConn = measure.Round2(float64(rep.RSSDeltaKB) / float64(c.conns))
	rep.PeakKBPerConn = measure.Round2(float64(peak) / float64(c.conns))
	for _, cp := range cps {
		rep.ClientRSSKB = append(rep.ClientRSSKB, measure.RSSKB(cp.Pid()))
	}
}

// nodeConnections reads each node's connections from
// /api/websocket/stats of base.
func nodeConnections(o *orch, base string) map[string]int {
	var st struct {
		Nodes []struct {
			NodeID      string `json:"node_id"`
			Connections int    `json:"connections"`
		} `json:"nodes"`
	}
	_ = json.Unmarshal(o.get(base, "/api/websocket/stats"), &st)
	out := map[string]int{}
	for _, n := range st.Nodes {
		out[n.NodeID] = n.Connections
	}
	return out
}
