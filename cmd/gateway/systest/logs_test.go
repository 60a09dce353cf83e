package systest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestRedisClientLogsAreTheNodes runs a node whose Redis does not answer
// with JSON logs: go-redis's complaints about it come out as the node's
// JSON lines (component redis), and nothing else is printed.
func TestRedisClientLogsAreTheNodes(t *testing.T) {
	env := procEnv(t, "GATEWAY_AUTH_MODE=insecure", fmt.Sprintf("GATEWAY_REDIS_ADDR=127.0.0.1:%d", testenv.MustFreePort(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		var line map[string]any
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Fatalf("a line that is not the node's JSON: %q", lines.Text())
		}
		if line["component"] == "redis" {
			if msg, _ := line["msg"].(string); !strings.Contains(msg, "connection refused") || line["level"] != "WARN" {
				t.Errorf("go-redis line %v, want a WARN naming the refused connection", line)
			}
			return
		}
	}
	t.Fatalf("the node ended (%v) without a go-redis line", lines.Err())
}
