package systest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/jwtauth"
)

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
	if code, body := call(t, "GET", n.HTTPURL+"/api/reservations?role=tenant", token, ""); code != 200 {
		t.Errorf("list with the token: %d %v", code, body)
	}
	if code, _ := call(t, "GET", n.HTTPURL+"/api/reservations?role=tenant", "", ""); code != 401 {
		t.Errorf("list without a token: %d, want 401 (jwt mode)", code)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "api_key"))
	body := `{"user_ids":[1001],"title":"t","content":"c"}`
	if code, out := call(t, "POST", n.HTTPURL+"/api/push", strings.TrimSpace(string(key)), body); code != 200 {
		t.Errorf("push with the file's api key: %d %v", code, out)
	}
}
