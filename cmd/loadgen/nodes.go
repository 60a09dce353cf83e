package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// gatewayNode is a running `gateway serve`.
type gatewayNode struct {
	*testenv.Gateway
	id string
}

// nodeSettings are the settings every node of a run gets, whatever the
// scenario (the secrets, ports, database and Redis come on top).
var nodeSettings = []string{
	"GATEWAY_LOG_FORMAT=json",
	"GATEWAY_LOG_LEVEL=warn",
	"GATEWAY_WS_DRAIN_WINDOW=1s",
	"GATEWAY_SHUTDOWN_TIMEOUT=5s",
}

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
	env = append(env,
		"GATEWAY_NODE_ID="+id,
		"GATEWAY_MYSQL_DSN="+testenv.DSNOn(o.cfg.mysqlDSN, o.dbName),
		"GATEWAY_REDIS_ADDR="+o.cfg.redisAddr,
		"GATEWAY_REDIS_DB="+strconv.Itoa(o.rdb.DB),
		"GATEWAY_AUTH_MODE="+o.cfg.auth,
		"GATEWAY_API_KEY="+o.apiKey,
	)
	if o.cfg.auth == "jwt" {
		env = append(env, "GATEWAY_JWT_SECRET="+o.jwtSecret)
	}
	if o.cluster != nil {
		env = append(env, "GATEWAY_REDIS_MODE=cluster", "GATEWAY_REDIS_ADDRS="+strings.Join(o.cluster.addrs, ","))
	}
	env = append(env, nodeSettings...)
	return append(env, o.cfg.nodeEnv...)
}

// startNodes starts n nodes: the first alone (it migrates and seeds the
// database), then the others together; it returns when all are ready.
func (o *orch) startNodes(ctx context.Context, n int) ([]*gatewayNode, error) {
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
		id := fmt.Sprintf("load-%s-%d", o.scenario, i)
		g, err := testenv.StartGateway(testenv.GatewayOptions{Name: "node " + id, Binary: o.cfg.gateway, Env: o.nodeEnv(id),
			LogFile: filepath.Join(o.cfg.workdir, id+".log"), HTTPPort: hp, GRPCPort: gp})
		if err != nil {
			return nil, err
		}
		o.track(g.Process)
		node := &gatewayNode{Gateway: g, id: id}
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

// waitReady waits until the node answers GET /readyz with 200.
func (n *gatewayNode) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no 200 within %s", timeout))
	defer cancel()
	return n.WaitReady(ctx)
}

func urlsOf(nodes []*gatewayNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.HTTPURL
	}
	return out
}

func pidsOf(nodes []*gatewayNode) []int {
	out := make([]int, len(nodes))
	for i, n := range nodes {
		out[i] = n.Pid()
	}
	return out
}

// stopNodes stops the nodes and returns the warnings and errors of each
// node's log.
func stopNodes(nodes []*gatewayNode) []int {
	var warns []int
	for _, n := range nodes {
		_ = n.Stop(20 * time.Second)
		warns = append(warns, countWarnings(n.LogFile()))
	}
	return warns
}

// fetchStats reads GET /api/websocket/stats (with the API key, which jwt
// mode asks for).
func (o *orch) fetchStats(base string) json.RawMessage {
	client := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/websocket/stats", nil)
	req.Header.Set("Authorization", "Bearer "+o.apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(b) {
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
// the insecure-mode warning every insecure node logs at start.
func countWarnings(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "auth.mode is insecure") {
			continue
		}
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			n++
		}
	}
	return n
}
