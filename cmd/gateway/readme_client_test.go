package main

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

// readmeClient returns the README's JavaScript client without its example
// call.
func readmeClient(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## A WebSocket client.*?```js\n(.*?)```").FindSubmatch(b)
	if m == nil {
		tb.Fatal("README.md has no js block under ## A WebSocket client")
	}
	var code []string
	for line := range strings.Lines(string(m[1])) {
		if !strings.HasPrefix(line, "connect('ws://localhost:8080'") {
			code = append(code, line)
		}
	}
	return strings.Join(code, "")
}

// TestREADMEClient runs the README's client in Chromium against a real jwt
// node: it takes two messages, follows a reset when Redis loses the stream
// (FLUSHDB), and after its node drains resumes on the node's successor
// with its position, getting what was published meanwhile once.
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
	page.Do(t, chromedp.Navigate(a.httpURL+"/web/"))
	script := "window.got = [];\n" + readmeClient(t) + fmt.Sprintf(
		"\nconnect(%q, %q, (m) => window.got.push(m));\ntrue", "ws"+strings.TrimPrefix(a.httpURL, "http"), token)
	if _, err := chromedp.Run(page.ctx, chromedp.Evaluate[bool](script)); err != nil {
		t.Fatalf("running the README's client: %v", err)
	}
	page.Wait(t, `JSON.parse(localStorage.getItem('pos') || '{}').epoch !== undefined`)
	push(a.httpURL, "m1")
	push(a.httpURL, "m2")
	page.Wait(t, `window.got.length === 2`)

	if err := redisFor(t, env).FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	push(a.httpURL, "m3")
	page.Wait(t, `window.got.length === 3`)

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-a.exited; err != nil {
		t.Fatalf("node a exit: %v", err)
	}
	b := MustStart(t, append(withNode(env, "b"), "GATEWAY_HTTP_ADDR="+strings.TrimPrefix(a.httpURL, "http://")))
	push(b.httpURL, "m4")
	page.Wait(t, `window.got.length === 4`)
	push(b.httpURL, "m5") // nothing came twice before it
	page.Wait(t, `window.got.length === 5`)
	page.NoExceptions(t)

	got, err := chromedp.Run(page.ctx, chromedp.Evaluate[[]string](`window.got.map((m) => m.title + ' ' + m.seq)`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"m1 1", "m2 2", "m3 1", "m4 2", "m5 3"}, got); diff != "" {
		t.Errorf("messages the README's client processed (-want +got):\n%s", diff)
	}
	epochs, err := chromedp.Run(page.ctx, chromedp.Evaluate[[]string](`window.got.map((m) => m.epoch)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 5 || epochs[0] != epochs[1] || epochs[1] == epochs[2] || epochs[2] != epochs[4] {
		t.Errorf("epochs %v: want one before the FLUSHDB and a new one after", epochs)
	}
}
