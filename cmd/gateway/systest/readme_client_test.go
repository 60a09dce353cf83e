package systest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// readmeClient returns the README's JavaScript client example as a script
// for a page of base: the module imported dynamically, the example's URLs
// replaced by ws, fetchToken answering token, and console.log captured in
// window.logged.
func readmeClient(tb testing.TB, ws, token string) string {
	tb.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Clients.*?```js\n(.*?)```").FindSubmatch(b)
	if m == nil {
		tb.Fatal("README.md has no js block under ## Clients")
	}
	code := string(m[1])
	for _, r := range [][2]string{
		{"import { connect } from '/web/gateway-client.js';", "const { connect } = await import('/web/gateway-client.js');"},
		{"['ws://gw-1:8080', 'ws://gw-2:8080']", fmt.Sprintf("[%q]", ws)},
	} {
		if !strings.Contains(code, r[0]) {
			tb.Fatalf("the README's client lacks %s", r[0])
		}
		code = strings.Replace(code, r[0], r[1], 1)
	}
	return fmt.Sprintf(`window.logged = [];
console.log = (...a) => window.logged.push(a.join(' '));
window.fetchToken = async () => %q;
(async () => {
%s
})();
true`, token, code)
}

// TestREADMEClient runs the README's ten-line JavaScript client in Chromium
// against a real jwt node: it takes two messages, follows a reset when
// Redis loses the stream (FLUSHDB), and after its node drains resumes on
// the node's successor with its position, getting what was published
// meanwhile once.
func TestREADMEClient(t *testing.T) {
	env := procEnv(t, "GATEWAY_JWT_SECRET="+secret, "GATEWAY_API_KEY="+apiKey,
		"GATEWAY_WS_RECONNECT_MAX=1s", "GATEWAY_WS_DRAIN_WINDOW=200ms")
	a := MustStart(t, withNode(env, "a"))
	cmd := exec.Command(binary, "token", "-user", "1001", "-ttl", "1h")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gateway token: %v", err)
	}
	token := strings.TrimSpace(string(out))
	push := func(base, title string) {
		t.Helper()
		body := fmt.Sprintf(`{"user_ids":[1001],"title":%q,"content":"c"}`, title)
		if code, out := call(t, "POST", base+"/api/push", apiKey, body); code != 200 {
			t.Fatalf("push %s: %d %v", title, code, out)
		}
	}

	page := MustBrowser(t)
	page.Do(t, chromedp.Navigate(a.HTTPURL+"/web/"))
	script := readmeClient(t, "ws"+strings.TrimPrefix(a.HTTPURL, "http"), token)
	if _, err := chromedp.Run(page.ctx, chromedp.Evaluate[bool](script)); err != nil {
		t.Fatalf("running the README's client: %v", err)
	}
	page.Wait(t, `localStorage.getItem('gateway:pos:1001') !== null`)
	const notes = `window.logged.filter((l) => / m\d c$/.test(l)).length`
	push(a.HTTPURL, "m1")
	push(a.HTTPURL, "m2")
	page.Wait(t, notes+` === 2`)

	if err := redisFor(t, env).FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	push(a.HTTPURL, "m3")
	page.Wait(t, notes+` === 3`)

	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("node a exit: %v", err)
	}
	b := MustStart(t, append(withNode(env, "b"), "GATEWAY_HTTP_ADDR="+strings.TrimPrefix(a.HTTPURL, "http://")))
	push(b.HTTPURL, "m4")
	page.Wait(t, notes+` === 4`)
	push(b.HTTPURL, "m5") // nothing came twice before it
	page.Wait(t, notes+` === 5`)
	page.NoExceptions(t)

	got, err := chromedp.Run(page.ctx, chromedp.Evaluate[[]string](`window.logged.map((l) => l.replace(/epoch \w+$/, 'epoch E'))`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1 m1 c", "2 m2 c", "stream recreated, epoch E", "1 m3 c", "2 m4 c", "3 m5 c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("what the README's client logged (-want +got):\n%s", diff)
	}
}
