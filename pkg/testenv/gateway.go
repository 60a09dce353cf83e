package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GatewayOptions say how to start `gateway serve`.
type GatewayOptions struct {
	Name   string   // names the node in errors (default "gateway")
	Binary string   // the gateway binary (BuildGateway)
	Env    []string // the node's whole environment
	// LogFile, when set, receives the node's stdout and stderr; without it
	// they are kept in memory (Logs).
	LogFile string
	// HTTPPort and GRPCPort, when set (both), are the loopback ports the
	// node listens on: GATEWAY_HTTP_ADDR and GATEWAY_GRPC_ADDR are appended
	// to Env. Without them the node's addresses are read from the
	// "gateway listening" line of its log, which needs JSON logs
	// (GATEWAY_LOG_FORMAT=json) at level info or below.
	HTTPPort, GRPCPort int
}

// Gateway is a running `gateway serve`.
type Gateway struct {
	*Process
	// HTTPURL ("http://host:port") and GRPCAddr ("host:port") are set from
	// the start when the ports were given, else once WaitReady returned nil.
	HTTPURL  string
	GRPCAddr string
}

// StartGateway starts `gateway serve` as opts say; WaitReady waits until it
// serves.
func StartGateway(opts GatewayOptions) (*Gateway, error) {
	if opts.Name == "" {
		opts.Name = "gateway"
	}
	g := &Gateway{}
	env := opts.Env
	if opts.HTTPPort != 0 && opts.GRPCPort != 0 {
		httpAddr, grpcAddr := "127.0.0.1:"+strconv.Itoa(opts.HTTPPort), "127.0.0.1:"+strconv.Itoa(opts.GRPCPort)
		env = append(env[:len(env):len(env)], "GATEWAY_HTTP_ADDR="+httpAddr, "GATEWAY_GRPC_ADDR="+grpcAddr)
		g.HTTPURL, g.GRPCAddr = "http://"+httpAddr, grpcAddr
	}
	p, err := StartProcess(ProcessOptions{Name: opts.Name, Path: opts.Binary, Args: []string{"serve"}, Env: env, LogFile: opts.LogFile})
	if err != nil {
		return nil, err
	}
	g.Process = p
	return g, nil
}

// WaitReady waits until the node listens and GET /readyz answers 200. It
// fails when the node exits first or ctx ends, with the end of its log.
func (g *Gateway) WaitReady(ctx context.Context) error {
	for g.HTTPURL == "" {
		if httpAddr, grpcAddr, ok := listening(g.Logs()); ok {
			g.HTTPURL, g.GRPCAddr = "http://"+httpAddr, grpcAddr
			break
		}
		select {
		case <-g.Exited():
			return fmt.Errorf("%s exited before listening (%v):\n%s", g.Name, g.Err(), g.LogTail(4000))
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen: %w\n%s", g.Name, context.Cause(ctx), g.LogTail(4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := waitReady(ctx, g.HTTPURL, g.Exited()); err != nil {
		if g.HasExited() {
			return fmt.Errorf("%s exited (%v):\n%s", g.Name, g.Err(), g.LogTail(4000))
		}
		return fmt.Errorf("%s not ready: %w\n%s", g.Name, err, g.LogTail(4000))
	}
	return nil
}

// listening returns the addresses of the node's "gateway listening" log
// line, if log has it.
func listening(log string) (httpAddr, grpcAddr string, ok bool) {
	for line := range strings.Lines(log) {
		var rec struct {
			Msg      string `json:"msg"`
			HTTPAddr string `json:"http_addr"`
			GRPCAddr string `json:"grpc_addr"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gateway listening" {
			return rec.HTTPAddr, rec.GRPCAddr, true
		}
	}
	return "", "", false
}

// MustStartGateway starts `gateway serve` of binary with env, keeping its
// log in memory, and waits until it is ready (within 90 s: a cold start on
// a busy machine migrates the database first). The node is killed when the
// test ends.
func MustStartGateway(tb testing.TB, binary string, env []string) *Gateway {
	tb.Helper()
	g, err := StartGateway(GatewayOptions{Binary: binary, Env: env})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = g.Kill() // an error once it exited
		<-g.Exited()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := g.WaitReady(ctx); err != nil {
		tb.Fatal(err)
	}
	return g
}

// MustWaitReady polls GET base/readyz until it answers 200, and fails the
// test after 30 s.
func MustWaitReady(tb testing.TB, base string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitReady(ctx, base, nil); err != nil {
		tb.Fatalf("%s/readyz not 200: %v", base, err)
	}
}

// waitReady polls GET base/readyz every 20 ms until it answers 200, ctx
// ends or stop is closed.
func waitReady(ctx context.Context, base string, stop <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s/readyz: %s", base, resp.Status)
		}
		last = err
		select {
		case <-tick.C:
		case <-stop:
			return fmt.Errorf("stopped waiting (last: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", context.Cause(ctx), last)
		}
	}
}

// GatewayPackage is the import path of the gateway's main package.
const GatewayPackage = "github.com/houseview/gateway/cmd/gateway"

// builds are the gateway binaries this process built, by their go build
// flags, in one temporary directory.
var builds struct {
	mu    sync.Mutex
	dir   string
	built map[string]build
}

type build struct {
	path string
	err  error
}

// BuildGateway builds the gateway binary with go build and extra flags
// (e.g. "-ldflags", "-X main.version=v1.2.3") into a temporary directory
// and returns its path. Each set of flags is built once per process: later
// calls return the same binary (or the same error). go runs in the current
// directory, which must lie inside the module (a test's package directory
// does). RemoveGatewayBuilds removes the binaries.
func BuildGateway(flags ...string) (string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	key := strings.Join(flags, "\x00")
	if b, ok := builds.built[key]; ok {
		return b.path, b.err
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "gateway-bin-")
		if err != nil {
			return "", err
		}
		builds.dir, builds.built = dir, map[string]build{}
	}
	name := "gateway"
	if n := len(builds.built); n > 0 {
		name += "-" + strconv.Itoa(n)
	}
	b := build{path: filepath.Join(builds.dir, name)}
	args := append(append([]string{"build", "-o", b.path}, flags...), GatewayPackage)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		b = build{err: fmt.Errorf("go build %s: %v\n%s", strings.Join(flags, " "), err, out)}
	}
	builds.built[key] = b
	return b.path, b.err
}

// RemoveGatewayBuilds removes the binaries BuildGateway made (a TestMain
// calls it once the tests ran).
func RemoveGatewayBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.built = "", nil
}
