package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// Config is a node's configuration: built-in defaults, then the YAML file
// given with -config, then GATEWAY_* environment variables.
type Config struct {
	NodeID          string
	HTTPAddr        string
	GRPCAddr        string
	MaxBodyBytes    int64
	MySQLDSN        string
	RedisAddr       string
	RedisPassword   string
	RedisDB         int
	RedisNamespace  string
	AuthMode        app.AuthMode
	JWTSecret       string
	APIKey          string
	ReminderLeads   []time.Duration
	Location        *time.Location
	ShutdownTimeout time.Duration
	LogFormat       string
	LogLevel        string

	HistorySize       int
	HistoryTTL        time.Duration
	WSAllowedOrigins  []string
	WSMaxMessageBytes int64
	WSBufferSize      int
	WSPingPeriod      time.Duration
	WSPongWait        time.Duration
	WSWriteWait       time.Duration
	WSSlowTimeout     time.Duration
	WSDrainWindow     time.Duration
	WSReconnectBase   time.Duration
	WSReconnectMax    time.Duration
	PresenceHeartbeat time.Duration
	PresenceTTL       time.Duration
	PushMaxBatch      int

	APIEnabled         bool
	WorkerEnabled      bool
	WorkerConcurrency  int
	WorkerQueues       map[string]int
	WorkerPollInterval time.Duration
	ReminderQueue      string
	ReminderMaxRetry   int
	ReminderImmediate  bool
	ReminderRetention  time.Duration
	UIEnabled          bool
	UIUsername         string
	UIPassword         string
	MetricsAddr        string
	GCPercent          int
	SeedDemo           bool
}

// defaults lists every configuration key with its default. A key's
// environment variable is GATEWAY_ + the key upper-cased with dots as
// underscores: redis.db -> GATEWAY_REDIS_DB.
var defaults = map[string]any{
	"node_id":                    "",
	"http.addr":                  ":8080",
	"http.max_body_bytes":        "65536",
	"grpc.addr":                  ":9000",
	"mysql.dsn":                  "root:@tcp(127.0.0.1:3306)/house_gateway?charset=utf8mb4&parseTime=true&loc=UTC",
	"mysql.seed_demo":            "true",
	"redis.addr":                 "127.0.0.1:6379",
	"redis.password":             "",
	"redis.db":                   "0",
	"redis.namespace":            "gw",
	"auth.mode":                  "",
	"jwt.secret":                 "",
	"api_key":                    "",
	"reminder.leads":             "24h,1h",
	"timezone":                   "Asia/Shanghai",
	"shutdown.timeout":           "20s",
	"log.format":                 "text",
	"log.level":                  "info",
	"history.size":               "1000",
	"history.ttl":                "168h",
	"ws.allowed_origins":         "",
	"ws.max_message_bytes":       "512",
	"ws.buffer_size":             "16",
	"ws.ping_period":             "54s",
	"ws.pong_wait":               "60s",
	"ws.write_wait":              "10s",
	"ws.slow_timeout":            "5s",
	"ws.drain_window":            "10s",
	"ws.reconnect_base":          "500ms",
	"ws.reconnect_max":           "30s",
	"presence.heartbeat":         "5s",
	"presence.ttl":               "30s",
	"push.max_batch":             "1000",
	"api.enabled":                "true",
	"worker.enabled":             "true",
	"worker.concurrency":         "10",
	"worker.queues":              "reminders:10",
	"worker.poll_interval":       "200ms",
	"reminder.queue":             "reminders",
	"reminder.max_retry":         "10",
	"reminder.immediate_if_late": "false",
	"reminder.retention":         "24h",
	"ui.enabled":                 "true",
	"ui.username":                "admin",
	"ui.password":                "",
	"metrics.addr":               "",
	"runtime.gc_percent":         "25",
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return "GATEWAY_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys returns every configuration key, sorted.
func Keys() []string {
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LoadConfig reads path (may be "") and the environment through getenv.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return nil, err
	}
	if path != "" {
		f := koanf.New(".")
		if err := f.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		for _, key := range f.Keys() {
			if _, ok := defaults[key]; !ok {
				return nil, fmt.Errorf("config file %s: unknown key %q (known keys: %s)", path, key, strings.Join(Keys(), ", "))
			}
		}
		if err := k.Merge(f); err != nil {
			return nil, err
		}
	}
	env := map[string]any{}
	for key := range defaults {
		if v, ok := lookup(getenv, EnvName(key)); ok {
			env[key] = v
		}
	}
	if err := k.Load(confmap.Provider(env, "."), nil); err != nil {
		return nil, err
	}
	return parse(k)
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// parse turns the merged keys into a Config, naming the key of any bad value.
func parse(k *koanf.Koanf) (*Config, error) {
	p := parser{k: k}
	c := &Config{
		NodeID:          p.str("node_id"),
		HTTPAddr:        p.str("http.addr"),
		GRPCAddr:        p.str("grpc.addr"),
		MaxBodyBytes:    int64(p.intRange("http.max_body_bytes", 1024, 64<<20)),
		MySQLDSN:        p.required("mysql.dsn"),
		RedisAddr:       p.required("redis.addr"),
		RedisPassword:   p.str("redis.password"),
		RedisDB:         p.intRange("redis.db", 0, 1<<16),
		RedisNamespace:  p.required("redis.namespace"),
		AuthMode:        app.AuthMode(strings.ToLower(p.str("auth.mode"))),
		JWTSecret:       p.str("jwt.secret"),
		APIKey:          p.str("api_key"),
		ReminderLeads:   p.durations("reminder.leads"),
		Location:        p.location("timezone"),
		ShutdownTimeout: p.duration("shutdown.timeout"),
		LogFormat:       p.oneOf("log.format", "text", "json"),
		LogLevel:        p.oneOf("log.level", "debug", "info", "warn", "error"),

		HistorySize:       p.intRange("history.size", 10, 100000),
		HistoryTTL:        p.duration("history.ttl"),
		WSAllowedOrigins:  p.list("ws.allowed_origins"),
		WSMaxMessageBytes: int64(p.intRange("ws.max_message_bytes", 128, 1<<20)),
		WSBufferSize:      p.intRange("ws.buffer_size", 12, 4096),
		WSPingPeriod:      p.duration("ws.ping_period"),
		WSPongWait:        p.duration("ws.pong_wait"),
		WSWriteWait:       p.duration("ws.write_wait"),
		WSSlowTimeout:     p.duration("ws.slow_timeout"),
		WSDrainWindow:     p.duration("ws.drain_window"),
		WSReconnectBase:   p.duration("ws.reconnect_base"),
		WSReconnectMax:    p.duration("ws.reconnect_max"),
		PresenceHeartbeat: p.duration("presence.heartbeat"),
		PresenceTTL:       p.duration("presence.ttl"),
		PushMaxBatch:      p.intRange("push.max_batch", 1, 100000),
	}
	c.APIEnabled = p.boolean("api.enabled")
	c.WorkerEnabled = p.boolean("worker.enabled")
	c.WorkerConcurrency = p.intRange("worker.concurrency", 1, 1000)
	c.WorkerQueues = p.queues("worker.queues")
	c.WorkerPollInterval = p.duration("worker.poll_interval")
	c.ReminderQueue = p.required("reminder.queue")
	c.ReminderMaxRetry = p.intRange("reminder.max_retry", 0, 100)
	c.ReminderImmediate = p.boolean("reminder.immediate_if_late")
	c.ReminderRetention = p.duration("reminder.retention")
	c.UIEnabled = p.boolean("ui.enabled")
	c.UIUsername = p.required("ui.username")
	c.UIPassword = p.str("ui.password")
	c.MetricsAddr = p.str("metrics.addr")
	c.GCPercent = p.intRange("runtime.gc_percent", 10, 1000)
	c.SeedDemo = p.boolean("mysql.seed_demo")
	if c.WorkerEnabled && c.WorkerQueues[c.ReminderQueue] == 0 {
		p.fail("worker.queues", "must include reminder.queue %q, or this node's worker never runs reminders", c.ReminderQueue)
	}
	if !c.APIEnabled && !c.WorkerEnabled {
		p.fail("api.enabled", "api and worker are both disabled: the node would do nothing")
	}
	if len(c.ReminderLeads) == 0 {
		p.fail("reminder.leads", "needs at least one lead time")
	}
	if c.WSPingPeriod >= c.WSPongWait {
		p.fail("ws.ping_period", "must be shorter than ws.pong_wait (%s)", c.WSPongWait)
	}
	if c.PresenceTTL <= 2*c.PresenceHeartbeat {
		p.fail("presence.ttl", "must be more than twice presence.heartbeat (%s)", c.PresenceHeartbeat)
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = host
	}
	if strings.ContainsAny(c.RedisNamespace, "{}: ") {
		p.fail("redis.namespace", "must not contain braces, colons or spaces")
	}
	p.auth(c)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

type parser struct {
	k    *koanf.Koanf
	errs []error
}

func (p *parser) fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("config %s (%s): %s", key, EnvName(key), fmt.Sprintf(format, args...)))
}

func (p *parser) str(key string) string { return strings.TrimSpace(p.k.String(key)) }

func (p *parser) required(key string) string {
	v := p.str(key)
	if v == "" {
		p.fail(key, "must be set")
	}
	return v
}

func (p *parser) intRange(key string, lo, hi int) int {
	v := p.str(key)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(key, "%q is not an integer between %d and %d", v, lo, hi)
	}
	return n
}

func (p *parser) duration(key string) time.Duration {
	v := p.str(key)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(key, "%q is not a positive Go duration such as 30s or 1h", v)
	}
	return d
}

func (p *parser) durations(key string) []time.Duration {
	var out []time.Duration
	for _, part := range strings.Split(p.str(key), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 {
			p.fail(key, "%q is not a positive Go duration such as 24h or 90m", part)
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

func (p *parser) boolean(key string) bool {
	v := p.str(key)
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(key, "%q is not true or false", v)
	}
	return b
}

// queues reads "name:priority,..." (priority >= 1).
func (p *parser) queues(key string) map[string]int {
	out := map[string]int{}
	for _, part := range p.list(key) {
		name, prio, ok := strings.Cut(part, ":")
		n, err := strconv.Atoi(strings.TrimSpace(prio))
		name = strings.TrimSpace(name)
		if !ok || err != nil || n < 1 || name == "" {
			p.fail(key, "%q is not queue:priority with priority >= 1", part)
			continue
		}
		out[name] = n
	}
	if len(out) == 0 {
		p.fail(key, "needs at least one queue:priority")
	}
	return out
}

func (p *parser) list(key string) []string {
	var out []string
	for _, part := range strings.Split(p.str(key), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (p *parser) location(key string) *time.Location {
	v := p.str(key)
	loc, err := time.LoadLocation(v)
	if err != nil || v == "" {
		p.fail(key, "%q is not an IANA time zone such as Asia/Shanghai", v)
	}
	return loc
}

func (p *parser) oneOf(key string, allowed ...string) string {
	v := strings.ToLower(p.str(key))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return v
}

// auth enforces secure defaults: no mode means refuse to start, unless a JWT
// secret is set, which implies jwt.
func (p *parser) auth(c *Config) {
	if c.AuthMode == "" && c.JWTSecret != "" {
		c.AuthMode = app.AuthJWT
	}
	switch c.AuthMode {
	case app.AuthJWT:
		if len(c.JWTSecret) < jwtauth.MinSecretLen {
			p.fail("jwt.secret", "jwt auth needs a secret of at least %d bytes; generate one with: openssl rand -hex 32", jwtauth.MinSecretLen)
		}
	case app.AuthInsecure:
	case "":
		p.fail("auth.mode", "no authentication is configured, so the node refuses to start. "+
			"Set GATEWAY_JWT_SECRET to a random secret (openssl rand -hex 32) for jwt auth, "+
			"or choose GATEWAY_AUTH_MODE=insecure explicitly to trust the user ids in requests (development only)")
	default:
		p.fail("auth.mode", "%q is not jwt or insecure", c.AuthMode)
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		p.fail("api_key", "must be at least 16 characters")
	}
}
