package settings

import (
	"time"

	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/devices"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/protocol"
)

// Defaults is the default of every setting. A default that a package owns
// is its constant, so that each is written once.
func Defaults() Config {
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	return Config{
		HTTP: HTTPConfig{Addr: ":8080", MaxBodyBytes: httpapi.DefaultMaxBodyBytes, MaxHeaderBytes: 32 << 10,
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute},
		GRPC: GRPCConfig{Addr: ":9000", MaxRecvMsgBytes: 1 << 20, KeepaliveMinTime: 10 * time.Second,
			KeepaliveTime: 2 * time.Minute, KeepaliveTimeout: 20 * time.Second},
		MySQL: MySQLConfig{DSN: "root:@tcp(127.0.0.1:3306)/house_gateway?charset=utf8mb4&parseTime=true&loc=UTC", SeedDemo: true},
		Redis: RedisConfig{Mode: redis.ModeStandalone, Addr: "127.0.0.1:6379", Namespace: "gw",
			PublishBatchWait: 500 * time.Microsecond},
		Timezone: reservation.DefaultLocation(),
		Shutdown: ShutdownConfig{Timeout: 20 * time.Second},
		JWT:      JWTConfig{JWKSRefresh: jwtauth.DefaultJWKSRefresh},
		Log:      LogConfig{Format: "text", Level: "info"},
		History:  HistoryConfig{Size: redis.DefaultHistorySize, TTL: redis.DefaultHistoryTTL},
		WS: WSConfig{MaxMessageBytes: ws.DefaultMaxMessageSize, BufferSize: ws.DefaultBufferSize,
			PingPeriod: ws.DefaultPingPeriod, PongWait: ws.DefaultPongWait, WriteWait: ws.DefaultWriteWait,
			SlowTimeout: ws.DefaultSlowTimeout, DrainWindow: 10 * time.Second,
			ReconnectBase: ms(protocol.DefaultReconnect.BaseMS), ReconnectMax: ms(protocol.DefaultReconnect.MaxMS)},
		Presence: PresenceConfig{Heartbeat: coord.DefaultHeartbeat, TTL: coord.DefaultPresenceTTL},
		Push: PushConfig{MaxBatch: push.DefaultMaxBatch, MaxDevicesPerUser: devices.DefaultMaxPerUser, Types: webhook.DefaultTypes(), Grace: devicepush.DefaultGrace,
			Queue: devicepush.DefaultQueue, MaxRetry: devicepush.DefaultMaxRetry, Backoff: devicepush.DefaultBackoff,
			MaxBackoff: devicepush.MaxBackoff, Timeout: devicepush.DefaultTimeout, Retention: devicepush.DefaultRetention,
			APNs: APNsPushConfig{Environment: "production"}},
		Preferences: PreferencesConfig{CacheSize: preferences.DefaultCacheSize, CacheTTL: preferences.DefaultTTL},
		API:         APIConfig{Enabled: true},
		Worker: WorkerConfig{Enabled: true, Concurrency: 10, PollInterval: reminder.DefaultPollInterval,
			Queues: map[string]int{reminder.DefaultQueue: 10, webhook.DefaultQueue: 5, devicepush.DefaultQueue: 5}},
		Reservation: ReservationConfig{CancelGrace: reservation.DefaultCancelGrace},
		Reminder: ReminderConfig{Leads: []time.Duration{24 * time.Hour, time.Hour}, Queue: reminder.DefaultQueue,
			MaxRetry: reminder.DefaultMaxRetry, Retention: reminder.DefaultRetention},
		Webhook: WebhookConfig{Grace: webhook.DefaultGrace, Types: webhook.DefaultTypes(), Queue: webhook.DefaultQueue,
			MaxRetry: webhook.DefaultMaxRetry, Backoff: webhook.DefaultBackoff, Timeout: webhook.DefaultTimeout,
			Retention: webhook.DefaultRetention, Format: webhook.FormatStandard},
		UI:      UIConfig{Enabled: true, Username: "admin"},
		Runtime: RuntimeConfig{GCPercent: 100, ReleaseIdleMemory: true},
		Limits: LimitsConfig{SessionsPerUser: protocol.DefaultSessionsPerUser, SessionPolicy: coord.SessionPolicyCloseOldest,
			ReservationsPerMinute: 10, RemindersPerMinute: 10, ClientFramesPerSecond: protocol.DefaultFrameRate},
	}
}

// Schema is the settings of Config.
var Schema = config.New("GATEWAY_", Defaults, (*Config).validate)

// Load reads the file at path (none when "") and the environment through
// getenv over the defaults, and validates the result.
func Load(path string, getenv func(string) string) (*Config, error) {
	l, err := Schema.Load(path, getenv)
	return l.Config, err
}

const referenceHeader = `# Every configuration key of ` + "`gateway serve`" + `, with its default.
# Generated from the declarations in cmd/gateway/settings by
#   go run ./cmd/gateway config reference > config/reference.yaml
# (or go generate ./cmd/gateway): edit those, not this file.
#
# Each key can be overridden by an environment variable: GATEWAY_ + the key
# in upper case with dots turned into underscores (redis.db -> GATEWAY_REDIS_DB).
# The secrets can also be read from a file named by GATEWAY_<NAME>_FILE.
# Order of precedence: environment > this file (-config) > built-in default.
# A bad value stops start-up with a message naming the key and its variable;
# gateway config check lists every one.
`

// Reference is config/reference.yaml: every setting with its description,
// variables, rules and default.
func Reference() []byte { return Schema.Reference(referenceHeader) }
