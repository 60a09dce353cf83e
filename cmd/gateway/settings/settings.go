// Package settings declares the gateway's settings once: each key with its
// description and rules (the tags of Config's fields), its default
// (Defaults) and the rules between keys (validate). pkg/config reads them;
// config/reference.yaml and the table of docs/configuration.md are checked
// against them.
package settings

import (
	"net/netip"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/webhook"
)

// Config is a node's configuration: the defaults, then the YAML file given
// with -config, then GATEWAY_* environment variables (Load). Each leaf
// field is one setting: its key, description and rules in struct tags
// (pkg/config lists them), its default in Defaults.
type Config struct {
	NodeID      string            `key:"node_id" doc:"Name of this node in logs and cluster stats. Default: the host name."`
	HTTP        HTTPConfig        `key:"http"`
	GRPC        GRPCConfig        `key:"grpc"`
	MySQL       MySQLConfig       `key:"mysql"`
	Redis       RedisConfig       `key:"redis"`
	Auth        AuthConfig        `key:"auth"`
	JWT         JWTConfig         `key:"jwt"`
	APIKey      string            `key:"api_key" secret:"true" doc:"Server API key (Authorization: Bearer <api_key>) for server-to-server endpoints and the operator UI. At least 16 characters when set."`
	Timezone    *time.Location    `key:"timezone" doc:"IANA zone of reserve_time (\"YYYY-MM-DD HH:MM:SS\") in requests and replies."`
	Shutdown    ShutdownConfig    `key:"shutdown"`
	Log         LogConfig         `key:"log"`
	History     HistoryConfig     `key:"history"`
	WS          WSConfig          `key:"ws"`
	Presence    PresenceConfig    `key:"presence"`
	Push        PushConfig        `key:"push"`
	Preferences PreferencesConfig `key:"preferences"`
	API         APIConfig         `key:"api"`
	Worker      WorkerConfig      `key:"worker"`
	Reservation ReservationConfig `key:"reservation"`
	Reminder    ReminderConfig    `key:"reminder"`
	Webhook     WebhookConfig     `key:"webhook"`
	UI          UIConfig          `key:"ui"`
	Metrics     MetricsConfig     `key:"metrics"`
	Runtime     RuntimeConfig     `key:"runtime"`
	Limits      LimitsConfig      `key:"limits"`
}

// HTTPConfig is the REST and WebSocket listener.
type HTTPConfig struct {
	Addr         string `key:"addr" check:"hostport" doc:"HTTP (REST + WebSocket) listen address."`
	MaxBodyBytes int64  `key:"max_body_bytes" min:"1024" max:"67108864" doc:"Largest request body accepted; bigger bodies get 413."`
	// TrustedProxies are the load balancers in front of the node.
	TrustedProxies []netip.Prefix `key:"trusted_proxies" doc:"Load balancers whose forwarding headers the node believes, comma-separated IPs or CIDRs (10.0.0.0/8,127.0.0.1). From these peers the WebSocket origin check compares the browser's Origin with the host in X-Forwarded-Host (or Forwarded host=) instead of Host; the headers of any other peer are ignored. Empty: believe no one."`
	// Bounds of the HTTP server (docs/security.md).
	MaxHeaderBytes    int           `key:"max_header_bytes" min:"4096" max:"1048576" doc:"Largest request header block (request line and headers); bigger ones get 431."`
	ReadHeaderTimeout time.Duration `key:"read_header_timeout" doc:"Time a client gets to send a request's headers."`
	ReadTimeout       time.Duration `key:"read_timeout" doc:"Time a client gets to send a whole request, body included. A WebSocket is not cut by it: the upgrade clears the deadline."`
	IdleTimeout       time.Duration `key:"idle_timeout" doc:"A keep-alive connection idle this long between requests is closed."`
}

// GRPCConfig is the gRPC listener.
type GRPCConfig struct {
	Addr string `key:"addr" check:"hostport" doc:"gRPC listen address."`
	// Bounds of the gRPC server (docs/security.md).
	MaxRecvMsgBytes  int           `key:"max_recv_msg_bytes" min:"4096" max:"67108864" doc:"Largest request message accepted; bigger ones get RESOURCE_EXHAUSTED."`
	KeepaliveMinTime time.Duration `key:"keepalive_min_time" doc:"Clients may ping at most this often (with or without calls in flight); a client that pings more often is sent GOAWAY (too_many_pings)."`
	KeepaliveTime    time.Duration `key:"keepalive_time" doc:"The server pings a connection idle this long, to find peers that are gone."`
	KeepaliveTimeout time.Duration `key:"keepalive_timeout" doc:"A connection that does not answer the server's ping within this is closed."`
}

// MySQLConfig is the database of reservations and houses.
type MySQLConfig struct {
	DSN      string `key:"dsn" required:"true" secret:"dsn" doc:"go-sql-driver DSN. The database is created (utf8mb4) if absent and migrated at start. parseTime=true and loc=UTC are enforced."`
	SeedDemo bool   `key:"seed_demo" doc:"Fill an empty houses table with 300 demo houses (ids 3001-3300, landlords 2001-2040: the README's examples). Turn off for real data; docker-compose.yml leaves it off unless SEED_DEMO=true."`
}

// RedisConfig is the Redis of messages, presence and reminder tasks.
type RedisConfig struct {
	// Mode is how the node reaches Redis (docs/operations.md: when to move
	// from one to the next).
	Mode       redis.Mode `key:"mode" oneof:"standalone sentinel cluster" doc:"standalone: one server at redis.addr. sentinel: the master named redis.master_name, found through the sentinels at redis.addrs, followed across failovers. cluster: a Redis Cluster (7.0+) seeded by redis.addrs; user channels use sharded pub/sub, redis.db must be 0."`
	Addr       string     `key:"addr" required:"true" check:"hostport" doc:"Redis address, host:port (standalone mode)."`
	Addrs      []string   `key:"addrs" check:"hostport" doc:"Seed addresses, comma-separated host:port: some nodes of the cluster (cluster mode) or the sentinels (sentinel mode)."`
	MasterName string     `key:"master_name" doc:"The master's name as the sentinels know it (sentinel mode)."`
	Password   string     `key:"password" secret:"true" doc:"Redis password (AUTH); empty for none."`
	DB         int        `key:"db" min:"0" max:"65536" doc:"Logical database. Deployments sharing one Redis use different numbers. Must be 0 in cluster mode (use redis.namespace)."`
	Namespace  string     `key:"namespace" required:"true" doc:"Prefix of every key and channel (the db number is appended, because pub/sub ignores it); keeps deployments apart on one Redis or one cluster. No braces, colons or spaces."`
	// PublishBatchWait trades a little latency for Redis and node CPU.
	PublishBatchWait time.Duration `key:"publish_batch_wait" min:"0" doc:"Under load (a publish went out less than this ago), a publish that finds few others queued waits this long for more, so that they share one round trip to Redis; alone, a publish goes out at once. 0: never wait."`
}

// AuthConfig chooses how users are authenticated (see resolveAuth).
type AuthConfig struct {
	Mode app.AuthMode `key:"mode" doc:"jwt | insecure. Empty refuses to start, unless jwt.secret is set (which implies jwt). insecure trusts the user ids in requests."`
}

// JWTConfig verifies users' tokens in jwt mode.
type JWTConfig struct {
	Secret string `key:"secret" secret:"true" doc:"HS256 secret, at least 32 bytes: openssl rand -hex 32"`
	// RS256/ES256 tokens of an identity provider (docs/security.md).
	PublicKeyFile string        `key:"public_key_file" doc:"PEM file of public keys (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks: RSA of 2048+ bits for RS256, ECDSA P-256 for ES256) that verify tokens, alongside or instead of jwt.secret."`
	JWKSFile      string        `key:"jwks_file" doc:"JSON Web Key Set file ({\"keys\":[...]}) of RS256/ES256 verification keys; a token's kid picks its key. Read at start."`
	JWKSURL       string        `key:"jwks_url" check:"http_url" example:"https://id.example.com/.well-known/jwks.json" doc:"The identity provider's JSON Web Key Set URL: its RS256/ES256 keys verify tokens, fetched at start and every jwt.jwks_refresh, and at once (at most every 30 s) when a token names a kid the set lacks, so keys rotate without a restart. The node is not ready while it holds no key of the set."`
	JWKSRefresh   time.Duration `key:"jwks_refresh" doc:"How often jwt.jwks_url is fetched again."`
	Issuer        string        `key:"issuer" doc:"When set, tokens must carry this iss (gateway token adds it)."`
	Audience      string        `key:"audience" doc:"When set, tokens' aud must include this (gateway token adds it)."`
}

// ShutdownConfig bounds a node's stop.
type ShutdownConfig struct {
	Timeout time.Duration `key:"timeout" doc:"How long in-flight requests get to finish on SIGTERM."`
}

// LogConfig is the node's log output.
type LogConfig struct {
	Format string `key:"format" oneof:"text json" doc:"Log line format."`
	Level  string `key:"level" oneof:"debug info warn error" doc:"Least severe level logged."`
}

// HistoryConfig bounds the messages stored per user.
type HistoryConfig struct {
	Size int           `key:"size" min:"10" max:"100000" doc:"Messages kept per user in Redis for offline delivery and resume."`
	TTL  time.Duration `key:"ttl" doc:"How long a user's stored messages live after the newest one."`
}

// WSConfig is the WebSocket endpoint.
type WSConfig struct {
	AllowedOrigins  []string      `key:"allowed_origins" doc:"Browser origins allowed besides the gateway's own host, comma-separated; \"*\" allows any. Clients without an Origin header are always allowed."`
	MaxMessageBytes int64         `key:"max_message_bytes" min:"128" max:"1048576" doc:"Largest client frame; bigger frames close the socket with 1009."`
	BufferSize      int           `key:"buffer_size" min:"12" max:"4096" doc:"Messages a session may have queued for its socket. A burst beyond it is not lost: the session catches up from Redis at the pace of its socket. A session whose queue stays full for ws.slow_timeout is closed with 4000. Each slot costs ~40 bytes per connection."`
	PingPeriod      time.Duration `key:"ping_period" doc:"Server ping interval (also advised to clients as heartbeat_ms). Shorter than ws.pong_wait."`
	PongWait        time.Duration `key:"pong_wait" doc:"A peer silent (no pong) this long is dropped."`
	WriteWait       time.Duration `key:"write_wait" doc:"Deadline of one socket write."`
	SlowTimeout     time.Duration `key:"slow_timeout" doc:"How long a full send queue may make no progress before the session is closed as a slow consumer (close code 4000)."`
	DrainWindow     time.Duration `key:"drain_window" doc:"On SIGTERM, sessions are closed with 1001 spread over this window."`
	ReconnectBase   time.Duration `key:"reconnect_base" doc:"First reconnect backoff advised to clients in the connected frame."`
	ReconnectMax    time.Duration `key:"reconnect_max" doc:"Largest reconnect backoff advised to clients in the connected frame."`
}

// PresenceConfig is the cluster-wide record of who is online where.
type PresenceConfig struct {
	Heartbeat time.Duration `key:"heartbeat" doc:"How often a node refreshes its presence keys."`
	TTL       time.Duration `key:"ttl" doc:"A node silent this long is gone with its users. More than twice presence.heartbeat."`
}

// PushConfig is server push (POST /api/push, gRPC Push) and the mobile
// push to users' devices (README "Mobile push"): a notification that no
// live session of its user received within the grace period goes to each
// of the user's devices through the provider of its platform. Off until a
// provider is configured.
type PushConfig struct {
	MaxBatch          int             `key:"max_batch" min:"1" max:"100000" doc:"Most user ids in one POST /api/push or gRPC Push."`
	MaxDevicesPerUser int             `key:"max_devices_per_user" min:"1" max:"1000" doc:"Most devices (app installations receiving mobile push) one user may have registered (POST /api/devices, gRPC RegisterDevice); registering one more removes the user's least recently registered."`
	Types             webhook.Types   `key:"types" doc:"The notification types pushed to devices, comma-separated, each optionally with its own grace: created, confirmed, cancelled, reminder, rejected, push (e.g. \"confirmed,reminder:10s,push\"). push sends only the pushes that ask for the offline fallback (\"webhook\": true)."`
	Grace             time.Duration   `key:"grace" doc:"How long a notification waits for a live session of its user to receive (or acknowledge) it before it is pushed to the user's devices; types may have their own (push.types)."`
	Queue             string          `key:"queue" required:"true" doc:"The asynq queue of device push tasks (its own, for the UI, metrics and alerts); must be in worker.queues when a provider is configured, and differ from reminder.queue and webhook.queue."`
	MaxRetry          int             `key:"max_retry" min:"0" max:"100" doc:"Retries of a send to one device after its first attempt (a provider's 5xx, 429, timeouts, no answer); then the task is archived (visible in the UI). A permanent refusal is archived at once; a dead token removes the device."`
	Backoff           time.Duration   `key:"backoff" doc:"Wait before the first retry of a send, doubling with each retry up to push.max_backoff (plus up to 10% jitter); a longer Retry-After of the provider wins."`
	MaxBackoff        time.Duration   `key:"max_backoff" doc:"Longest wait before a retry of a send, a provider's Retry-After included."`
	Timeout           time.Duration   `key:"timeout" doc:"Time one send to a provider may take; longer counts as a failure (retried)."`
	Retention         time.Duration   `key:"retention" doc:"Finished device push tasks stay visible in the asynq UI this long, and keep their message id taken: a notification published again within it is not pushed twice."`
	FCM               FCMPushConfig   `key:"fcm"`
	APNs              APNsPushConfig  `key:"apns"`
	JPush             JPushPushConfig `key:"jpush"`
}

// FCMPushConfig is Firebase Cloud Messaging (HTTP v1), for devices of
// platform fcm.
type FCMPushConfig struct {
	Credentials string `key:"credentials" secret:"true" doc:"The Firebase service-account key (its JSON, as downloaded from the Firebase console: Project settings, Service accounts). Set: devices of platform fcm get pushes. Give it as a file with GATEWAY_PUSH_FCM_CREDENTIALS_FILE."`
	ProjectID   string `key:"project_id" doc:"The Firebase project; empty: the key's project_id."`
	Endpoint    string `key:"endpoint" check:"http_url" example:"https://fcm.googleapis.com" doc:"The FCM API base URL; empty: https://fcm.googleapis.com. For tests and proxies."`
	TokenURL    string `key:"token_url" check:"http_url" example:"https://oauth2.googleapis.com/token" doc:"The OAuth2 token endpoint; empty: the key's token_uri. For tests and proxies."`
}

// APNsPushConfig is Apple Push Notification service with token (.p8)
// auth, for devices of platform apns.
type APNsPushConfig struct {
	Key         string `key:"key" secret:"true" doc:"The APNs auth key (.p8 file's content, a PKCS#8 P-256 key) from the Apple developer account. Set: devices of platform apns get pushes, and push.apns.key_id, push.apns.team_id and push.apns.topic are required. Give it as a file with GATEWAY_PUSH_APNS_KEY_FILE."`
	KeyID       string `key:"key_id" doc:"The auth key's 10-character Key ID."`
	TeamID      string `key:"team_id" doc:"The Apple developer Team ID."`
	Topic       string `key:"topic" doc:"The app's bundle ID (apns-topic)."`
	Environment string `key:"environment" oneof:"sandbox production" doc:"sandbox (development builds) or production (App Store and TestFlight builds): which APNs the pushes go to."`
	Endpoint    string `key:"endpoint" check:"http_url" example:"https://api.push.apple.com" doc:"The APNs base URL (https, HTTP/2); empty: Apple's for push.apns.environment. For tests and proxies."`
}

// JPushPushConfig is JPush (REST v3), for devices of platform jpush.
type JPushPushConfig struct {
	AppKey       string `key:"app_key" doc:"The JPush app's AppKey. Set with push.jpush.master_secret: devices of platform jpush get pushes."`
	MasterSecret string `key:"master_secret" secret:"true" doc:"The JPush app's Master Secret. Give it as a file with GATEWAY_PUSH_JPUSH_MASTER_SECRET_FILE."`
	Production   bool   `key:"production" doc:"JPush's iOS deliveries go to APNs production (options.apns_production); false: sandbox."`
	Endpoint     string `key:"endpoint" check:"http_url" example:"https://api.jpush.cn" doc:"The JPush API base URL; empty: https://api.jpush.cn. For tests and proxies."`
}

// PreferencesConfig is the cache of users' notification preferences
// (GET/PUT /api/preferences) that every node keeps for the publish path.
type PreferencesConfig struct {
	CacheSize int           `key:"cache_size" min:"1" max:"100000000" doc:"Users whose notification preferences a node keeps in memory (least recently used dropped first); a miss reads MySQL."`
	CacheTTL  time.Duration `key:"cache_ttl" doc:"Longest a node trusts a cached copy of a user's preferences. A change reaches every node at once through Redis pub/sub; this bounds how long a node may miss one (its subscription down)."`
}

// APIConfig switches the API side of a node.
type APIConfig struct {
	Enabled bool `key:"enabled" doc:"Serve the REST API, WebSocket and gRPC. false makes a worker-only node (it still answers /healthz, /readyz and the asynq UI)."`
}

// WorkerConfig is the asynq worker that fires reminders.
type WorkerConfig struct {
	Enabled      bool           `key:"enabled" doc:"Run the asynq worker that fires reminders. false makes an API-only node."`
	Concurrency  int            `key:"concurrency" min:"1" max:"1000" doc:"Tasks (reminders, webhook posts, device pushes) run at once per node. A webhook post holds its slot up to webhook.timeout, a device push up to push.timeout."`
	Queues       map[string]int `key:"queues" doc:"asynq queues this worker serves, with priorities: \"name:prio,...\". Must include reminder.queue, webhook.queue when webhook.url is set, and push.queue when a push provider is configured."`
	PollInterval time.Duration  `key:"poll_interval" doc:"How often scheduled tasks are moved to their queue and idle workers look for work: bounds how late a reminder fires (asynq's default 5 s would make it up to 6 s late)."`
}

// ReservationConfig is the rules of reservations.
type ReservationConfig struct {
	CancelGrace time.Duration `key:"cancel_grace" min:"0" doc:"Once a viewing's time has come its reservation can no longer be confirmed, rejected or cancelled (failed_precondition), except that the landlord may cancel it for this long after the time (a viewing that did not take place). 0: not at all."`
}

// ReminderConfig is the viewing reminders.
type ReminderConfig struct {
	Leads           []time.Duration `key:"leads" doc:"Lead times of viewing reminders, comma-separated Go durations: one asynq task per lead fires at reserve_time - lead."`
	Queue           string          `key:"queue" required:"true" doc:"The queue reminder tasks go to; must be in worker.queues."`
	MaxRetry        int             `key:"max_retry" min:"0" max:"100" doc:"Attempts after the first; then the task is archived (visible in the UI)."`
	ImmediateIfLate bool            `key:"immediate_if_late" doc:"A viewing confirmed less than the smallest lead ahead gets one reminder at once (otherwise none)."`
	Retention       time.Duration   `key:"retention" doc:"Completed reminder tasks stay visible in the asynq UI this long."`
}

// WebhookConfig is the offline fallback (docs/api.md#offline-webhook): a
// notification that no live session of its user received within the grace
// period is posted, signed, to the platform's webhook, which bridges it to
// mobile push or SMS.
type WebhookConfig struct {
	URL       string        `key:"url" secret:"url" check:"http_url" example:"https://push.example.com/gateway" doc:"The platform's webhook (http or https). Empty: off, and publishing does no extra work."`
	Secret    string        `key:"secret" secret:"true" doc:"The signing secret, at least 32 bytes (openssl rand -hex 32); required with webhook.url. The receiver verifies with the same secret. A Standard Webhooks secret (whsec_ and base64) is base64-decoded into its key, as the specification says; any other is the key as it is."`
	Format    string        `key:"format" oneof:"standard gateway" doc:"How posts are signed. standard: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>), which verifier libraries check. gateway: X-Gateway-Timestamp and X-Gateway-Signature (sha256=<hex HMAC-SHA256 of timestamp.body>), for receivers written against them."`
	Grace     time.Duration `key:"grace" doc:"How long a notification waits for a live session of its user to receive (or acknowledge) it before it is posted; types may have their own (webhook.types)."`
	Types     webhook.Types `key:"types" doc:"The notification types posted, comma-separated, each optionally with its own grace: created, confirmed, cancelled, reminder, rejected, push (e.g. \"confirmed,reminder:10s,push\"). push posts only the pushes that ask for it (\"webhook\": true)."`
	Queue     string        `key:"queue" required:"true" doc:"The asynq queue of webhook tasks (its own, for the UI, metrics and alerts); must be in worker.queues and differ from reminder.queue."`
	MaxRetry  int           `key:"max_retry" min:"0" max:"100" doc:"Retries after the first attempt (5xx, 429, timeouts, no answer); then the task is archived (visible in the UI)."`
	Backoff   time.Duration `key:"backoff" doc:"Wait before the first retry, doubling with each retry up to 1h (plus up to 10% jitter); a longer Retry-After of the receiver wins, up to 1h."`
	Timeout   time.Duration `key:"timeout" doc:"Time one post may take, from connecting to the answer; longer counts as a failure (retried)."`
	Retention time.Duration `key:"retention" doc:"Finished webhook tasks stay visible in the asynq UI this long, and keep their message id taken: a notification published again within it (an outbox retry, after Redis lost the user's stream) is not posted twice."`
}

// UIConfig is the asynq web UI.
type UIConfig struct {
	Enabled  bool   `key:"enabled" doc:"Mount the asynq web UI (asynqmon) at /asynq/."`
	Username string `key:"username" required:"true" doc:"In jwt mode the UI needs HTTP basic auth (this user and ui.password) or \"Authorization: Bearer <api_key>\"."`
	Password string `key:"password" secret:"true" doc:"Basic-auth password of the UI in jwt mode; empty: api_key."`
	// PrometheusAddr is asynqmon.Options.PrometheusAddress.
	PrometheusAddr string `key:"prometheus_addr" secret:"url" check:"http_url" example:"http://prometheus:9090" doc:"URL of a Prometheus that scrapes the nodes (http://prometheus:9090): the UI then shows queue metrics over time (its Metrics page), queried by the node. Empty: no Metrics page."`
}

// MetricsConfig is the Prometheus endpoint.
type MetricsConfig struct {
	Addr string `key:"addr" check:"hostport" doc:"Empty: /metrics is served on the HTTP port (open in insecure mode, behind the operator auth of the asynq UI in jwt mode). An address (e.g. \":9100\") serves /metrics there instead, without auth, for an internal network only (docker-compose.yml does this and does not publish it)."`
}

// RuntimeConfig tunes the Go runtime.
type RuntimeConfig struct {
	GCPercent         int  `key:"gc_percent" min:"10" max:"1000" doc:"Go's GC target (GOGC) when the GOGC environment variable is not set. Lower values trade delivery throughput for memory; release_idle_memory keeps the memory per idle connection low without it (docs/benchmarks.md)."`
	MemoryLimitMB     int  `key:"memory_limit_mb" min:"0" max:"1048576" doc:"Soft memory limit of the Go runtime in MiB (GOMEMLIMIT, which wins when set); 0: none. Set it to about 90% of the container's memory: the GC then runs more often only when memory gets near it."`
	ReleaseIdleMemory bool `key:"release_idle_memory" doc:"When the node goes quiet after its heap grew (a burst of handshakes), collect and give the free memory back to the OS, so that idle connections cost their live memory only."`
}

// LimitsConfig bounds what one user, client address or session may do
// (docs/security.md). 0 turns a limit off.
type LimitsConfig struct {
	SessionsPerUser       int    `key:"sessions_per_user" min:"0" max:"100000" doc:"Most WebSocket sessions one user may hold at once over every node (a dead node's stop counting after presence.ttl)."`
	SessionPolicy         string `key:"session_policy" oneof:"close_oldest refuse" doc:"Beyond limits.sessions_per_user: close_oldest admits the new session and closes the user's oldest with 4008; refuse answers the handshake 429."`
	HandshakesPerIP       int    `key:"handshakes_per_ip" min:"0" max:"1000000" doc:"WebSocket handshakes per second per client address (the connection's: behind a load balancer every client shares its address, so set it only where clients connect directly); over it 429 with Retry-After."`
	ReservationsPerMinute int    `key:"reservations_per_minute" min:"0" max:"1000000" doc:"Reservations one tenant may create per minute (REST and gRPC); over it 429 / RESOURCE_EXHAUSTED."`
	RemindersPerMinute    int    `key:"reminders_per_minute" min:"0" max:"1000000" doc:"Reminders one user may send per minute (POST .../remind, gRPC RemindReservation): each lands in the other party's stored history."`
	ClientFramesPerSecond int    `key:"client_frames_per_second" min:"0" max:"100000" doc:"Costly frames (pings, refreshes, invalid ones; not acks of delivered messages) one WebSocket session may send per second, in bursts of as many. One over it is dropped and answered with an error frame saying when to retry; another burst's worth before then closes the session with 4029."`
}
