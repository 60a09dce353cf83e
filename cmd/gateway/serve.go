package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/memtrim"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("serve", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, unknown, err := configForStart(*path, getenv, environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout).With("node_id", cfg.NodeID)
	warnUnknown(log, unknown)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.Runtime.GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" && cfg.Runtime.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(cfg.Runtime.MemoryLimitMB) << 20)
	}
	if cfg.Auth.Mode == app.AuthInsecure {
		log.Warn("auth.mode is insecure: user ids in requests are trusted; never run this in production")
	}
	n, err := newNode(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.close()
	return n.serve(ctx)
}

// serve listens until ctx is done, then shuts down in order: not ready,
// sessions drained, listeners closed once in-flight requests finish, the
// asynq worker stopped (a running reminder finishes or is requeued), then
// the background work.
func (n *node) serve(ctx context.Context) error {
	hl, err := net.Listen("tcp", n.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", n.cfg.HTTP.Addr, err)
	}
	var gl net.Listener
	serving := false
	defer func() {
		if serving {
			return // the servers own the listeners now
		}
		hl.Close()
		if gl != nil {
			gl.Close()
		}
	}()
	if n.grpc != nil {
		if gl, err = net.Listen("tcp", n.cfg.GRPC.Addr); err != nil {
			return fmt.Errorf("grpc listen %s: %w", n.cfg.GRPC.Addr, err)
		}
	}
	if n.sub != nil {
		if err := n.sub.Start(ctx, n.hub); err != nil {
			return err
		}
	}
	if n.worker != nil {
		if err := n.worker.Start(n.workerMux); err != nil {
			return fmt.Errorf("asynq worker: %w", err)
		}
	}
	serving = true
	grpcAddr := ""
	if gl != nil {
		grpcAddr = gl.Addr().String()
	}
	n.log.Info("gateway listening", "http_addr", hl.Addr().String(), "grpc_addr", grpcAddr,
		"auth_mode", string(n.cfg.Auth.Mode), "api", n.cfg.API.Enabled, "worker", n.cfg.Worker.Enabled)

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { n.relay.Run(bg) })
	wg.Go(func() { n.cleaner.Run(bg) })
	if n.cfg.Runtime.ReleaseIdleMemory {
		wg.Go(func() {
			memtrim.Run(bg, memtrim.Options{}, func(before, after uint64) {
				n.log.Debug("gave idle memory back", "heap_held_mib_before", before>>20, "heap_held_mib_after", after>>20)
			})
		})
	}
	if n.sub != nil {
		// Shown per node by GET /api/websocket/stats.
		n.presence.SetInfo("http_addr", hl.Addr().String())
		n.presence.SetInfo("grpc_addr", grpcAddr)
		n.presence.SetInfo("version", version)
		wg.Go(func() { n.sub.Probe(bg) })
		wg.Go(func() { n.streams.Run(bg) })
		wg.Go(func() { n.presence.Run(bg) })
	}
	if n.sessions != nil {
		wg.Go(func() { n.sessions.Run(bg) })
	}
	errc := make(chan error, 3)
	go func() {
		if err := n.http.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	if n.metricsHTTP != nil {
		ml, err := net.Listen("tcp", n.cfg.Metrics.Addr)
		if err != nil {
			errc <- fmt.Errorf("metrics listen %s: %w", n.cfg.Metrics.Addr, err)
		} else {
			n.log.Info("metrics listening", "metrics_addr", ml.Addr().String())
			go func() {
				if err := n.metricsHTTP.Serve(ml); err != nil && !errors.Is(err, http.ErrServerClosed) {
					errc <- fmt.Errorf("metrics: %w", err)
				}
			}()
		}
	}
	if gl != nil {
		go func() {
			if err := n.grpc.Serve(gl); err != nil {
				errc <- fmt.Errorf("grpc: %w", err)
			}
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	n.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.WS.DrainWindow+n.cfg.Shutdown.Timeout)
	defer cancel()
	if n.hub != nil {
		n.log.Info("draining", "sessions", n.hub.Connections(), "window", n.cfg.WS.DrainWindow)
		n.grpc.Health.Shutdown()
		n.hub.Drain(sctx, n.cfg.WS.DrainWindow)
	}
	n.log.Info("shutting down")
	var sw sync.WaitGroup
	sw.Go(func() {
		if err := n.http.Shutdown(sctx); err != nil {
			n.log.Warn("http shutdown", "err", err)
		}
	})
	if n.grpc != nil {
		sw.Go(func() {
			if err := n.grpc.Shutdown(sctx); err != nil {
				n.log.Warn("grpc shutdown", "err", err)
			}
		})
	}
	if n.worker != nil {
		sw.Go(n.worker.Shutdown)
	}
	sw.Wait()
	if n.metricsHTTP != nil {
		n.metricsHTTP.Close()
	}
	if n.hub != nil {
		n.hub.Close()
	}
	stopBG()
	wg.Wait()
	if n.sub != nil {
		n.sub.Close()
	}
	n.log.Info("stopped")
	return serveErr
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
	if err := pingMySQL(ctx, n); err != nil {
		return app.Errorf(app.EUnavailable, "mysql does not answer")
	}
	if err := pingRedis(ctx, n.rdb); err != nil {
		return app.Errorf(app.EUnavailable, "redis does not answer")
	}
	if n.sub != nil {
		if err := n.sub.Healthy(); err != nil {
			return app.Errorf(app.EUnavailable, "%v", err)
		}
	}
	return nil
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
