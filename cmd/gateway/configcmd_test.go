package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/cmd/gateway/settings"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/testenv"
)

// runCommand runs the gateway command args through run with the
// environment kv, returning its output.
func runCommand(tb testing.TB, kv map[string]string, args ...string) (string, error) {
	tb.Helper()
	var environ []string
	for k, v := range kv {
		environ = append(environ, k+"="+v)
	}
	var out bytes.Buffer
	err := run(context.Background(), args, env(kv), func() []string { return environ }, &out)
	return out.String(), err
}

// printed parses the table of `config print`: key -> {value, source}.
func printed(tb testing.TB, out string) map[string][2]string {
	tb.Helper()
	rows := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			if f[0] != "warning:" {
				tb.Fatalf("config print line %q", line)
			}
			continue
		}
		rows[f[0]] = [2]string{f[1], f[2]}
	}
	return rows
}

// TestConfigPrintSources: each value shows where it came from, env over
// file over default, with the secrets redacted.
func TestConfigPrintSources(t *testing.T) {
	path := MustWriteFile(t, "auth:\n  mode: insecure\nredis:\n  db: 3\n  addr: file:6379\nreminder:\n  leads: [1h, 24h]\nui:\n  password: ui-secret\n"+
		"webhook:\n  types: [reminder, \"confirmed:1m\"]\n")
	keyFile := filepath.Join(t.TempDir(), "api_key")
	if err := os.WriteFile(keyFile, []byte(apiKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, map[string]string{
		"GATEWAY_REDIS_ADDR":     "env:6379",
		"GATEWAY_NODE_ID":        "n7",
		"GATEWAY_JWT_SECRET":     secret,
		"GATEWAY_API_KEY_FILE":   keyFile,
		"GATEWAY_MYSQL_DSN":      "gw:p@ss:word@tcp(db:3306)/gw?parseTime=true",
		"GATEWAY_REDIS_PASSWORD": "redis-secret",
		"GATEWAY_WEBHOOK_SECRET": "webhook-secret-0123456789abcdef0123",
	}, "config", "print", "-config", path)
	if err != nil {
		t.Fatalf("config print: %v\n%s", err, out)
	}
	rows := printed(t, out)
	got := map[string][2]string{}
	want := map[string][2]string{
		"node_id":         {"n7", "env"},
		"redis.addr":      {"env:6379", "env"},
		"redis.db":        {"3", "file"},
		"http.addr":       {":8080", "default"},
		"auth.mode":       {"insecure", "file"},
		"reminder.leads":  {"24h,1h", "file"},
		"ws.pong_wait":    {"1m", "default"},
		"worker.queues":   {"push:5,reminders:10,webhooks:5", "default"},
		"webhook.secret":  {config.Redacted, "env"},
		"webhook.types":   {"confirmed:1m,reminder", "file"},
		"webhook.grace":   {"30s", "default"},
		"jwt.secret":      {config.Redacted, "env"},
		"api_key":         {config.Redacted, "secret_file"},
		"redis.password":  {config.Redacted, "env"},
		"ui.password":     {config.Redacted, "file"},
		"mysql.dsn":       {"gw:" + config.Redacted + "@tcp(db:3306)/gw?parseTime=true", "env"},
		"metrics.addr":    {`""`, "default"},
		"history.ttl":     {"168h", "default"},
		"redis.namespace": {"gw", "default"},
	}
	for k := range want {
		got[k] = rows[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config print (-want +got):\n%s\n%s", diff, out)
	}
	if len(rows) != len(settings.Schema.Keys()) {
		t.Errorf("config print shows %d keys, want %d", len(rows), len(settings.Schema.Keys()))
	}
	for _, leak := range []string{secret, apiKey, "p@ss:word", "redis-secret", "ui-secret", "webhook-secret"} {
		if strings.Contains(out, leak) {
			t.Errorf("config print shows the secret %q", leak)
		}
	}
}

// TestConfigPrintInvalid shows the values as read, then fails with the
// problems.
func TestConfigPrintInvalid(t *testing.T) {
	out, err := runCommand(t, map[string]string{"GATEWAY_REDIS_DB": "one", "GATEWAY_API_KEY": "short-key"}, "config", "print")
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_REDIS_DB") || !strings.Contains(err.Error(), "GATEWAY_AUTH_MODE") {
		t.Fatalf("config print of an invalid configuration: %v", err)
	}
	rows := printed(t, out)
	if diff := cmp.Diff([2]string{"one", "env"}, rows["redis.db"]); diff != "" {
		t.Errorf("redis.db row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([2]string{config.Redacted, "env"}, rows["api_key"]); diff != "" {
		t.Errorf("api_key row (-want +got):\n%s", diff)
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantOut string
		wantErr []string // lines of the error, in order
	}{
		{"valid", map[string]string{"GATEWAY_AUTH_MODE": "insecure"}, nil, "ok\n", nil},
		{"valid file", nil, []string{"-config", "../../config/dev.yaml"}, "ok\n", nil},
		{"valid with a misspelt variable", map[string]string{"GATEWAY_JWT_SECRET": secret, "GATEWAY_WS_PINGPERIOD": "1s"}, nil,
			"warning: unknown environment variable GATEWAY_WS_PINGPERIOD is ignored; did you mean GATEWAY_WS_PING_PERIOD?\nok\n", nil},
		{"invalid", map[string]string{"GATEWAY_JWT_SECRETS": secret, "GATEWAY_REDIS_DB": "-1", "GATEWAY_LOG_FORMAT": "xml"}, nil, "", []string{
			`config redis.db (GATEWAY_REDIS_DB): "-1" is not an integer between 0 and 65536`,
			`config log.format (GATEWAY_LOG_FORMAT): "xml" is not one of text, json`,
			"config auth.mode (GATEWAY_AUTH_MODE): no authentication is configured, so the node refuses to start. " +
				"Set GATEWAY_JWT_SECRET to a random secret (openssl rand -hex 32) for jwt auth, " +
				"or choose GATEWAY_AUTH_MODE=insecure explicitly to trust the user ids in requests (development only)",
			"warning: unknown environment variable GATEWAY_JWT_SECRETS is ignored; did you mean GATEWAY_JWT_SECRET?",
		}},
		// What serve refused only once it listened or connected.
		{"address without a port", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_HTTP_ADDR": "nonsense"}, nil, "", []string{
			`config http.addr (GATEWAY_HTTP_ADDR): "nonsense" is not host:port with a port from 0 to 65535`,
		}},
		{"port out of range", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_HTTP_ADDR": "localhost:99999"}, nil, "", []string{
			`config http.addr (GATEWAY_HTTP_ADDR): "localhost:99999" is not host:port with a port from 0 to 65535`,
		}},
		{"bad dsn", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_MYSQL_DSN": "garbage"}, nil, "", []string{
			"config mysql.dsn (GATEWAY_MYSQL_DSN): invalid DSN: missing the slash separating the database name",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCommand(t, tt.env, append([]string{"config", "check"}, tt.args...)...)
			var gotErr []string
			if err != nil {
				gotErr = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfigCheckConnect: -connect reaches the running MariaDB and Redis,
// and names what it cannot reach.
func TestConfigCheckConnect(t *testing.T) {
	closed := fmt.Sprintf("127.0.0.1:%d", testenv.MustFreePort(t))
	env := func(kv ...string) map[string]string {
		m := map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REDIS_ADDR": testenv.RedisAddr(),
			"GATEWAY_MYSQL_DSN": testenv.DSNFor(testenv.RandomName("gw_check"))} // never created: -connect opens no database
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // prefixes of the error's lines; none: "ok"
	}{
		{"running", env(), nil},
		{"mysql closed", env("GATEWAY_MYSQL_DSN", "root:@tcp("+closed+")/gw"), []string{"connect: mysql " + closed + ": "}},
		{"redis closed", env("GATEWAY_REDIS_ADDR", closed), []string{"connect: redis (standalone mode, " + closed + "): "}},
		{"both closed", env("GATEWAY_MYSQL_DSN", "root:@tcp("+closed+")/gw", "GATEWAY_REDIS_ADDR", closed),
			[]string{"connect: mysql " + closed + ": ", "connect: redis (standalone mode, " + closed + "): "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCommand(t, tt.env, "config", "check", "-connect")
			if tt.want == nil {
				if err != nil || out != "ok\n" {
					t.Fatalf("config check -connect = %q, %v; want ok", out, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("config check -connect succeeded: %q", out)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("error %q, want %d lines", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error line %q, want it to start with %q", lines[i], w)
				}
			}
		})
	}
}

func TestUnknownVariables(t *testing.T) {
	got := settings.Schema.Unknown([]string{
		"PATH=/bin", "GATEWAYS=1", "HOME=/root",
		"GATEWAY_REDIS_DB=1", "GATEWAY_JWT_SECRET_FILE=/run/secrets/jwt", "GATEWAY_UI_PASSWORD_FILE=/x", // known
		"GATEWAY_JWT_SECRETS=x",
		"GATEWAY_REDIS_ADR=x",
		"GATEWAY_API_KEY_FIEL=x",
		"GATEWAY_LOG_LEVLE=debug",
		"GATEWAY_MYSQL_DSN_FILE=/x", // no _FILE for the DSN
		"GATEWAY_COMPLETELY_DIFFERENT=1",
		"GATEWAY_JWT_SECRETS=again",
	})
	want := []config.Unknown{
		{Name: "GATEWAY_API_KEY_FIEL", Suggestion: "GATEWAY_API_KEY_FILE"},
		{Name: "GATEWAY_COMPLETELY_DIFFERENT", Suggestion: ""},
		{Name: "GATEWAY_JWT_SECRETS", Suggestion: "GATEWAY_JWT_SECRET"},
		{Name: "GATEWAY_LOG_LEVLE", Suggestion: "GATEWAY_LOG_LEVEL"},
		{Name: "GATEWAY_MYSQL_DSN_FILE", Suggestion: ""},
		{Name: "GATEWAY_REDIS_ADR", Suggestion: "GATEWAY_REDIS_ADDR"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unknown variables (-want +got):\n%s", diff)
	}
}

func TestConfigReferenceCommand(t *testing.T) {
	out, err := runCommand(t, nil, "config", "reference")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(settings.Reference()), out); diff != "" {
		t.Errorf("config reference (-want +got):\n%s", diff)
	}
	path := filepath.Join(t.TempDir(), "reference.yaml")
	if _, err := runCommand(t, nil, "config", "reference", "-o", path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != out {
		t.Errorf("config reference -o wrote %d bytes (%v), want the same as stdout", len(b), err)
	}
}

func TestVersionCommand(t *testing.T) {
	out, err := runCommand(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version: dev\n", "commit:  ", runtime.Version()} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

// TestConfigCheckHelps: settings the chosen modes ignore are warned about,
// a misspelt YAML key gets the closest key (or its section's keys), and
// durations take days.
func TestConfigCheckHelps(t *testing.T) {
	dir := t.TempDir()
	yaml := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	insecure := map[string]string{"GATEWAY_AUTH_MODE": "insecure"}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantOut string
		wantErr string
	}{
		{"ignored settings", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_JWT_SECRET": secret, "GATEWAY_REDIS_MASTER_NAME": "m"}, nil,
			"warning: setting ignored: jwt.secret is set but auth.mode is insecure: no token is verified, so it is ignored\n" +
				"warning: setting ignored: redis.master_name is set but redis.mode is standalone: it is used in sentinel mode only\nok\n", ""},
		{"yaml typo", insecure, []string{"-config", yaml("typo.yaml", "jwt:\n  secrte: x\n")}, "",
			`unknown key "jwt.secrte" (did you mean jwt.secret?)`},
		{"yaml key far from any", insecure, []string{"-config", yaml("far.yaml", "webhook:\n  endpoint_address: x\n")}, "",
			`unknown key "webhook.endpoint_address" (the keys of webhook: webhook.backoff, webhook.format, webhook.grace,`},
		{"days", map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_HISTORY_TTL": "7d", "GATEWAY_WEBHOOK_RETENTION": "1d12h"}, nil, "ok\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCommand(t, tt.env, append([]string{"config", "check"}, tt.args...)...)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
	l, err := settings.Load("", env(map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_HISTORY_TTL": "7d"}))
	if err != nil || l.History.TTL != 7*24*time.Hour {
		t.Errorf("history.ttl 7d = %v, %v; want 168h", l.History.TTL, err)
	}
}

// TestCommandsNeedOnlyWhatTheyUse: token needs the jwt settings only and
// migrate the database only, whatever else is missing or wrong; -h is not
// an error, and a mistake is one line that says how to list the flags.
func TestCommandsNeedOnlyWhatTheyUse(t *testing.T) {
	unrelated := map[string]string{"GATEWAY_REDIS_DB": "-1", "GATEWAY_WS_PING_PERIOD": "soon"}
	withSecret := map[string]string{"GATEWAY_JWT_SECRET": secret}
	maps.Copy(withSecret, unrelated)
	out, err := runCommand(t, withSecret, "token", "-user", "1001", "-ttl", "7d")
	if err != nil || strings.Count(out, ".") != 2 {
		t.Errorf("token without an auth mode, with unrelated bad settings: %q, %v", out, err)
	}
	withDB := map[string]string{"GATEWAY_MYSQL_DSN": testenv.MustDatabase(t)}
	maps.Copy(withDB, unrelated)
	if out, err := runCommand(t, withDB, "migrate"); err != nil || !strings.Contains(out, "database ready") {
		t.Errorf("migrate without an auth mode, with unrelated bad settings: %q, %v", out, err)
	}
	if _, err := runCommand(t, withSecret, "token", "-user", "1001", "-ttl", "soon"); err == nil ||
		strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "gateway token -h lists its flags") {
		t.Errorf("a bad flag: %v, want one line pointing at -h", err)
	}
	out, err = runCommand(t, nil, "serve", "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage of gateway serve:") || !strings.Contains(out, "-config") {
		t.Errorf("serve -h: %q, %v; want the flags and flag.ErrHelp (exit 0)", out, err)
	}
}
