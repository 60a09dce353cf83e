package testenv

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"testing"
)

// fakeGatewayEnv makes the test binary act as a gateway node (TestMain):
// "serve" listens, logs like a node and stops on SIGTERM; "fail" writes to
// stderr and exits 3 at once.
const fakeGatewayEnv = "TESTENV_FAKE_GATEWAY"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeGatewayEnv); mode != "" {
		os.Exit(fakeGateway(mode))
	}
	os.Exit(m.Run())
}

// fakeGateway serves GET /readyz (503 for the first two requests, then
// 200) on GATEWAY_HTTP_ADDR (default a free loopback port), logs the
// "gateway listening" JSON line and, on SIGTERM, "stopped".
func fakeGateway(mode string) int {
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "gateway: config broken")
		return 3
	}
	addr := os.Getenv("GATEWAY_HTTP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var asked atomic.Int64
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if asked.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	logLine(map[string]any{"level": "INFO", "msg": "starting"})
	logLine(map[string]any{"level": "INFO", "msg": "gateway listening", "http_addr": ln.Addr().String(), "grpc_addr": "127.0.0.1:1"})
	<-term
	logLine(map[string]any{"level": "INFO", "msg": "stopped"})
	return 0
}

func logLine(rec map[string]any) {
	b, _ := json.Marshal(rec)
	os.Stdout.Write(append(b, '\n'))
}

// fakeGatewayBinary is the test binary, which acts as a gateway with env.
func fakeGatewayBinary(tb testing.TB) string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return exe
}
