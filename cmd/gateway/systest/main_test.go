// Package systest runs the gateway binary, built once per test process,
// as operators and clients meet it: over HTTP, gRPC and WebSocket, as a
// cluster of node processes, behind nginx, in a browser, with its CLI
// commands, and through network, Redis and MySQL faults.
package systest

import (
	"fmt"
	"os"
	"testing"

	"github.com/houseview/gateway/pkg/testenv"
)

// binary is the gateway binary of the tests.
var binary string

// secret is a valid JWT secret (jwt mode), apiKey a valid API key.
const (
	secret = "0123456789abcdef0123456789abcdef"
	apiKey = "test-api-key-0123456789"
)

func TestMain(m *testing.M) {
	var err error
	if binary, err = testenv.BuildGateway(); err != nil {
		fmt.Fprintf(os.Stderr, "building the gateway binary: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	testenv.RemoveGatewayBuilds()
	os.Exit(code)
}

// procEnv is the environment of a test node: its own database and Redis
// DB, loopback ports chosen by the kernel, JSON logs.
func procEnv(tb testing.TB, extra ...string) []string {
	tb.Helper()
	db, _ := testenv.MustRedisDB(tb)
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"GATEWAY_MYSQL_DSN=" + testenv.MustDatabase(tb),
		"GATEWAY_REDIS_ADDR=" + testenv.RedisAddr(),
		fmt.Sprintf("GATEWAY_REDIS_DB=%d", db),
		"GATEWAY_HTTP_ADDR=127.0.0.1:0",
		"GATEWAY_GRPC_ADDR=127.0.0.1:0",
		"GATEWAY_LOG_FORMAT=json",
		"GATEWAY_NODE_ID=test-node",
	}, extra...)
}

// MustStart runs `gateway serve` and waits until it listens and is ready;
// the node is killed when the test ends.
func MustStart(tb testing.TB, env []string) *testenv.Gateway {
	tb.Helper()
	return testenv.MustStartGateway(tb, binary, env)
}
