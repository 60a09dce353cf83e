package systest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJSClient runs the JavaScript client's tests (web/test/*.test.js) with
// Node's test runner. They start and kill real gateway nodes themselves
// (this binary, the env of a node in GATEWAY_JS_NODE_ENV: this test's
// database and Redis DB, insecure mode, an API key) to check resume across
// a SIGKILL, a drain, a stream reset, a slow and a half-open network, with
// every notification received exactly once.
func TestJSClient(t *testing.T) {
	node, flags := mustNode(t)
	env := sharedEnv(t, "GATEWAY_WS_RECONNECT_BASE=100ms", "GATEWAY_WS_RECONNECT_MAX=1s")
	// Migrate once, so that the nodes the tests start find the schema in place.
	migrate := exec.Command(binary, "migrate")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	nodeEnv, _ := json.Marshal(vars)

	files, err := filepath.Glob("../../../web/test/*.test.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no web/test/*.test.js: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// One file at a time: each starts several nodes, and the machine may be small.
	args := append(flags, "--test", "--test-reporter=spec", "--test-concurrency=1")
	cmd := exec.CommandContext(ctx, node, append(args, files...)...)
	cmd.Env = append(os.Environ(), "GATEWAY_JS_BIN="+binary, "GATEWAY_JS_NODE_ENV="+string(nodeEnv), "NO_COLOR=1")
	// Its own process group, so that whatever it leaves behind can be killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("node --test failed after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, out)
	}
	t.Logf("node --test passed in %s:\n%s", time.Since(start).Round(time.Millisecond), out)
}

// mustNode finds Node.js 20 or newer, with the flags that give it the
// global WebSocket (Node 20 needs --experimental-websocket; 22 has it).
func mustNode(tb testing.TB) (string, []string) {
	tb.Helper()
	const install = "the JavaScript client's tests need Node.js 20 or newer on PATH " +
		"(`make services` installs it as root: NodeSource's node_20.x on Debian 12, whose own nodejs is 18)"
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("%s: %v", install, err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		tb.Fatalf("%s: %s --version: %v", install, node, err)
	}
	m := regexp.MustCompile(`^v(\d+)\.`).FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		tb.Fatalf("%s: %s --version printed %q", install, node, out)
	}
	if major, _ := strconv.Atoi(m[1]); major < 20 {
		tb.Fatalf("%s: %s is %s", install, node, strings.TrimSpace(string(out)))
	}
	for _, flags := range [][]string{nil, {"--experimental-websocket"}} {
		probe := exec.Command(node, append(flags, "-e", "if (typeof WebSocket !== 'function') process.exit(3)")...)
		if probe.Run() == nil {
			return node, flags
		}
	}
	tb.Fatalf("%s: %s (%s) has no global WebSocket, even with --experimental-websocket", install, node, strings.TrimSpace(string(out)))
	return "", nil
}

// TestJSClientInBrowser runs the client in headless Chromium, imported from
// the node that serves the page: it connects to the page's own host, keeps
// its position in localStorage, and when that node drains (1001) resumes
// on the next URL with nothing lost or repeated.
func TestJSClientInBrowser(t *testing.T) {
	// The page comes from node a: node b must allow its origin.
	env := sharedEnv(t, "GATEWAY_WS_RECONNECT_BASE=100ms", "GATEWAY_WS_RECONNECT_MAX=1s", "GATEWAY_WS_ALLOWED_ORIGINS=*")
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	page := MustBrowser(t)
	page.Do(t, chromedp.Navigate(a.HTTPURL+"/web/"))
	start := fmt.Sprintf(`window.seen = []; window.events = [];
		import('/web/gateway-client.js').then(({ connect }) => {
			window.gc = connect({ url: [location.origin, %q], userId: 401, storage: localStorage, pingInterval: 200 });
			gc.on('notification', (m) => seen.push(m.seq));
			gc.on('connected', (x) => events.push('connected ' + x.nodeId));
			gc.on('disconnected', (x) => events.push('disconnected ' + x.code));
			gc.on('error', (e) => events.push('error ' + e.code));
			// What the client did, in the failure messages of page.Wait.
			const log = document.getElementById('log');
			const show = () => { log.textContent = JSON.stringify({ state: gc.state, seen, events }); };
			for (const e of ['notification', 'connected', 'disconnected', 'reset', 'error']) gc.on(e, show);
		}); true`, b.HTTPURL)
	ctx, cancel := context.WithTimeout(page.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](start)); err != nil {
		t.Fatalf("starting the client in the page: %v", err)
	}
	page.Wait(t, `window.gc !== undefined && gc.state === 'open' && gc.nodeId === 'a'`)
	for i := range 5 {
		if err := pushRetrying(b.HTTPURL, 401, fmt.Sprintf("browser-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	page.Wait(t, `seen.join() === '1,2,3,4,5'`)
	page.Wait(t, `JSON.parse(localStorage.getItem('gateway:pos:401')).seq === 5`)

	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("node a exit: %v", err)
	}
	for i := 5; i < 10; i++ {
		if err := pushRetrying(b.HTTPURL, 401, fmt.Sprintf("browser-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	page.Wait(t, `seen.join() === '1,2,3,4,5,6,7,8,9,10'`)
	page.Wait(t, `events.join() === 'connected a,disconnected 1001,connected b'`)
	page.Wait(t, `JSON.parse(localStorage.getItem('gateway:pos:401')).seq === 10`)
	page.NoExceptions(t)
}
