package main

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/pkg/jwtauth"
)

// TestSecretsInit: the first run creates both files (random hex, 0600,
// distinct), a second keeps them, a lost one is created again alone, an
// empty one is an error; nothing secret is printed.
func TestSecretsInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	read := func() map[string]string {
		out := map[string]string{}
		for _, s := range generatedSecrets {
			b, err := os.ReadFile(filepath.Join(dir, s.name))
			if err == nil {
				out[s.name] = strings.TrimSpace(string(b))
			}
		}
		return out
	}
	lines := func(verbs ...string) string {
		var b strings.Builder
		for i, s := range generatedSecrets {
			b.WriteString(verbs[i] + " " + filepath.Join(dir, s.name) + " (" + EnvName(s.key) + "_FILE)\n")
		}
		return b.String()
	}

	out, err := runCommand(t, nil, "secrets", "init", "-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("created", "created"), out); diff != "" {
		t.Errorf("first run output (-want +got):\n%s", diff)
	}
	first := read()
	for _, s := range generatedSecrets {
		v := first[s.name]
		if raw, err := hex.DecodeString(v); err != nil || len(raw) != s.size {
			t.Errorf("%s: %d hex characters (%v), want %d random bytes", s.name, len(v), err, s.size)
		}
		if strings.Contains(out, v) {
			t.Errorf("output shows the content of %s", s.name)
		}
		if fi, err := os.Stat(filepath.Join(dir, s.name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", s.name, fi.Mode().Perm(), err)
		}
	}
	if first["jwt_secret"] == first["api_key"] {
		t.Error("jwt_secret and api_key are equal")
	}

	out, err = runCommand(t, nil, "secrets", "init", "-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("kept", "kept"), out); diff != "" {
		t.Errorf("second run output (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, read()); diff != "" {
		t.Errorf("second run changed the secrets (-want +got):\n%s", diff)
	}

	os.Remove(filepath.Join(dir, "api_key"))
	if out, err = runCommand(t, nil, "secrets", "init", "-dir", dir); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("kept", "created"), out); diff != "" {
		t.Errorf("run after losing api_key (-want +got):\n%s", diff)
	}
	third := read()
	if third["jwt_secret"] != first["jwt_secret"] || third["api_key"] == first["api_key"] || third["api_key"] == "" {
		t.Error("the jwt secret changed, or the api key was not made anew")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(generatedSecrets) {
		t.Errorf("dir holds %d entries, want only the secrets", len(entries))
	}

	if err := os.WriteFile(filepath.Join(dir, "jwt_secret"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(t, nil, "secrets", "init", "-dir", dir); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty jwt_secret: %v, want an error saying it is empty", err)
	}
	if _, err := runCommand(t, nil, "secrets", "init"); err == nil {
		t.Error("secrets init without -dir succeeded")
	}
}

// TestSecretsInitFeedsTokenAndServe: the files of `gateway secrets init`
// are the _FILE inputs of a jwt node and of `gateway token`: the token the
// command prints is accepted by the node, the API key too.
func TestSecretsInitFeedsTokenAndServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	if out, err := exec.Command(binary, "secrets", "init", "-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("secrets init: %v\n%s", err, out)
	}
	env := procEnv(t, "GATEWAY_JWT_SECRET_FILE="+filepath.Join(dir, "jwt_secret"), "GATEWAY_API_KEY_FILE="+filepath.Join(dir, "api_key"))
	n := MustStart(t, env)

	cmd := exec.Command(binary, "token", "-user", "1001", "-ttl", "1h")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gateway token: %v", err)
	}
	token := strings.TrimSpace(string(out))
	secret, _ := os.ReadFile(filepath.Join(dir, "jwt_secret"))
	if user, err := jwtauth.NewVerifier([]byte(strings.TrimSpace(string(secret))), time.Now).Verify(token); err != nil || user != 1001 {
		t.Fatalf("token does not verify with the file's secret: user %d, %v", user, err)
	}
	if code, body := call(t, "GET", n.httpURL+"/api/reservations?role=tenant", token, ""); code != 200 {
		t.Errorf("list with the token: %d %v", code, body)
	}
	if code, _ := call(t, "GET", n.httpURL+"/api/reservations?role=tenant", "", ""); code != 401 {
		t.Errorf("list without a token: %d, want 401 (jwt mode)", code)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "api_key"))
	body := `{"user_ids":[1001],"title":"t","content":"c"}`
	if code, out := call(t, "POST", n.httpURL+"/api/push", strings.TrimSpace(string(key)), body); code != 200 {
		t.Errorf("push with the file's api key: %d %v", code, out)
	}
}
