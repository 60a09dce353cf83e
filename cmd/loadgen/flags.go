package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// commonConfig is what every scenario shares: the gateway binary, the
// servers, how nodes run, time bounds and outputs.
type commonConfig struct {
	gateway      string
	workdir      string
	keep         bool
	mysqlDSN     string
	redisAddr    string
	redisDB      int
	ownRedis     bool
	ownCluster   bool
	auth         string // jwt or insecure
	ack          string // the clients' acks: none, batch or each
	nodeEnv      listFlag
	timeout      time.Duration
	readyTimeout time.Duration
	progress     time.Duration
	jsonOut      string
}

// register adds the common flags to fs.
func (c *commonConfig) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.gateway, "gateway", "bin/gateway", "gateway binary (go build -o bin/gateway ./cmd/gateway)")
	fs.StringVar(&c.workdir, "workdir", "", "directory for node logs and client summaries (default: a new temp dir, removed on success unless -keep)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory")
	fs.StringVar(&c.mysqlDSN, "mysql", envOr(getenv, "TEST_MYSQL_DSN", "root:@tcp(127.0.0.1:3306)/"), "MySQL server DSN (no database); a fresh gwload_<random> database is used and dropped")
	fs.StringVar(&c.redisAddr, "redis", envOr(getenv, "TEST_REDIS_ADDR", "127.0.0.1:6379"), "Redis address (ignored with -own-redis)")
	fs.IntVar(&c.redisDB, "redis-db", 15, "Redis logical DB, claimed like the tests claim theirs and flushed before and after (0: the first free one)")
	fs.BoolVar(&c.ownRedis, "own-redis", false, "start a private redis-server (no persistence) instead of using -redis: Redis's CPU and memory then count this run only (recommended for CPU figures)")
	fs.BoolVar(&c.ownCluster, "own-redis-cluster", false, "start a private Redis Cluster of 3 masters (no replicas, no persistence) and run the nodes in redis.mode cluster; Redis CPU is the masters' sum, and each master's share is printed at the end")
	fs.StringVar(&c.auth, "auth", "jwt", "node auth mode: jwt (the tool sets GATEWAY_JWT_SECRET and mints a token per user) or insecure (?user_id=)")
	fs.StringVar(&c.ack, "ack", "none", "the clients' acknowledgements: none (a message counts as delivered when written), batch (ack=1, one ack frame a second) or each (an ack frame per message, the simplest honest client)")
	fs.Var(&c.nodeEnv, "node-env", "extra KEY=VALUE for every node (repeatable), e.g. GATEWAY_WS_BUFFER_SIZE=64")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Minute, "bound of the whole run")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 3*time.Minute, "bound of start-up and of connecting all clients")
	fs.DurationVar(&c.progress, "progress", time.Second, "interval of the progress line on stderr (at least 1s; 0: none)")
	fs.StringVar(&c.jsonOut, "json", "", "append the run's JSON line to this file (default: print it on stdout after the table)")
}

// check validates the common flags (the gateway binary is looked for when
// the run starts).
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
	case c.timeout <= 0 || c.readyTimeout <= 0:
		return errors.New("-timeout and -ready-timeout must be positive")
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

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// splitList splits a comma-separated list, trimming spaces and trailing
// slashes.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.TrimRight(p, "/"))
		}
	}
	return out
}

// privateFlags are left out of a run's recorded settings.
var privateFlags = map[string]bool{"mysql": true, "workdir": true, "json": true, "keep": true, "progress": true}

// flagSettings is the value of every flag of fs, for the JSON line:
// numbers and booleans as such, the rest as strings.
func flagSettings(fs *flag.FlagSet) map[string]any {
	out := map[string]any{}
	fs.VisitAll(func(f *flag.Flag) {
		if privateFlags[f.Name] {
			return
		}
		v := f.Value.String()
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			out[f.Name] = n
		} else if b, err := strconv.ParseBool(v); err == nil {
			out[f.Name] = b
		} else {
			out[f.Name] = v
		}
	})
	return out
}
