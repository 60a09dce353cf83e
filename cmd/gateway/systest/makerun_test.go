package systest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// devScript runs .ci/dev.sh (what `make run` runs after building) with the
// test binary and config/dev.yaml in env, and returns its output lines as
// they come; the node it starts is killed with the test.
func devScript(t *testing.T, env []string) (<-chan string, *exec.Cmd) {
	t.Helper()
	config, err := filepath.Abs("../../../config/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", ".ci/dev.sh", binary, config)
	cmd.Dir = "../../.."
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		for s := bufio.NewScanner(out); s.Scan(); {
			lines <- s.Text()
		}
	}()
	return lines, cmd
}

// waitLine returns the first line containing want, failing after 60 s or
// when the output ends first.
func waitLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	var seen []string
	deadline := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the output ended without %q:\n%s", want, strings.Join(seen, "\n"))
			}
			if strings.Contains(line, want) {
				return line
			}
			seen = append(seen, line)
		case <-deadline:
			t.Fatalf("no %q within 60 s:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

// TestMakeRunUsesWhatItsSettingsName runs `make run`'s script as a user
// would: with settings at the local addresses that answer it installs
// nothing, prints the API key and a push command that works against the
// node it starts; with Redis named elsewhere and not answering it only
// checks it, says so, installs nothing and stops with a clear error.
func TestMakeRunUsesWhatItsSettingsName(t *testing.T) {
	port := testenv.MustFreePort(t)
	env := append(os.Environ(), procEnv(t, fmt.Sprintf("GATEWAY_HTTP_ADDR=127.0.0.1:%d", port), "GATEWAY_GRPC_ADDR=127.0.0.1:0")...)
	lines, _ := devScript(t, env)
	key := waitLine(t, lines, "API key for /api/push")
	if !strings.HasSuffix(key, "dev-api-key-0123456789") {
		t.Errorf("make run printed %q, want the development API key", key)
	}
	waitLine(t, lines, "gateway listening")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testenv.MustWaitReady(t, base)
	req, _ := http.NewRequest("POST", base+"/api/push", strings.NewReader(`{"user_ids":[1001],"title":"t","content":"from make run"}`))
	req.Header.Set("Authorization", "Bearer dev-api-key-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("push with the printed key: %d, want 200", resp.StatusCode)
	}

	closed := testenv.MustFreePort(t)
	elsewhere := append(os.Environ(), procEnv(t, fmt.Sprintf("GATEWAY_REDIS_ADDR=127.0.0.2:%d", closed))...)
	lines, cmd := devScript(t, elsewhere)
	waitLine(t, lines, fmt.Sprintf("Redis (standalone) at 127.0.0.2:%d: checking it, installing nothing", closed))
	waitLine(t, lines, "do not reach MySQL or Redis")
	for range lines {
	}
	if err := cmd.Wait(); err == nil {
		t.Error("make run went on with a Redis that does not answer")
	}
}
