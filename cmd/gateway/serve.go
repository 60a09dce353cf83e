package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/cmd/gateway/settings"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/lifecycle"
	goredis "github.com/redis/go-redis/v9"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("serve", stdout)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	cfg, unknown, err := settings.Schema.LoadAll(*path, getenv, environ())
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout).With("node_id", cfg.NodeID)
	goredis.SetLogger(redisLogger{log})
	config.LogUnknown(log, unknown)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.Runtime.GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" && cfg.Runtime.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(cfg.Runtime.MemoryLimitMB) << 20)
	}
	if cfg.Auth.Mode == app.AuthInsecure {
		log.Warn("auth.mode is insecure: user ids in requests are trusted; never run this in production")
	}
	for _, ignored := range cfg.Ignored() {
		log.Warn("setting ignored: " + ignored)
	}
	n, err := newNode(ctx, cfg, log)
	if err != nil {
		return err
	}
	return n.serve(ctx)
}

// serve starts the node's components, serves until ctx is done or a server
// fails, then stops the components in reverse (see stages) within
// ws.drain_window + shutdown.timeout.
func (n *node) serve(ctx context.Context) error {
	parts := n.components()
	if err := lifecycle.StartAll(ctx, parts); err != nil {
		return err
	}
	n.log.Info("gateway listening", "http_addr", n.httpL.Addr().String(), "grpc_addr", n.grpcAddr,
		"auth_mode", string(n.cfg.Auth.Mode), "api", n.cfg.API.Enabled, "worker", n.cfg.Worker.Enabled)
	var err error
	select {
	case <-ctx.Done():
	case err = <-n.failures:
	}
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.WS.DrainWindow+n.cfg.Shutdown.Timeout)
	defer cancel()
	if serr := lifecycle.StopAll(sctx, parts); serr != nil {
		n.log.Warn("shutdown", "err", serr)
	}
	n.log.Info("stopped")
	return err
}

// ready is the /readyz check: not draining, MySQL and Redis (in cluster
// mode every master) answer, and (on API nodes) the pub/sub subscription
// delivers: its own probe came back (in cluster mode, on every shard).
func (n *node) ready(ctx context.Context) error {
	if n.draining.Load() {
		return app.Errorf(app.EUnavailable, "node is shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, check := range n.checks {
		if err := check(ctx); err != nil {
			return err
		}
	}
	return nil
}

func newLogger(cfg *settings.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redisLogger writes go-redis's log lines as warnings with component=redis
// instead of its own "redis: 2026/..." lines on stderr.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
