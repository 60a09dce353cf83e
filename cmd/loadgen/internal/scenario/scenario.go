// Package scenario runs the load tool's measurements (ramp, fixed, idle,
// footprint, reserve, soak) against real gateway nodes: it starts the
// nodes, Redis, the clients processes and the pusher, and reports each run
// as a table and a JSON line.
package scenario

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/report"
)

// scenarioConfig is a scenario's settings and how to run it.
type scenarioConfig interface {
	register(fs *flag.FlagSet)
	check() error
	run(ctx context.Context, o *orch) (scenarioReport, error)
}

// scenarioReport is the outcome of a scenario: its results (the "results"
// of the JSON line, also printed as a table) and the checks that did not
// hold (lost, duplicated, ...), which make the run fail.
type scenarioReport interface {
	failures() []string
}

// scenarios are the measurements of the tool, by command name.
var scenarios = map[string]func() scenarioConfig{
	"ramp":      func() scenarioConfig { return &rampConfig{} },
	"fixed":     func() scenarioConfig { return &fixedConfig{} },
	"idle":      func() scenarioConfig { return &idleConfig{} },
	"footprint": func() scenarioConfig { return &footprintConfig{} },
	"reserve":   func() scenarioConfig { return &reserveConfig{} },
	"soak":      func() scenarioConfig { return &soakConfig{} },
}

// commonConfig is what every scenario shares: the gateway binary, the
// servers, how nodes run, time bounds and outputs.
type commonConfig struct {
	gateway, workdir, mysqlDSN, redisAddr, auth, ack, jsonOut string
	keep, ownRedis, ownCluster, markRead                      bool
	redisDB                                                   int
	nodeEnv                                                   listFlag
	timeout, progress                                         time.Duration
}

func (c *commonConfig) register(fs *flag.FlagSet, getenv func(string) string) {
	envOr := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.gateway, "gateway", "bin/gateway", "gateway binary (go build -o bin/gateway ./cmd/gateway)")
	fs.StringVar(&c.workdir, "workdir", "", "directory for node logs and client summaries (default: a new temp dir, removed on success unless -keep)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory")
	fs.StringVar(&c.mysqlDSN, "mysql", envOr("TEST_MYSQL_DSN", "root:@tcp(127.0.0.1:3306)/"), "MySQL server DSN (no database); a fresh gwload_<random> database is used and dropped")
	fs.StringVar(&c.redisAddr, "redis", envOr("TEST_REDIS_ADDR", "127.0.0.1:6379"), "Redis address (ignored with -own-redis)")
	fs.IntVar(&c.redisDB, "redis-db", 15, "Redis logical DB, claimed like the tests claim theirs and flushed before and after (0: the first free one)")
	fs.BoolVar(&c.ownRedis, "own-redis", false, "start a private redis-server (no persistence) instead of using -redis: Redis's CPU and memory then count this run only (recommended for CPU figures)")
	fs.BoolVar(&c.ownCluster, "own-redis-cluster", false, "start a private Redis Cluster of 3 masters (no replicas, no persistence) and run the nodes in redis.mode cluster; Redis CPU is the masters' sum, and each master's share is printed at the end")
	fs.StringVar(&c.auth, "auth", "jwt", "node auth mode: jwt (the tool sets GATEWAY_JWT_SECRET and mints a token per user) or insecure (?user_id=)")
	fs.StringVar(&c.ack, "ack", "none", "the clients' acknowledgements: none (a message counts as delivered when written), batch (ack=1, one ack frame a second) or each (an ack frame per message, the simplest honest client)")
	fs.BoolVar(&c.markRead, "mark-read", false, "the clients mark every message read as they get it (a mark frame each: every session of the user then gets the inbox counts)")
	fs.Var(&c.nodeEnv, "node-env", "extra KEY=VALUE for every node (repeatable), e.g. GATEWAY_WS_BUFFER_SIZE=64")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Minute, "bound of the whole run")
	fs.DurationVar(&c.progress, "progress", time.Second, "interval of the progress line on stderr (at least 1s; 0: none)")
	fs.StringVar(&c.jsonOut, "json", "", "append the run's JSON line to this file (default: print it on stdout after the table)")
}

func (c *commonConfig) check() error {
	switch {
	case c.auth != "jwt" && c.auth != "insecure":
		return fmt.Errorf("-auth %q: want jwt or insecure", c.auth)
	case c.ack != "none" && c.ack != "batch" && c.ack != "each":
		return fmt.Errorf("-ack %q: want none, batch or each", c.ack)
	case c.redisDB < 0 || c.redisDB > 15:
		return fmt.Errorf("-redis-db %d: want 1 to 15, or 0 for the first free one", c.redisDB)
	case c.ownRedis && c.ownCluster:
		return errors.New("-own-redis and -own-redis-cluster exclude each other")
	case c.timeout <= 0:
		return errors.New("-timeout must be positive")
	case c.progress < 0 || (c.progress > 0 && c.progress < time.Second):
		return fmt.Errorf("-progress %s: want 0 (none) or at least 1s", c.progress)
	}
	for _, kv := range c.nodeEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("-node-env %q is not KEY=VALUE", kv)
		}
	}
	return nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// loadConfig is what the scenarios that push to connected users (ramp,
// fixed, soak) share.
type loadConfig struct {
	nodes, users, procs, batch, concurrency int
	deliverTimeout                          time.Duration
	fallback                                bool
}

func (c *loadConfig) register(fs *flag.FlagSet, users int) {
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes")
	fs.IntVar(&c.users, "users", users, "connected users, one WebSocket each; pushes go to them round-robin")
	fs.IntVar(&c.procs, "procs", 2, "client processes the users are spread over")
	fs.IntVar(&c.batch, "batch", 1, "users per push request (the rate counts messages)")
	fs.IntVar(&c.concurrency, "concurrency", 128, "push requests in flight at most")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", time.Minute, "after the last push, wait this long for the accepted messages")
	fs.BoolVar(&c.fallback, "fallback", false, "pushes ask for the offline fallback (\"webhook\": true): each message schedules the nodes' grace tasks (webhook, mobile push) when those are configured, e.g. with -node-env")
}

func (c *loadConfig) check() error {
	switch {
	case c.nodes <= 0:
		return errors.New("-nodes must be positive")
	case c.batch <= 0 || c.batch > 1000 || c.batch > c.users:
		return errors.New("-batch must be between 1 and min(1000, -users)")
	case c.concurrency <= 0 || c.deliverTimeout <= 0:
		return errors.New("-concurrency and -deliver-timeout must be positive")
	}
	return checkSpread("-users", c.users, c.procs)
}

// maxConnsPerProc bounds the WebSockets of one clients process: each is a
// file, and a process may open 20,000 here.
const maxConnsPerProc = 19000

// checkSpread validates users spread over procs client processes.
func checkSpread(what string, users, procs int) error {
	if users <= 0 || procs <= 0 {
		return fmt.Errorf("%s and -procs must be positive", what)
	}
	if per := (users + procs - 1) / procs; per > maxConnsPerProc {
		return fmt.Errorf("%d connections per client process; use more -procs for at most %d each", per, maxConnsPerProc)
	}
	return nil
}

// parseScenario parses the flags of scenario name.
func parseScenario(name string, args []string, getenv func(string) string, stdout io.Writer) (commonConfig, scenarioConfig, *flag.FlagSet, error) {
	var common commonConfig
	sc := scenarios[name]()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	common.register(fs, getenv)
	sc.register(fs)
	if err := fs.Parse(args); err != nil {
		return common, nil, nil, err
	}
	if fs.NArg() > 0 {
		return common, nil, nil, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	if err := errors.Join(common.check(), sc.check()); err != nil {
		return common, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return common, sc, fs, nil
}

// Exists says whether name is a scenario.
func Exists(name string) bool { return scenarios[name] != nil }

// Run is "loadgen <scenario> [flags]": it runs the scenario from set-up to
// clean-up, prints its table and writes its JSON line. It fails when the
// scenario could not run or one of its checks did not hold.
func Run(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	common, sc, fs, err := parseScenario(name, args, getenv, stdout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, common.timeout)
	defer cancel()
	start, load0 := time.Now(), measure.LoadAvg()
	o, err := newOrch(ctx, name, common, stdout, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadgen %s: %d CPUs, load average %s, %s mode, redis %s db %d (own %v, cluster %v), database %s, node env %v\n",
		name, runtime.NumCPU(), load0, common.auth, o.cfg.redisAddr, o.rdb.DB, common.ownRedis, common.ownCluster, o.dbName, []string(common.nodeEnv))
	rep, err := sc.run(ctx, o)
	var rec report.Record
	if err == nil {
		rec = report.Record{Scenario: name, Settings: report.Settings(fs), Results: rep, Failures: rep.failures(), Conditions: report.Conditions{
			Time: start.UTC().Format(time.RFC3339), DurationS: measure.Round2(time.Since(start).Seconds()), CPUs: runtime.NumCPU(),
			LoadAvgStart: load0, LoadAvgEnd: measure.LoadAvg(), Gateway: o.cfg.gateway, GatewayCommit: report.GatewayCommit(o.cfg.gateway),
			AuthMode: common.auth, Ack: common.ack, NodeSettings: append([]string{"GATEWAY_AUTH_MODE=" + common.auth}, nodeSettings...),
			NodeEnv: append([]string{}, common.nodeEnv...), OwnRedis: common.ownRedis, GoVersion: runtime.Version(),
			RedisVersion: cmp.Or(measure.LineValue(o.redisInfo("server"), "redis_version:"), "unknown")}}
		rec.OK = len(rec.Failures) == 0
	}
	// A run that measured is reported even when the clean-up after it
	// failed (a flush or a drop that timed out): the figures are valid.
	if cerr := o.close(err != nil); cerr != nil {
		err = errors.Join(err, fmt.Errorf("%s: clean-up after the run: %w", name, cerr))
	}
	if rep == nil {
		return err
	}
	report.PrintTable(stdout, name, rep)
	if werr := report.Write(stdout, common.jsonOut, rec); werr != nil || rec.OK {
		return errors.Join(werr, err)
	}
	return errors.Join(fmt.Errorf("%s: checks failed: %s", name, strings.Join(rec.Failures, "; ")), err)
}
