package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a throwaway redis-server on a free loopback port, for
// tests that stop, restart or flush Redis. It runs without
// persistence unless extra arguments say otherwise, and is killed (and its
// directory removed) when the test ends.
type RedisServer struct {
	Addr string
	Port int
	Dir  string // working directory (nodes.conf, dumps)
	args []string
	tb   testing.TB
	cmd  *exec.Cmd
}

// MustRedisServer starts redis-server with extra arguments (e.g.
// "--cluster-enabled", "yes") and waits until it answers PING.
func MustRedisServer(tb testing.TB, extra ...string) *RedisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("testenv: redis-server not on PATH: %v", err)
	}
	port := MustFreePort(tb)
	s := &RedisServer{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Dir: tb.TempDir(), tb: tb}
	s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--logfile", "redis.log"}, extra...)
	tb.Cleanup(s.Kill)
	s.Start()
	return s
}

// MustFreePort returns a loopback port that was free a moment ago.
func MustFreePort(tb testing.TB) int {
	tb.Helper()
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the server (again, after Stop or Kill: with its data gone
// unless persistence was configured) and waits until it answers.
func (s *RedisServer) Start() {
	s.tb.Helper()
	cmd := exec.Command("redis-server", s.args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("testenv: start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.Dir + "/redis.log")
			s.tb.Fatalf("testenv: redis-server on %s did not answer within 20s; log:\n%s", s.Addr, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL) and waits for it to exit.
func (s *RedisServer) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Client returns a client of logical database db, closed when the test ends.
func (s *RedisServer) Client(db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DB: db})
	s.tb.Cleanup(func() { c.Close() })
	return c
}
