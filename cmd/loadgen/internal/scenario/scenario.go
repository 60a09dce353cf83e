// Package scenario runs the load tool's measurements (ramp, fixed, idle,
// footprint, reserve, soak) against real gateway nodes: it starts the
// nodes, Redis, the clients processes and the pusher, and reports each run
// as a table and a JSON line.
package scenario

import (
	"bytes"
	"cmp"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
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
	keep, ownRedis, ownCluster                                bool
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
}

func (c *loadConfig) register(fs *flag.FlagSet, users int) {
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes")
	fs.IntVar(&c.users, "users", users, "connected users, one WebSocket each; pushes go to them round-robin")
	fs.IntVar(&c.procs, "procs", 2, "client processes the users are spread over")
	fs.IntVar(&c.batch, "batch", 1, "users per push request (the rate counts messages)")
	fs.IntVar(&c.concurrency, "concurrency", 128, "push requests in flight at most")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", time.Minute, "after the last push, wait this long for the accepted messages")
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

// privateFlags are left out of a run's recorded settings.
var privateFlags = map[string]bool{"mysql": true, "workdir": true, "json": true, "keep": true, "progress": true}

// flagSettings is the value of every flag of fs, for the JSON line:
// numbers and booleans as such, the rest as strings.
func flagSettings(fs *flag.FlagSet) map[string]any {
	out := map[string]any{}
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		if n, err := strconv.ParseFloat(v, 64); privateFlags[f.Name] {
			return
		} else if err == nil {
			out[f.Name] = n
		} else if b, err := strconv.ParseBool(v); err == nil {
			out[f.Name] = b
		} else {
			out[f.Name] = v
		}
	})
	return out
}

// runRecord is the JSON line a run writes.
type runRecord struct {
	Scenario   string         `json:"scenario"`
	OK         bool           `json:"ok"`
	Failures   []string       `json:"failures,omitempty"`
	Conditions conditions     `json:"conditions"`
	Settings   map[string]any `json:"settings"` // every flag of the command
	Results    scenarioReport `json:"results"`
}

// conditions describe the machine and the build a run measured.
type conditions struct {
	Time          string   `json:"time"` // start, UTC
	DurationS     float64  `json:"duration_s"`
	CPUs          int      `json:"cpus"`
	LoadAvgStart  string   `json:"load_avg_start"` // 1, 5 and 15 minutes
	LoadAvgEnd    string   `json:"load_avg_end"`
	Gateway       string   `json:"gateway_binary"`
	GatewayCommit string   `json:"gateway_commit"` // the commit `gateway version` prints, else the binary's vcs stamp, else "unknown"
	AuthMode      string   `json:"auth_mode"`
	Ack           string   `json:"ack"`
	NodeSettings  []string `json:"node_settings"` // what the tool sets on every node (secrets, ports, database left out)
	NodeEnv       []string `json:"node_env"`      // -node-env
	OwnRedis      bool     `json:"own_redis"`
	RedisVersion  string   `json:"redis_version"`
	GoVersion     string   `json:"loadgen_go_version"`
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
	var rec runRecord
	if err == nil {
		rec = runRecord{Scenario: name, Settings: flagSettings(fs), Results: rep, Failures: rep.failures(), Conditions: conditions{
			Time: start.UTC().Format(time.RFC3339), DurationS: measure.Round2(time.Since(start).Seconds()), CPUs: runtime.NumCPU(),
			LoadAvgStart: load0, LoadAvgEnd: measure.LoadAvg(), Gateway: o.cfg.gateway, GatewayCommit: gatewayCommit(o.cfg.gateway),
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
	printTable(stdout, name, rep)
	if werr := writeRecord(stdout, common.jsonOut, rec); werr != nil || rec.OK {
		return errors.Join(werr, err)
	}
	return errors.Join(fmt.Errorf("%s: checks failed: %s", name, strings.Join(rec.Failures, "; ")), err)
}

// gatewayCommit asks the binary (`gateway version`), then its build
// information (vcs.revision), and says "unknown" when neither knows.
func gatewayCommit(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, path, "version").Output(); err == nil {
		for line := range strings.Lines(string(out)) {
			if c, ok := strings.CutPrefix(line, "commit:"); ok && strings.TrimSpace(c) != "unknown" {
				return strings.TrimSpace(c)
			}
		}
	}
	rev, dirty := "unknown", ""
	if info, err := buildinfo.ReadFile(path); err == nil {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			} else if s.Key == "vcs.modified" && s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "unknown" {
		return rev
	}
	return rev + dirty
}

// writeRecord appends the JSON line to path, or prints it on w.
func writeRecord(w io.Writer, path string, rec runRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = w.Write(b)
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Close()); err == nil {
		fmt.Fprintf(w, "JSON line appended to %s\n", path)
	}
	return err
}

// printTable writes the results as a table: a row per number, string or
// list of them, in the order of the JSON line, with the names of nested
// objects joined by dots; lists of objects are left out (a ramp's steps are
// a table of their own).
func printTable(w io.Writer, title string, rep scenarioReport) {
	var rows [][2]string
	var flatten func(prefix string, v json.RawMessage)
	flatten = func(prefix string, v json.RawMessage) {
		if len(v) > 0 && v[0] == '{' {
			dec := json.NewDecoder(bytes.NewReader(v))
			_, _ = dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				var sub json.RawMessage
				_ = dec.Decode(&sub)
				flatten(prefix+k.(string)+".", sub)
			}
		} else if !bytes.HasPrefix(v, []byte("[{")) {
			rows = append(rows, [2]string{strings.TrimSuffix(prefix, "."), string(v)})
		}
	}
	b, _ := json.Marshal(rep)
	flatten("", b)
	fmt.Fprintf(w, "%s:\n", title)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
	if s, ok := rep.(interface{ printSteps(io.Writer) }); ok {
		s.printSteps(w)
	}
}
