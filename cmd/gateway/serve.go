package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	goredis "github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/jwtauth"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, path := newFlags("serve", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := LoadConfig(*path, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout).With("node_id", cfg.NodeID)
	if cfg.AuthMode == app.AuthInsecure {
		log.Warn("auth.mode is insecure: user ids in requests are trusted; never run this in production")
	}
	n, err := newNode(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.close()
	return n.serve(ctx)
}

// node is one running gateway: its pools, service and listeners.
type node struct {
	cfg      *Config
	log      *slog.Logger
	db       *gorm.DB
	rdb      *goredis.Client
	relay    *reservation.Relay
	sub      *redis.Subscriber
	cursors  *redis.Cursors
	presence *redis.Presence
	hub      *ws.Hub
	http     *http.Server
	grpc     *grpcapi.Server
	draining atomic.Bool
}

func newNode(ctx context.Context, cfg *Config, log *slog.Logger) (*node, error) {
	db, err := mysql.Open(ctx, cfg.MySQLDSN)
	if err != nil {
		return nil, err
	}
	n := &node{cfg: cfg, log: log, db: db}
	if err := mysql.Migrate(ctx, db, log); err != nil {
		n.close()
		return nil, err
	}
	if seeded, err := mysql.SeedDemoHouses(ctx, db, time.Now()); err != nil {
		n.close()
		return nil, err
	} else if seeded > 0 {
		log.Info("seeded demo houses", "count", seeded)
	}
	n.rdb = goredis.NewClient(&goredis.Options{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB})
	if err := n.rdb.Ping(ctx).Err(); err != nil {
		n.close()
		return nil, fmt.Errorf("redis %s: %w", cfg.RedisAddr, err)
	}

	keys := redis.NewKeys(cfg.RedisNamespace, cfg.RedisDB)
	pub := redis.NewPublisher(n.rdb, keys, redis.PublisherOptions{HistorySize: cfg.HistorySize, HistoryTTL: cfg.HistoryTTL})
	store := mysql.NewStore(db)
	svc := reservation.New(store, pub, reservation.Options{Location: cfg.Location, Logger: log})
	n.relay = &reservation.Relay{Store: store, Publisher: pub, Logger: log}
	pusher := push.New(pub, push.Options{MaxBatch: cfg.PushMaxBatch})

	var verify func(string) (int64, error)
	if cfg.AuthMode == app.AuthJWT {
		verify = jwtauth.NewVerifier([]byte(cfg.JWTSecret), nil).Verify
	}
	n.sub = redis.NewSubscriber(n.rdb, keys, redis.SubscriberOptions{NodeID: cfg.NodeID, Logger: log})
	n.cursors = redis.NewCursors(n.rdb, keys, time.Second, cfg.HistoryTTL, log)
	n.presence = redis.NewPresence(n.rdb, keys, redis.PresenceOptions{
		NodeID: cfg.NodeID, Heartbeat: cfg.PresenceHeartbeat, TTL: cfg.PresenceTTL, Logger: log})
	n.hub = ws.New(pub, n.sub, n.cursors, n.presence, ws.Options{
		NodeID: cfg.NodeID, AuthMode: cfg.AuthMode, Verify: verify, AllowedOrigins: cfg.WSAllowedOrigins,
		MaxMessageSize: cfg.WSMaxMessageBytes, BufferSize: cfg.WSBufferSize, PingPeriod: cfg.WSPingPeriod,
		PongWait: cfg.WSPongWait, WriteWait: cfg.WSWriteWait, SlowTimeout: cfg.WSSlowTimeout,
		Reconnect: ws.Reconnect{BaseMS: cfg.WSReconnectBase.Milliseconds(), MaxMS: cfg.WSReconnectMax.Milliseconds(), Jitter: 0.5},
		Logger:    log,
	})

	gin.SetMode(gin.ReleaseMode)
	engine := httpapi.NewHandler(svc, httpapi.Options{
		AuthMode: cfg.AuthMode, Verify: verify, MaxBodyBytes: cfg.MaxBodyBytes, Ready: n.ready, Logger: log,
		APIKey: cfg.APIKey, Push: pusher, Presence: n.presence,
	})
	engine.GET("/ws", gin.WrapH(n.hub))
	n.http = &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	n.grpc = grpcapi.NewServer(svc, grpcapi.Options{AuthMode: cfg.AuthMode, Verify: verify, Logger: log,
		APIKey: cfg.APIKey, Push: pusher})
	return n, nil
}

// ready is the /readyz check: not draining, MySQL and Redis answer, and
// the node's pub/sub subscription delivers (its own probe came back).
func (n *node) ready(ctx context.Context) error {
	if n.draining.Load() {
		return app.Errorf(app.EUnavailable, "node is shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := mysql.Ping(ctx, n.db); err != nil {
		return app.Errorf(app.EUnavailable, "mysql does not answer")
	}
	if err := n.rdb.Ping(ctx).Err(); err != nil {
		return app.Errorf(app.EUnavailable, "redis does not answer")
	}
	if err := n.sub.Healthy(); err != nil {
		return app.Errorf(app.EUnavailable, "%v", err)
	}
	return nil
}

// serve listens until ctx is done, then shuts down in order: not ready,
// stop accepting, let in-flight requests finish, stop background work.
func (n *node) serve(ctx context.Context) error {
	hl, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", n.cfg.HTTPAddr, err)
	}
	gl, err := net.Listen("tcp", n.cfg.GRPCAddr)
	if err != nil {
		hl.Close()
		return fmt.Errorf("grpc listen %s: %w", n.cfg.GRPCAddr, err)
	}
	n.log.Info("gateway listening", "http_addr", hl.Addr().String(), "grpc_addr", gl.Addr().String(), "auth_mode", string(n.cfg.AuthMode))

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	if err := n.sub.Start(ctx, n.hub); err != nil {
		stopBG()
		hl.Close()
		gl.Close()
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() { n.relay.Run(bg) })
	wg.Go(func() { n.sub.Probe(bg) })
	wg.Go(func() { n.cursors.Run(bg) })
	wg.Go(func() { n.presence.Run(bg) })
	go func() {
		if err := n.http.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	go func() {
		if err := n.grpc.Serve(gl); err != nil {
			errc <- fmt.Errorf("grpc: %w", err)
		}
	}()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// Not ready first, then sessions closed with 1001 over the drain window
	// while REST and gRPC still answer, then the listeners, then the
	// background work (the cursors and presence flush on their way out).
	n.log.Info("draining", "sessions", n.hub.Connections(), "window", n.cfg.WSDrainWindow)
	n.draining.Store(true)
	n.grpc.Health.Shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.WSDrainWindow+n.cfg.ShutdownTimeout)
	defer cancel()
	n.hub.Drain(sctx, n.cfg.WSDrainWindow)
	n.log.Info("shutting down")
	var sw sync.WaitGroup
	sw.Go(func() {
		if err := n.http.Shutdown(sctx); err != nil {
			n.log.Warn("http shutdown", "err", err)
		}
	})
	sw.Go(func() {
		if err := n.grpc.Shutdown(sctx); err != nil {
			n.log.Warn("grpc shutdown", "err", err)
		}
	})
	sw.Wait()
	n.hub.Close()
	stopBG()
	wg.Wait()
	n.sub.Close()
	n.log.Info("stopped")
	return serveErr
}

func (n *node) close() {
	if n.rdb != nil {
		n.rdb.Close()
	}
	if n.db != nil {
		if sqlDB, err := n.db.DB(); err == nil {
			sqlDB.Close()
		}
	}
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
