package systest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/houseview/gateway/pkg/testenv"
)

// readmeBlock returns the first sh block under the README heading, with
// each replacement applied (each must occur).
func readmeBlock(tb testing.TB, heading string, replacements ...[2]string) string {
	tb.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n## " + regexp.QuoteMeta(heading) + "\n.*?```sh\n(.*?)```").FindSubmatch(b)
	if m == nil {
		tb.Fatalf("README.md has no sh block under ## %s", heading)
	}
	block := string(m[1])
	for _, r := range replacements {
		if !strings.Contains(block, r[0]) {
			tb.Fatalf("the README's %q block lacks %s", heading, r[0])
		}
		block = strings.ReplaceAll(block, r[0], r[1])
	}
	return block
}

// curlStatuses makes every curl of a block print its HTTP status on a line
// of its own, "status=NNN".
const curlStatuses = `curl() { command curl -sS -w '\nstatus=%{http_code}\n' "$@"; }` + "\n"

// runREADMEBlock runs block with bash -e in dir with env, kills whatever it
// left running in the background, and checks that every curl answered
// 2xx. It returns what the block printed.
func runREADMEBlock(t *testing.T, dir string, env []string, block string) string {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-c", curlStatuses+block)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("the README's commands: %v\n%s", err, out)
	}
	statuses := regexp.MustCompile(`status=(\d+)`).FindAllStringSubmatch(string(out), -1)
	if len(statuses) == 0 {
		t.Fatalf("no curl ran:\n%s", out)
	}
	for _, s := range statuses {
		if !strings.HasPrefix(s[1], "2") {
			t.Errorf("a curl answered %s:\n%s", s[1], out)
		}
	}
	return string(out)
}

// TestREADMECurlInsecure runs the README's insecure-mode commands as
// written against a node configured as `make run`'s config/dev.yaml (on
// its own port, database and Redis DB): booking, confirming, cancelling,
// listing, recommending and pushing with the development API key.
func TestREADMECurlInsecure(t *testing.T) {
	dev := MustStart(t, procEnv(t, "GATEWAY_AUTH_MODE=insecure", "GATEWAY_API_KEY=dev-api-key-0123456789", "GATEWAY_MYSQL_SEED_DEMO=true"))
	if b, err := os.ReadFile("../../../config/dev.yaml"); err != nil || !strings.Contains(string(b), `api_key: "dev-api-key-0123456789"`) {
		t.Fatalf("config/dev.yaml (%v) lacks the README's API key", err)
	}
	block := readmeBlock(t, "curl, insecure mode (`make run`)", [2]string{"http://localhost:8080", dev.HTTPURL})
	out := runREADMEBlock(t, t.TempDir(), os.Environ(), block)
	for _, want := range []string{`"status":"confirmed"`, `"status":"cancelled"`, `"results":[{"user_id":1001`} {
		if !strings.Contains(out, want) {
			t.Errorf("the README's commands printed no %s:\n%s", want, out)
		}
	}
}

// TestREADMECurlJWT runs the README's jwt-mode commands as written, with
// `go run ./cmd/gateway` standing for the built binary and `make run` for
// its serve with config/dev.yaml on a free port.
func TestREADMECurlJWT(t *testing.T) {
	port := testenv.MustFreePort(t)
	config, err := filepath.Abs("../../../config/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), procEnv(t, fmt.Sprintf("GATEWAY_HTTP_ADDR=127.0.0.1:%d", port))...)
	block := readmeBlock(t, "curl, jwt mode",
		[2]string{"go run ./cmd/gateway", binary},
		[2]string{"make run &", binary + " serve -config " + config + " >serve.log 2>&1 &"},
		[2]string{"http://localhost:8080", fmt.Sprintf("http://127.0.0.1:%d", port)})
	out := runREADMEBlock(t, t.TempDir(), env, block)
	if !strings.Contains(out, `"status":"pending"`) {
		t.Errorf("the README's jwt booking printed no pending reservation:\n%s", out)
	}
}
