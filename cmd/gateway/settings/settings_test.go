package settings

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/config"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

const (
	secret = "0123456789abcdef0123456789abcdef"
	apiKey = "test-api-key-0123456789"
)

// MustWriteFile writes a temporary file and returns its path.
func MustWriteFile(tb testing.TB, body string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestLoadConfigPrecedence(t *testing.T) {
	path := MustWriteFile(t, "auth:\n  mode: insecure\nredis:\n  db: 3\n  addr: file:6379\nreminder:\n  leads: 1h, 24h\n")
	cfg, err := Load(path, env(map[string]string{"GATEWAY_REDIS_ADDR": "env:6379", "GATEWAY_NODE_ID": "n7"}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"node": cfg.NodeID, "redis": cfg.Redis.Addr, "db": cfg.Redis.DB, "auth": cfg.Auth.Mode,
		"leads": cfg.Reminder.Leads, "http": cfg.HTTP.Addr, "grpc": cfg.GRPC.Addr, "tz": cfg.Timezone.String(),
		"body": cfg.HTTP.MaxBodyBytes,
	}
	want := map[string]any{
		"node": "n7", "redis": "env:6379", "db": 3, "auth": app.AuthInsecure,
		"leads": []time.Duration{24 * time.Hour, time.Hour}, "http": ":8080", "grpc": ":9000", "tz": "Asia/Shanghai",
		"body": int64(65536),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		file string
		want []string // substrings of the error
	}{
		{"no auth refuses to start", nil, "", []string{"auth.mode", "GATEWAY_AUTH_MODE", "GATEWAY_JWT_SECRET", "insecure"}},
		{"short secret", map[string]string{"GATEWAY_AUTH_MODE": "jwt", "GATEWAY_JWT_SECRET": "short"}, "", []string{"GATEWAY_JWT_SECRET", "32"}},
		{"unknown mode", map[string]string{"GATEWAY_AUTH_MODE": "open"}, "", []string{"GATEWAY_AUTH_MODE", `"open"`}},
		{"bad db", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REDIS_DB": "one"}, "", []string{"GATEWAY_REDIS_DB", `"one"`}},
		{"bad lead", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REMINDER_LEADS": "24h,soon"}, "", []string{"GATEWAY_REMINDER_LEADS", `"soon"`}},
		{"bad zone", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_TIMEZONE": "Mars/Olympus"}, "", []string{"GATEWAY_TIMEZONE"}},
		{"short api key", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_API_KEY": "abc"}, "", []string{"GATEWAY_API_KEY"}},
		{"bad namespace", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REDIS_NAMESPACE": "a:b"}, "", []string{"GATEWAY_REDIS_NAMESPACE"}},
		{"unknown file key", nil, "auth:\n  mode: insecure\nredis:\n  adr: x\n", []string{`"redis.adr"`, "did you mean redis.addr?"}},
		{"bad yaml", nil, "auth: [\n", []string{"config file"}},
		{"bad bool", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_API_ENABLED": "maybe"}, "", []string{"api.enabled", "GATEWAY_API_ENABLED", `"maybe"`}},
		{"int out of range", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WS_BUFFER_SIZE": "8"}, "", []string{"ws.buffer_size", "GATEWAY_WS_BUFFER_SIZE", "between 12 and 4096"}},
		{"bad duration", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_HISTORY_TTL": "-1h"}, "", []string{"history.ttl", "GATEWAY_HISTORY_TTL", `"-1h"`}},
		{"not one of", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_LOG_LEVEL": "loud"}, "", []string{"log.level", "GATEWAY_LOG_LEVEL", `"loud"`, "debug, info, warn, error"}},
		{"required", nil, "auth:\n  mode: insecure\nredis:\n  namespace: \"\"\n", []string{"redis.namespace", "GATEWAY_REDIS_NAMESPACE", "must be set"}},
		{"bad queue", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WORKER_QUEUES": "reminders"}, "", []string{"worker.queues", "GATEWAY_WORKER_QUEUES", `"reminders"`}},
		{"queues lack the reminder queue", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WORKER_QUEUES": "other:1"}, "", []string{"worker.queues", "GATEWAY_WORKER_QUEUES", `"reminders"`}},
		{"api and worker off", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_API_ENABLED": "false", "GATEWAY_WORKER_ENABLED": "false"}, "", []string{"api.enabled", "GATEWAY_API_ENABLED"}},
		{"no leads", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REMINDER_LEADS": " , "}, "", []string{"reminder.leads", "GATEWAY_REMINDER_LEADS", "at least one"}},
		{"ping not before pong", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WS_PING_PERIOD": "60s"}, "", []string{"ws.ping_period", "GATEWAY_WS_PING_PERIOD", "ws.pong_wait"}},
		{"presence ttl too short", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PRESENCE_TTL": "10s"}, "", []string{"presence.ttl", "GATEWAY_PRESENCE_TTL", "presence.heartbeat"}},
		{"secret and its file", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_API_KEY": apiKey, "GATEWAY_API_KEY_FILE": "/nonexistent"}, "", []string{"api_key", "GATEWAY_API_KEY", "GATEWAY_API_KEY_FILE"}},
		{"bad trusted proxy", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_HTTP_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "", []string{"http.trusted_proxies", "GATEWAY_HTTP_TRUSTED_PROXIES", `"nginx"`}},
		{"bad prometheus url", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_UI_PROMETHEUS_ADDR": "prometheus:9090"}, "", []string{"ui.prometheus_addr", "GATEWAY_UI_PROMETHEUS_ADDR"}},
		{"unreadable secret file", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_UI_PASSWORD_FILE": "/nonexistent/pw"}, "", []string{"ui.password", "GATEWAY_UI_PASSWORD_FILE", "/nonexistent/pw"}},
		{"webhook url not http", webhookEnv("GATEWAY_WEBHOOK_URL", "push.example.com/hook"), "", []string{"webhook.url", "GATEWAY_WEBHOOK_URL", `"push.example.com/hook"`}},
		{"webhook without a secret", webhookEnv("GATEWAY_WEBHOOK_SECRET", ""), "", []string{"webhook.secret", "GATEWAY_WEBHOOK_SECRET", "32 bytes"}},
		{"webhook secret too short", webhookEnv("GATEWAY_WEBHOOK_SECRET", "short"), "", []string{"webhook.secret", "GATEWAY_WEBHOOK_SECRET", "openssl rand"}},
		{"bad webhook grace", webhookEnv("GATEWAY_WEBHOOK_GRACE", "soon"), "", []string{"webhook.grace", "GATEWAY_WEBHOOK_GRACE", `"soon"`}},
		{"unknown webhook type", webhookEnv("GATEWAY_WEBHOOK_TYPES", "confirmed,shipped"), "", []string{"webhook.types", "GATEWAY_WEBHOOK_TYPES", `"shipped"`, "created, confirmed"}},
		{"bad webhook type grace", webhookEnv("GATEWAY_WEBHOOK_TYPES", "reminder:0s"), "", []string{"webhook.types", "GATEWAY_WEBHOOK_TYPES", `"0s"`}},
		{"no webhook type", webhookEnv("GATEWAY_WEBHOOK_TYPES", " , "), "", []string{"webhook.types", "GATEWAY_WEBHOOK_TYPES", "no type"}},
		{"queues lack the webhook queue", webhookEnv("GATEWAY_WORKER_QUEUES", "reminders:1"), "", []string{"worker.queues", "GATEWAY_WORKER_QUEUES", `"webhooks"`}},
		{"redis seed without a port", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REDIS_MODE": "cluster", "GATEWAY_REDIS_ADDRS": "r1:6379,r2"}, "", []string{"redis.addrs", "GATEWAY_REDIS_ADDRS", `"r2"`, "host:port"}},
		{"metrics port out of range", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_METRICS_ADDR": ":65536"}, "", []string{"metrics.addr", "GATEWAY_METRICS_ADDR", `":65536"`}},
		{"dsn without a database", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_MYSQL_DSN": "root:@tcp(db:3306)/"}, "", []string{"mysql.dsn", "GATEWAY_MYSQL_DSN", "no database name"}},
		{"webhook queue is the reminder queue", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WEBHOOK_QUEUE": "reminders"}, "", []string{"webhook.queue", "GATEWAY_WEBHOOK_QUEUE", "reminder.queue"}},
		{"fcm key not json", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PUSH_FCM_CREDENTIALS": "{not json"}, "", []string{"push.fcm.credentials", "GATEWAY_PUSH_FCM_CREDENTIALS", "service-account key"}},
		{"apns key not pem", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PUSH_APNS_KEY": "nope", "GATEWAY_PUSH_APNS_KEY_ID": "K",
			"GATEWAY_PUSH_APNS_TEAM_ID": "T", "GATEWAY_PUSH_APNS_TOPIC": "com.x"}, "", []string{"push.apns.key", "GATEWAY_PUSH_APNS_KEY", "auth key"}},
		{"apns without topic", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PUSH_APNS_KEY": "nope", "GATEWAY_PUSH_APNS_KEY_ID": "K",
			"GATEWAY_PUSH_APNS_TEAM_ID": "T"}, "", []string{"push.apns.topic", "GATEWAY_PUSH_APNS_TOPIC"}},
		{"jpush without secret", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PUSH_JPUSH_APP_KEY": "k"}, "", []string{"push.jpush.master_secret", "GATEWAY_PUSH_JPUSH_MASTER_SECRET"}},
		{"queues lack the push queue", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PUSH_JPUSH_APP_KEY": "k", "GATEWAY_PUSH_JPUSH_MASTER_SECRET": "s",
			"GATEWAY_WORKER_QUEUES": "reminders:1,webhooks:1"}, "", []string{"worker.queues", `"push"`}},
		{"push queue is the webhook queue", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_PUSH_QUEUE": "webhooks"}, "", []string{"push.queue", "GATEWAY_PUSH_QUEUE", "webhook.queue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = MustWriteFile(t, tt.file)
			}
			_, err := Load(path, env(tt.env))
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// webhookEnv is a valid environment with the webhook on, and key set to
// value.
func webhookEnv(key, value string) map[string]string {
	e := map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WEBHOOK_URL": "https://push.example.com/hook",
		"GATEWAY_WEBHOOK_SECRET": secret}
	e[key] = value
	return e
}

// TestWebhookConfig: the three fixed variables, the types in YAML (a list
// or a string), each with its own grace or the default one; worker-only
// and API-only nodes take the same settings.
func TestWebhookConfig(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want WebhookConfig
	}{
		{"off by default", "", map[string]string{"GATEWAY_AUTH_MODE": "insecure"}, WebhookConfig{Grace: 30 * time.Second,
			Types: webhook.DefaultTypes(), Queue: "webhooks", MaxRetry: 12, Backoff: 10 * time.Second, Timeout: 10 * time.Second, Retention: time.Hour, Format: "standard"}},
		{"variables", "", webhookEnv("GATEWAY_WEBHOOK_GRACE", "45s"), WebhookConfig{URL: "https://push.example.com/hook", Secret: secret,
			Grace: 45 * time.Second, Types: webhook.DefaultTypes(), Queue: "webhooks", MaxRetry: 12, Backoff: 10 * time.Second,
			Timeout: 10 * time.Second, Retention: time.Hour, Format: "standard"}},
		{"YAML list of types", "webhook:\n  url: http://bridge:8080/push\n  secret: " + secret + "\n  types: [confirmed, \"reminder:10s\"]\n  grace: 1m\n",
			map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_WORKER_ENABLED": "false"},
			WebhookConfig{URL: "http://bridge:8080/push", Secret: secret, Grace: time.Minute,
				Types: webhook.Types{app.MsgReservationConfirmed: 0, app.MsgReservationReminder: 10 * time.Second},
				Queue: "webhooks", MaxRetry: 12, Backoff: 10 * time.Second, Timeout: 10 * time.Second, Retention: time.Hour, Format: "standard"}},
		{"YAML string of types", "webhook:\n  types: \"push, cancelled:5m\"\n", map[string]string{"GATEWAY_AUTH_MODE": "insecure"},
			WebhookConfig{Grace: 30 * time.Second, Types: webhook.Types{app.MsgGenericPush: 0, app.MsgReservationCancelled: 5 * time.Minute},
				Queue: "webhooks", MaxRetry: 12, Backoff: 10 * time.Second, Timeout: 10 * time.Second, Retention: time.Hour, Format: "standard"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = MustWriteFile(t, tt.file)
			}
			cfg, err := Load(path, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Webhook); diff != "" {
				t.Errorf("webhook config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJWTSecretImpliesJWTMode(t *testing.T) {
	cfg, err := Load("", env(map[string]string{"GATEWAY_JWT_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Mode != app.AuthJWT {
		t.Errorf("auth mode = %q, want jwt", cfg.Auth.Mode)
	}
}

// TestShippedConfigFiles keeps config/ in step with the code: the reference
// documents exactly the known keys, and every shipped file loads.
func TestShippedConfigFiles(t *testing.T) {
	k := koanf.New(".")
	if err := k.Load(file.Provider("../../../config/reference.yaml"), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	documented := k.Keys()
	slices.Sort(documented)
	if diff := cmp.Diff(Schema.Keys(), documented); diff != "" {
		t.Errorf("config/reference.yaml keys (-code +reference):\n%s", diff)
	}
	files, _ := filepath.Glob("../../../config/*.yaml")
	for _, f := range files {
		getenv := env(map[string]string{"GATEWAY_JWT_SECRET": secret, "GATEWAY_AUTH_MODE": "jwt"})
		if filepath.Base(f) == "dev.yaml" {
			getenv = env(nil)
		}
		if _, err := Load(f, getenv); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestLoadConfigReportsEveryError: one start-up shows every problem, not
// the first.
func TestLoadConfigReportsEveryError(t *testing.T) {
	path := MustWriteFile(t, "redis:\n  adr: x\nlog:\n  format: xml\n")
	_, err := Load(path, env(map[string]string{
		"GATEWAY_REDIS_DB": "one", "GATEWAY_WS_PONG_WAIT": "soon", "GATEWAY_API_KEY": "short",
	}))
	if err == nil {
		t.Fatal("LoadConfig succeeded")
	}
	got := strings.Split(err.Error(), "\n")
	for i, line := range got {
		got[i], _, _ = strings.Cut(line, ":")
	}
	slices.Sort(got)
	want := []string{
		"config api_key (GATEWAY_API_KEY)",
		"config auth.mode (GATEWAY_AUTH_MODE)",
		"config file " + path,
		"config log.format (GATEWAY_LOG_FORMAT)",
		"config redis.db (GATEWAY_REDIS_DB)",
		"config ws.pong_wait (GATEWAY_WS_PONG_WAIT)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error lines (-want +got):\n%s\nerror: %v", diff, err)
	}
}

// TestSecretFiles: GATEWAY_<NAME>_FILE names a file whose trimmed content
// is the value of a secret.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	l, err := Schema.Load("", env(map[string]string{
		"GATEWAY_JWT_SECRET_FILE":     file("jwt", secret+"\n"),
		"GATEWAY_API_KEY_FILE":        file("key", "  "+apiKey+" \r\n"),
		"GATEWAY_REDIS_PASSWORD_FILE": file("redis", "redis pass\n"),
		"GATEWAY_UI_PASSWORD":         "from-the-variable",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"jwt": l.Config.JWT.Secret, "key": l.Config.APIKey, "redis": l.Config.Redis.Password, "ui": l.Config.UI.Password,
		"mode":    l.Config.Auth.Mode,
		"sources": []config.Source{l.Sources["jwt.secret"], l.Sources["api_key"], l.Sources["redis.password"], l.Sources["ui.password"]},
	}
	want := map[string]any{
		"jwt": secret, "key": apiKey, "redis": "redis pass", "ui": "from-the-variable",
		"mode":    app.AuthJWT,
		"sources": []config.Source{config.SourceSecretFile, config.SourceSecretFile, config.SourceSecretFile, config.SourceEnv},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"both set", map[string]string{"GATEWAY_JWT_SECRET": secret, "GATEWAY_JWT_SECRET_FILE": file("jwt2", secret)},
			"config jwt.secret (GATEWAY_JWT_SECRET): both GATEWAY_JWT_SECRET and GATEWAY_JWT_SECRET_FILE are set; set one of them"},
		{"empty file", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REDIS_PASSWORD_FILE": file("empty", " \n")},
			"config redis.password (GATEWAY_REDIS_PASSWORD_FILE): " + filepath.Join(dir, "empty") + " is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", env(tt.env))
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSettingDeclarations checks the tags of every setting and that each
// default passes its own rules.
func TestSettingDeclarations(t *testing.T) {
	for _, problem := range Schema.Lint() {
		t.Error(problem)
	}
}

// TestReferenceYAMLIsGenerated: config/reference.yaml is what the
// declarations generate.
func TestReferenceYAMLIsGenerated(t *testing.T) {
	committed, err := os.ReadFile("../../../config/reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(Reference()), string(committed)); diff != "" {
		t.Errorf("config/reference.yaml is stale; run go generate ./cmd/gateway (-generated +committed):\n%s", diff)
	}
}

// TestConfigurationDocTable keeps the table of variables in
// docs/configuration.md in step with the declarations: every key once, with
// its variable, and each default written as a value (in backquotes) equal to
// the real one.
func TestConfigurationDocTable(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range Schema.CheckTable(string(doc)) {
		t.Error("docs/configuration.md: " + problem)
	}
}

// TestWebhookFormatAndSecrets: the format is standard or gateway; a whsec_
// secret must be base64 of at least 24 bytes.
func TestWebhookFormatAndSecrets(t *testing.T) {
	for _, tt := range []struct {
		key, value string
		wantErr    string
	}{
		{"GATEWAY_WEBHOOK_FORMAT", "gateway", ""},
		{"GATEWAY_WEBHOOK_FORMAT", "svix", "GATEWAY_WEBHOOK_FORMAT"},
		{"GATEWAY_WEBHOOK_SECRET", "whsec_" + strings.Repeat("QUJD", 11), ""},                 // 33 bytes
		{"GATEWAY_WEBHOOK_SECRET", "whsec_" + strings.Repeat("QUJD", 7), "at least 24 bytes"}, // 21 bytes
		{"GATEWAY_WEBHOOK_SECRET", "whsec_not base64 at all, not at all!!", "base64"},
	} {
		_, err := Load("", env(webhookEnv(tt.key, tt.value)))
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s=%s: %v, want an error containing %q", tt.key, tt.value, err, tt.wantErr)
		}
	}
}
