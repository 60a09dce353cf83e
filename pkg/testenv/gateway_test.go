package testenv

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func fakeEnv(mode string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), fakeGatewayEnv + "=" + mode}
}

// TestMustStartGatewayReadsTheListeningLine: the addresses come from the
// node's log line, readiness waits through 503s, SIGTERM stops the node and
// the log is kept in memory.
func TestMustStartGatewayReadsTheListeningLine(t *testing.T) {
	g := MustStartGateway(t, fakeGatewayBinary(t), fakeEnv("serve"))
	if g.GRPCAddr != "127.0.0.1:1" || !strings.HasPrefix(g.HTTPURL, "http://127.0.0.1:") {
		t.Fatalf("addresses %q %q", g.HTTPURL, g.GRPCAddr)
	}
	resp, err := http.Get(g.HTTPURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("readyz after MustStartGateway: %d", resp.StatusCode)
	}
	if err := g.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !g.HasExited() || !strings.Contains(g.Logs(), `"msg":"stopped"`) {
		t.Errorf("exited %v, log:\n%s", g.HasExited(), g.Logs())
	}
}

// TestStartGatewayOnGivenPorts: with ports the node is told where to
// listen and the launcher does not need its log line; the log goes to a
// file; Stop ends it within the grace.
func TestStartGatewayOnGivenPorts(t *testing.T) {
	httpPort := MustFreePort(t)
	logFile := filepath.Join(t.TempDir(), "node.log")
	g, err := StartGateway(GatewayOptions{Name: "node a", Binary: fakeGatewayBinary(t), Env: fakeEnv("serve"),
		LogFile: logFile, HTTPPort: httpPort, GRPCPort: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	got := []string{g.HTTPURL, g.GRPCAddr, g.LogFile()}
	want := []string{"http://127.0.0.1:" + strconv.Itoa(httpPort), "127.0.0.1:2", logFile}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addresses and log file (-want +got):\n%s", diff)
	}
	if err := g.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), `"msg":"stopped"`) || g.Logs() != string(b) {
		t.Errorf("log file:\n%s", b)
	}
	if tail := g.LogTail(17); tail != `"msg":"stopped"}` {
		t.Errorf("LogTail(17) = %q", tail)
	}
}

// TestStartGatewayThatExits: a node that exits before listening makes
// WaitReady fail at once, with its stderr.
func TestStartGatewayThatExits(t *testing.T) {
	g, err := StartGateway(GatewayOptions{Name: "node b", Binary: fakeGatewayBinary(t), Env: fakeEnv("fail")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = g.WaitReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "node b exited before listening (exit status 3)") ||
		!strings.Contains(err.Error(), "gateway: config broken") {
		t.Fatalf("WaitReady: %v", err)
	}
	if ctx.Err() != nil {
		t.Error("WaitReady waited for its deadline")
	}
}

// TestProcessStopKillsAfterTheGrace: a process that ignores SIGTERM is
// killed once the grace has passed.
func TestProcessStopKillsAfterTheGrace(t *testing.T) {
	p, err := StartProcess(ProcessOptions{Name: "stubborn", Path: "/bin/sh",
		Args: []string{"-c", `trap "" TERM; echo up; exec sleep 30`}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	for !strings.Contains(p.Logs(), "up") { // the trap is set
		select {
		case <-p.Exited():
			t.Fatalf("exited: %v", p.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	err = p.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stubborn did not stop within 200ms after SIGTERM: killed") {
		t.Fatalf("Stop: %v", err)
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.ExitCode() != -1 {
		t.Errorf("Err() = %v, want killed by a signal", p.Err())
	}
}
