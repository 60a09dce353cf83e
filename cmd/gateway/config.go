package main

import (
	"net/netip"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/protocol"
)

// Config is a node's configuration: built-in defaults, then the YAML file
// given with -config, then GATEWAY_* environment variables (Load).
//
// Each leaf field is one setting, declared once here with struct tags:
//
//	koanf     its name; the key is the names of its sections and its own,
//	          joined with dots (redis.db), and its variable EnvName(key)
//	doc       its description in config/reference.yaml
//	default   its default, as text; a default that a package owns is set
//	          by packageDefaults instead (never both)
//	min, max  the range of an integer
//	oneof     the values a string may take (case-insensitive)
//	required  "true": the value may not be empty
//	secret    "true": redacted by `config print`, and readable from the
//	          file named by the variable + _FILE; "dsn": only the
//	          password part of a DSN is redacted; "url": only a URL's
//	          password and query values are redacted
//
// config/reference.yaml is generated from these declarations
// (go generate ./cmd/gateway); a test keeps the committed file in step.
type Config struct {
	NodeID      string            `koanf:"node_id" doc:"Name of this node in logs and cluster stats. Default: the host name."`
	HTTP        HTTPConfig        `koanf:"http"`
	GRPC        GRPCConfig        `koanf:"grpc"`
	MySQL       MySQLConfig       `koanf:"mysql"`
	Redis       RedisConfig       `koanf:"redis"`
	Auth        AuthConfig        `koanf:"auth"`
	JWT         JWTConfig         `koanf:"jwt"`
	APIKey      string            `koanf:"api_key" secret:"true" doc:"Server API key (Authorization: Bearer <api_key>) for server-to-server endpoints and the operator UI. At least 16 characters when set."`
	Timezone    *time.Location    `koanf:"timezone" doc:"IANA zone of reserve_time (\"YYYY-MM-DD HH:MM:SS\") in requests and replies."`
	Shutdown    ShutdownConfig    `koanf:"shutdown"`
	Log         LogConfig         `koanf:"log"`
	History     HistoryConfig     `koanf:"history"`
	WS          WSConfig          `koanf:"ws"`
	Presence    PresenceConfig    `koanf:"presence"`
	Push        PushConfig        `koanf:"push"`
	API         APIConfig         `koanf:"api"`
	Worker      WorkerConfig      `koanf:"worker"`
	Reservation ReservationConfig `koanf:"reservation"`
	Reminder    ReminderConfig    `koanf:"reminder"`
	Webhook     WebhookConfig     `koanf:"webhook"`
	UI          UIConfig          `koanf:"ui"`
	Metrics     MetricsConfig     `koanf:"metrics"`
	Runtime     RuntimeConfig     `koanf:"runtime"`
	Limits      LimitsConfig      `koanf:"limits"`
}

// HTTPConfig is the REST and WebSocket listener.
type HTTPConfig struct {
	Addr         string `koanf:"addr" default:":8080" doc:"HTTP (REST + WebSocket) listen address."`
	MaxBodyBytes int64  `koanf:"max_body_bytes" min:"1024" max:"67108864" doc:"Largest request body accepted; bigger bodies get 413."`
	// TrustedProxies are the load balancers in front of the node.
	TrustedProxies []netip.Prefix `koanf:"trusted_proxies" doc:"Load balancers whose forwarding headers the node believes, comma-separated IPs or CIDRs (10.0.0.0/8,127.0.0.1). From these peers the WebSocket origin check compares the browser's Origin with the host in X-Forwarded-Host (or Forwarded host=) instead of Host; the headers of any other peer are ignored. Empty: believe no one."`
	// Bounds of the HTTP server (docs/security.md).
	MaxHeaderBytes    int           `koanf:"max_header_bytes" min:"4096" max:"1048576" default:"32768" doc:"Largest request header block (request line and headers); bigger ones get 431."`
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout" default:"10s" doc:"Time a client gets to send a request's headers."`
	ReadTimeout       time.Duration `koanf:"read_timeout" default:"30s" doc:"Time a client gets to send a whole request, body included. A WebSocket is not cut by it: the upgrade clears the deadline."`
	IdleTimeout       time.Duration `koanf:"idle_timeout" default:"2m" doc:"A keep-alive connection idle this long between requests is closed."`
}

// GRPCConfig is the gRPC listener.
type GRPCConfig struct {
	Addr string `koanf:"addr" default:":9000" doc:"gRPC listen address."`
	// Bounds of the gRPC server (docs/security.md).
	MaxRecvMsgBytes  int           `koanf:"max_recv_msg_bytes" min:"4096" max:"67108864" default:"1048576" doc:"Largest request message accepted; bigger ones get RESOURCE_EXHAUSTED."`
	KeepaliveMinTime time.Duration `koanf:"keepalive_min_time" default:"10s" doc:"Clients may ping at most this often (with or without calls in flight); a client that pings more often is sent GOAWAY (too_many_pings)."`
	KeepaliveTime    time.Duration `koanf:"keepalive_time" default:"2m" doc:"The server pings a connection idle this long, to find peers that are gone."`
	KeepaliveTimeout time.Duration `koanf:"keepalive_timeout" default:"20s" doc:"A connection that does not answer the server's ping within this is closed."`
}

// MySQLConfig is the database of reservations and houses.
type MySQLConfig struct {
	DSN      string `koanf:"dsn" required:"true" secret:"dsn" default:"root:@tcp(127.0.0.1:3306)/house_gateway?charset=utf8mb4&parseTime=true&loc=UTC" doc:"go-sql-driver DSN. The database is created (utf8mb4) if absent and migrated at start. parseTime=true and loc=UTC are enforced."`
	SeedDemo bool   `koanf:"seed_demo" default:"true" doc:"Fill an empty houses table with 300 demo houses (ids 3001-3300, landlords 2001-2040: the README's examples). Turn off for real data; docker-compose.yml leaves it off unless SEED_DEMO=true."`
}

// RedisConfig is the Redis of messages, presence and reminder tasks.
type RedisConfig struct {
	// Mode is how the node reaches Redis (docs/operations.md: when to move
	// from one to the next).
	Mode       string   `koanf:"mode" oneof:"standalone sentinel cluster" default:"standalone" doc:"standalone: one server at redis.addr. sentinel: the master named redis.master_name, found through the sentinels at redis.addrs, followed across failovers. cluster: a Redis Cluster (7.0+) seeded by redis.addrs; user channels use sharded pub/sub, redis.db must be 0."`
	Addr       string   `koanf:"addr" required:"true" default:"127.0.0.1:6379" doc:"Redis address, host:port (standalone mode)."`
	Addrs      []string `koanf:"addrs" doc:"Seed addresses, comma-separated host:port: some nodes of the cluster (cluster mode) or the sentinels (sentinel mode)."`
	MasterName string   `koanf:"master_name" doc:"The master's name as the sentinels know it (sentinel mode)."`
	Password   string   `koanf:"password" secret:"true" doc:"Redis password (AUTH); empty for none."`
	DB         int      `koanf:"db" min:"0" max:"65536" default:"0" doc:"Logical database. Deployments sharing one Redis use different numbers. Must be 0 in cluster mode (use redis.namespace)."`
	Namespace  string   `koanf:"namespace" required:"true" default:"gw" doc:"Prefix of every key and channel (the db number is appended, because pub/sub ignores it); keeps deployments apart on one Redis or one cluster. No braces, colons or spaces."`
	// PublishBatchWait trades a little latency for Redis and node CPU.
	PublishBatchWait time.Duration `koanf:"publish_batch_wait" min:"0" default:"500us" doc:"Under load (a publish went out less than this ago), a publish that finds few others queued waits this long for more, so that they share one round trip to Redis; alone, a publish goes out at once. 0: never wait."`
}

// AuthConfig chooses how users are authenticated (see resolveAuth).
type AuthConfig struct {
	Mode app.AuthMode `koanf:"mode" doc:"jwt | insecure. Empty refuses to start, unless jwt.secret is set (which implies jwt). insecure trusts the user ids in requests."`
}

// JWTConfig verifies users' tokens in jwt mode.
type JWTConfig struct {
	Secret string `koanf:"secret" secret:"true" doc:"HS256 secret, at least 32 bytes: openssl rand -hex 32"`
	// RS256/ES256 tokens of an identity provider (docs/security.md).
	PublicKeyFile string `koanf:"public_key_file" doc:"PEM file of public keys (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks: RSA of 2048+ bits for RS256, ECDSA P-256 for ES256) that verify tokens, alongside or instead of jwt.secret."`
	JWKSFile      string `koanf:"jwks_file" doc:"JSON Web Key Set file ({\"keys\":[...]}) of RS256/ES256 verification keys; a token's kid picks its key. Read at start."`
	Issuer        string `koanf:"issuer" doc:"When set, tokens must carry this iss (gateway token adds it)."`
	Audience      string `koanf:"audience" doc:"When set, tokens' aud must include this (gateway token adds it)."`
}

// ShutdownConfig bounds a node's stop.
type ShutdownConfig struct {
	Timeout time.Duration `koanf:"timeout" default:"20s" doc:"How long in-flight requests get to finish on SIGTERM."`
}

// LogConfig is the node's log output.
type LogConfig struct {
	Format string `koanf:"format" oneof:"text json" default:"text" doc:"Log line format."`
	Level  string `koanf:"level" oneof:"debug info warn error" default:"info" doc:"Least severe level logged."`
}

// HistoryConfig bounds the messages stored per user.
type HistoryConfig struct {
	Size int           `koanf:"size" min:"10" max:"100000" doc:"Messages kept per user in Redis for offline delivery and resume."`
	TTL  time.Duration `koanf:"ttl" doc:"How long a user's stored messages live after the newest one."`
}

// WSConfig is the WebSocket endpoint.
type WSConfig struct {
	AllowedOrigins  []string      `koanf:"allowed_origins" doc:"Browser origins allowed besides the gateway's own host, comma-separated; \"*\" allows any. Clients without an Origin header are always allowed."`
	MaxMessageBytes int64         `koanf:"max_message_bytes" min:"128" max:"1048576" doc:"Largest client frame; bigger frames close the socket with 1009."`
	BufferSize      int           `koanf:"buffer_size" min:"12" max:"4096" doc:"Messages a session may have queued for its socket. A burst beyond it is not lost: the session catches up from Redis at the pace of its socket. A session whose queue stays full for ws.slow_timeout is closed with 4000. Each slot costs ~40 bytes per connection."`
	PingPeriod      time.Duration `koanf:"ping_period" doc:"Server ping interval (also advised to clients as heartbeat_ms). Shorter than ws.pong_wait."`
	PongWait        time.Duration `koanf:"pong_wait" doc:"A peer silent (no pong) this long is dropped."`
	WriteWait       time.Duration `koanf:"write_wait" doc:"Deadline of one socket write."`
	SlowTimeout     time.Duration `koanf:"slow_timeout" doc:"How long a full send queue may make no progress before the session is closed as a slow consumer (close code 4000)."`
	DrainWindow     time.Duration `koanf:"drain_window" default:"10s" doc:"On SIGTERM, sessions are closed with 1001 spread over this window."`
	ReconnectBase   time.Duration `koanf:"reconnect_base" doc:"First reconnect backoff advised to clients in the connected frame."`
	ReconnectMax    time.Duration `koanf:"reconnect_max" doc:"Largest reconnect backoff advised to clients in the connected frame."`
}

// PresenceConfig is the cluster-wide record of who is online where.
type PresenceConfig struct {
	Heartbeat time.Duration `koanf:"heartbeat" doc:"How often a node refreshes its presence keys."`
	TTL       time.Duration `koanf:"ttl" doc:"A node silent this long is gone with its users. More than twice presence.heartbeat."`
}

// PushConfig is server push (POST /api/push, gRPC Push).
type PushConfig struct {
	MaxBatch int `koanf:"max_batch" min:"1" max:"100000" doc:"Most user ids in one POST /api/push or gRPC Push."`
}

// APIConfig switches the API side of a node.
type APIConfig struct {
	Enabled bool `koanf:"enabled" default:"true" doc:"Serve the REST API, WebSocket and gRPC. false makes a worker-only node (it still answers /healthz, /readyz and the asynq UI)."`
}

// WorkerConfig is the asynq worker that fires reminders.
type WorkerConfig struct {
	Enabled      bool           `koanf:"enabled" default:"true" doc:"Run the asynq worker that fires reminders. false makes an API-only node."`
	Concurrency  int            `koanf:"concurrency" min:"1" max:"1000" default:"10" doc:"Tasks (reminders and webhook posts) run at once per node. A webhook post holds its slot up to webhook.timeout."`
	Queues       map[string]int `koanf:"queues" doc:"asynq queues this worker serves, with priorities: \"name:prio,...\". Must include reminder.queue, and webhook.queue when webhook.url is set."`
	PollInterval time.Duration  `koanf:"poll_interval" doc:"How often scheduled tasks are moved to their queue and idle workers look for work: bounds how late a reminder fires (asynq's default 5 s would make it up to 6 s late)."`
}

// ReservationConfig is the rules of reservations.
type ReservationConfig struct {
	CancelGrace time.Duration `koanf:"cancel_grace" min:"0" doc:"Once a viewing's time has come its reservation can no longer be confirmed, rejected or cancelled (failed_precondition), except that the landlord may cancel it for this long after the time (a viewing that did not take place). 0: not at all."`
}

// ReminderConfig is the viewing reminders.
type ReminderConfig struct {
	Leads           []time.Duration `koanf:"leads" default:"24h,1h" doc:"Lead times of viewing reminders, comma-separated Go durations: one asynq task per lead fires at reserve_time - lead."`
	Queue           string          `koanf:"queue" required:"true" doc:"The queue reminder tasks go to; must be in worker.queues."`
	MaxRetry        int             `koanf:"max_retry" min:"0" max:"100" doc:"Attempts after the first; then the task is archived (visible in the UI)."`
	ImmediateIfLate bool            `koanf:"immediate_if_late" default:"false" doc:"A viewing confirmed less than the smallest lead ahead gets one reminder at once (otherwise none)."`
	Retention       time.Duration   `koanf:"retention" doc:"Completed reminder tasks stay visible in the asynq UI this long."`
}

// WebhookConfig is the offline fallback (docs/api.md#offline-webhook): a
// notification that no live session of its user received within the grace
// period is posted, signed, to the platform's webhook, which bridges it to
// mobile push or SMS.
type WebhookConfig struct {
	URL       string        `koanf:"url" secret:"url" doc:"The platform's webhook (http or https). Empty: off, and publishing does no extra work."`
	Secret    string        `koanf:"secret" secret:"true" doc:"HMAC-SHA256 key of X-Gateway-Signature, at least 32 bytes (openssl rand -hex 32); required with webhook.url. The receiver verifies with the same key."`
	Grace     time.Duration `koanf:"grace" doc:"How long a notification waits for a live session of its user to receive (or acknowledge) it before it is posted; types may have their own (webhook.types)."`
	Types     webhook.Types `koanf:"types" doc:"The notification types posted, comma-separated, each optionally with its own grace: created, confirmed, cancelled, reminder, rejected, push (e.g. \"confirmed,reminder:10s,push\"). push posts only the pushes that ask for it (\"webhook\": true)."`
	Queue     string        `koanf:"queue" required:"true" doc:"The asynq queue of webhook tasks (its own, for the UI, metrics and alerts); must be in worker.queues and differ from reminder.queue."`
	MaxRetry  int           `koanf:"max_retry" min:"0" max:"100" doc:"Retries after the first attempt (5xx, 429, timeouts, no answer); then the task is archived (visible in the UI)."`
	Backoff   time.Duration `koanf:"backoff" doc:"Wait before the first retry, doubling with each retry up to 1h (plus up to 10% jitter); a longer Retry-After of the receiver wins, up to 1h."`
	Timeout   time.Duration `koanf:"timeout" doc:"Time one post may take, from connecting to the answer; longer counts as a failure (retried)."`
	Retention time.Duration `koanf:"retention" doc:"Finished webhook tasks stay visible in the asynq UI this long, and keep their message id taken: a notification published again within it (an outbox retry, after Redis lost the user's stream) is not posted twice."`
}

// UIConfig is the asynq web UI.
type UIConfig struct {
	Enabled  bool   `koanf:"enabled" default:"true" doc:"Mount the asynq web UI (asynqmon) at /asynq/."`
	Username string `koanf:"username" required:"true" default:"admin" doc:"In jwt mode the UI needs HTTP basic auth (this user and ui.password) or \"Authorization: Bearer <api_key>\"."`
	Password string `koanf:"password" secret:"true" doc:"Basic-auth password of the UI in jwt mode; empty: api_key."`
	// PrometheusAddr is asynqmon.Options.PrometheusAddress.
	PrometheusAddr string `koanf:"prometheus_addr" secret:"url" doc:"URL of a Prometheus that scrapes the nodes (http://prometheus:9090): the UI then shows queue metrics over time (its Metrics page), queried by the node. Empty: no Metrics page."`
}

// MetricsConfig is the Prometheus endpoint.
type MetricsConfig struct {
	Addr string `koanf:"addr" doc:"Empty: /metrics is served on the HTTP port (open in insecure mode, behind the operator auth of the asynq UI in jwt mode). An address (e.g. \":9100\") serves /metrics there instead, without auth, for an internal network only (docker-compose.yml does this and does not publish it)."`
}

// RuntimeConfig tunes the Go runtime.
type RuntimeConfig struct {
	GCPercent         int  `koanf:"gc_percent" min:"10" max:"1000" default:"100" doc:"Go's GC target (GOGC) when the GOGC environment variable is not set. Lower values trade delivery throughput for memory; release_idle_memory keeps the memory per idle connection low without it (docs/benchmarks.md)."`
	MemoryLimitMB     int  `koanf:"memory_limit_mb" min:"0" max:"1048576" default:"0" doc:"Soft memory limit of the Go runtime in MiB (GOMEMLIMIT, which wins when set); 0: none. Set it to about 90% of the container's memory: the GC then runs more often only when memory gets near it."`
	ReleaseIdleMemory bool `koanf:"release_idle_memory" default:"true" doc:"When the node goes quiet after its heap grew (a burst of handshakes), collect and give the free memory back to the OS, so that idle connections cost their live memory only."`
}

// LimitsConfig bounds what one user, client address or session may do
// (docs/security.md). 0 turns a limit off.
type LimitsConfig struct {
	SessionsPerUser       int    `koanf:"sessions_per_user" min:"0" max:"100000" default:"10" doc:"Most WebSocket sessions one user may hold at once over every node (a dead node's stop counting after presence.ttl)."`
	SessionPolicy         string `koanf:"session_policy" oneof:"close_oldest refuse" default:"close_oldest" doc:"Beyond limits.sessions_per_user: close_oldest admits the new session and closes the user's oldest with 4008; refuse answers the handshake 429."`
	HandshakesPerIP       int    `koanf:"handshakes_per_ip" min:"0" max:"1000000" default:"0" doc:"WebSocket handshakes per second per client address (the connection's: behind a load balancer every client shares its address, so set it only where clients connect directly); over it 429 with Retry-After."`
	ReservationsPerMinute int    `koanf:"reservations_per_minute" min:"0" max:"1000000" default:"10" doc:"Reservations one tenant may create per minute (REST and gRPC); over it 429 / RESOURCE_EXHAUSTED."`
	RemindersPerMinute    int    `koanf:"reminders_per_minute" min:"0" max:"1000000" default:"10" doc:"Reminders one user may send per minute (POST .../remind, gRPC RemindReservation): each lands in the other party's stored history."`
	ClientFramesPerSecond int    `koanf:"client_frames_per_second" min:"0" max:"100000" doc:"Costly frames (pings, refreshes, invalid ones; not acks of delivered messages) one WebSocket session may send per second, in bursts of as many. One over it is dropped and answered with an error frame saying when to retry; another burst's worth before then closes the session with 4029."`
}

// packageDefaults sets the defaults that the packages using a setting own,
// so that each is written once.
func packageDefaults(c *Config) {
	c.HTTP.MaxBodyBytes = httpapi.DefaultMaxBodyBytes
	c.Timezone = reservation.DefaultLocation()
	c.History.Size = redis.DefaultHistorySize
	c.History.TTL = redis.DefaultHistoryTTL
	c.WS.MaxMessageBytes = ws.DefaultMaxMessageSize
	c.Limits.ClientFramesPerSecond = protocol.DefaultFrameRate
	c.WS.BufferSize = ws.DefaultBufferSize
	c.WS.PingPeriod = ws.DefaultPingPeriod
	c.WS.PongWait = ws.DefaultPongWait
	c.WS.WriteWait = ws.DefaultWriteWait
	c.WS.SlowTimeout = ws.DefaultSlowTimeout
	c.WS.ReconnectBase = time.Duration(protocol.DefaultReconnect.BaseMS) * time.Millisecond
	c.WS.ReconnectMax = time.Duration(protocol.DefaultReconnect.MaxMS) * time.Millisecond
	c.Presence.Heartbeat = redis.DefaultHeartbeat
	c.Presence.TTL = redis.DefaultPresenceTTL
	c.Push.MaxBatch = push.DefaultMaxBatch
	c.Worker.Queues = map[string]int{reminder.DefaultQueue: 10, webhook.DefaultQueue: 5}
	c.Worker.PollInterval = reminder.DefaultPollInterval
	c.Reservation.CancelGrace = reservation.DefaultCancelGrace
	c.Reminder.Queue = reminder.DefaultQueue
	c.Reminder.MaxRetry = reminder.DefaultMaxRetry
	c.Reminder.Retention = reminder.DefaultRetention
	c.Webhook.Grace = webhook.DefaultGrace
	c.Webhook.Types = webhook.DefaultTypes()
	c.Webhook.Queue = webhook.DefaultQueue
	c.Webhook.MaxRetry = webhook.DefaultMaxRetry
	c.Webhook.Backoff = webhook.DefaultBackoff
	c.Webhook.Timeout = webhook.DefaultTimeout
	c.Webhook.Retention = webhook.DefaultRetention
}
