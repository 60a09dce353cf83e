package systest

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebPageThroughNginx runs the compose deployment's shape outside
// containers: secrets from `gateway secrets init` read through _FILE by two
// jwt-mode nodes behind the repo's nginx config on a port that is not 80
// or 8080. Chromium loads /web/ through nginx (so its WebSocket's Origin
// carries that port), connects with a token from `gateway token`, and
// shows a push sent through nginx with the API key; nginx's access log
// has the handshake but no token.
func TestWebPageThroughNginx(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	if out, err := exec.Command(binary, "secrets", "init", "-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("secrets init: %v\n%s", err, out)
	}
	env := procEnv(t, "GATEWAY_JWT_SECRET_FILE="+filepath.Join(dir, "jwt_secret"),
		"GATEWAY_API_KEY_FILE="+filepath.Join(dir, "api_key"), "GATEWAY_HTTP_TRUSTED_PROXIES=127.0.0.1")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	lb := MustStartNginx(t, a, b)
	if u, _ := url.Parse(lb.HTTPURL); u.Port() == "80" || u.Port() == "8080" {
		t.Fatalf("nginx on default port %s", u.Port())
	}
	cmd := exec.Command(binary, "token", "-user", "1001", "-ttl", "1h")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gateway token: %v", err)
	}
	token := strings.TrimSpace(string(out))

	page := MustBrowser(t)
	page.Do(t, chromedp.Navigate(lb.HTTPURL+"/web/"),
		chromedp.SetValue(chromedp.ID("token"), token), chromedp.Click(chromedp.ID("connect")))
	page.Wait(t, `document.getElementById('state').textContent.includes('connected') && ['a', 'b'].includes(document.getElementById('node-id').textContent)`)

	key, err := os.ReadFile(filepath.Join(dir, "api_key"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"user_ids":[1001],"title":"through nginx","content":"hello"}`
	if code, out := call(t, "POST", lb.HTTPURL+"/api/push", strings.TrimSpace(string(key)), body); code != 200 {
		t.Fatalf("push through nginx: %d %v", code, out)
	}
	page.Wait(t, `[...document.querySelectorAll('#messages li')].some(li => li.textContent.includes('through nginx'))`)
	page.NoExceptions(t)

	// nginx logs the WebSocket when it ends.
	page.Do(t, chromedp.Click(chromedp.ID("disconnect")))
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(lb.accessLog.String(), `"GET /ws HTTP/1.1" 101 `) {
		if time.Now().After(deadline) {
			t.Fatalf("nginx access log has no WebSocket line:\n%s", lb.accessLog)
		}
		time.Sleep(20 * time.Millisecond)
	}
	log := lb.accessLog.String()
	if !strings.Contains(log, `"GET /web/ HTTP/1.1" 200 `) {
		t.Errorf("nginx access log lacks the page:\n%s", log)
	}
	if strings.Contains(log, "token=") || strings.Contains(log, token) {
		t.Errorf("nginx access log shows the token:\n%s", log)
	}
}
