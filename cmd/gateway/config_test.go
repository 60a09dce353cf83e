package main

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
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

const secret = "0123456789abcdef0123456789abcdef"

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
	cfg, err := LoadConfig(path, env(map[string]string{"GATEWAY_REDIS_ADDR": "env:6379", "GATEWAY_NODE_ID": "n7"}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"node": cfg.NodeID, "redis": cfg.RedisAddr, "db": cfg.RedisDB, "auth": cfg.AuthMode,
		"leads": cfg.ReminderLeads, "http": cfg.HTTPAddr, "grpc": cfg.GRPCAddr, "tz": cfg.Location.String(),
		"body": cfg.MaxBodyBytes,
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
		{"unknown file key", nil, "auth:\n  mode: insecure\nredis:\n  adress: x\n", []string{`"redis.adress"`}},
		{"bad yaml", nil, "auth: [\n", []string{"config file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = MustWriteFile(t, tt.file)
			}
			_, err := LoadConfig(path, env(tt.env))
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

func TestJWTSecretImpliesJWTMode(t *testing.T) {
	cfg, err := LoadConfig("", env(map[string]string{"GATEWAY_JWT_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuthMode != app.AuthJWT {
		t.Errorf("auth mode = %q, want jwt", cfg.AuthMode)
	}
}

// TestShippedConfigFiles keeps config/ in step with the code: the reference
// documents exactly the known keys, and every shipped file loads.
func TestShippedConfigFiles(t *testing.T) {
	k := koanf.New(".")
	if err := k.Load(file.Provider("../../config/reference.yaml"), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	documented := k.Keys()
	slices.Sort(documented)
	if diff := cmp.Diff(Keys(), documented); diff != "" {
		t.Errorf("config/reference.yaml keys (-code +reference):\n%s", diff)
	}
	files, _ := filepath.Glob("../../config/*.yaml")
	for _, f := range files {
		getenv := env(map[string]string{"GATEWAY_JWT_SECRET": secret, "GATEWAY_AUTH_MODE": "jwt"})
		if filepath.Base(f) == "dev.yaml" {
			getenv = env(nil)
		}
		if _, err := LoadConfig(f, getenv); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
