package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"gorm.io/gorm"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/metrics"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/protocol"
)

// node is one running gateway: its pools, services and listeners. The API
// parts (hub, subscriber, gRPC...) are nil on a worker-only node, the
// worker on an API-only node.
type node struct {
	cfg         *Config
	log         *slog.Logger
	auth        *auth.Authenticator
	db          *gorm.DB
	rdb         goredis.UniversalClient
	waits       goredis.UniversalClient // the Asker's blocking waits: a pool of their own
	relay       *reservation.Relay
	cleaner     *reservation.Cleaner
	sub         redis.NodeSubscriber
	streams     *redis.Streams
	presence    *redis.Presence
	sessions    *redis.SessionRegistry // nil without a session limit
	limiter     *redis.RateLimiter
	revoked     *redis.Revocations
	hub         *ws.Hub
	worker      *asynq.Server
	workerMux   *asynq.ServeMux
	ui          interface{ Close() error }
	http        *http.Server
	grpc        *grpcapi.Server
	metrics     *metrics.Metrics
	metricsHTTP *http.Server // the metrics.addr listener, when configured
	draining    atomic.Bool
}

func newNode(ctx context.Context, cfg *Config, log *slog.Logger) (*node, error) {
	db, err := mysql.Open(ctx, cfg.MySQL.DSN)
	if err != nil {
		return nil, err
	}
	n := &node{cfg: cfg, log: log, db: db}
	if err := n.build(ctx); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *node) build(ctx context.Context) error {
	cfg, log := n.cfg, n.log
	if err := mysql.Migrate(ctx, n.db, log); err != nil {
		return err
	}
	if cfg.MySQL.SeedDemo {
		if seeded, err := mysql.SeedDemoHouses(ctx, n.db, time.Now()); err != nil {
			return err
		} else if seeded > 0 {
			log.Info("seeded demo houses", "count", seeded)
		}
	}
	n.rdb = cfg.Redis.client()
	if err := pingRedis(ctx, n.rdb); err != nil {
		return fmt.Errorf("redis (%s mode, %s): %w", cfg.Redis.Mode, cfg.Redis.where(), err)
	}

	n.waits = redis.NewWaitClient(n.rdb)

	n.metrics = metrics.New()
	keys := redis.NewKeys(cfg.Redis.Namespace, cfg.Redis.DB)
	asker := redis.NewAsker(n.rdb, n.waits, keys)
	pub := redis.NewPublisher(n.rdb, keys, redis.PublisherOptions{HistorySize: cfg.History.Size, HistoryTTL: cfg.History.TTL,
		BatchWait: cfg.Redis.PublishBatchWait, Metrics: n.metrics, Failover: cfg.Redis.mode().Failover()})
	store := mysql.NewStore(n.db)
	n.watchSources(store)
	tasks := asynq.NewClientFromRedisClient(n.rdb)
	outboxPub, pushPub := n.webhookPublishers(pub, tasks)
	sched := reminder.NewScheduler(tasks, asynq.NewInspectorFromRedisClient(n.rdb), reminder.Options{
		Leads: cfg.Reminder.Leads, ImmediateIfLate: cfg.Reminder.ImmediateIfLate, Logger: log, Metrics: n.metrics,
		Task: reminder.TaskOptions{Queue: cfg.Reminder.Queue, MaxRetry: cfg.Reminder.MaxRetry, Retention: cfg.Reminder.Retention},
	})
	n.cleaner = reservation.NewCleaner(store, 0, log)
	n.limiter = redis.NewRateLimiter(n.rdb, keys, redis.RateLimiterOptions{Metrics: n.metrics, Logger: log, Rates: map[string]redis.Rate{
		reservation.LimitReserve: {Count: cfg.Limits.ReservationsPerMinute, Per: time.Minute},
		reservation.LimitRemind:  {Count: cfg.Limits.RemindersPerMinute, Per: time.Minute},
		ws.LimitHandshake:        {Count: cfg.Limits.HandshakesPerIP, Per: time.Second},
	}})
	svc := reservation.New(store, outboxPub, reservation.Options{Location: cfg.Timezone, CancelGrace: cfg.Reservation.CancelGrace, Logger: log, Reminders: sched, Metrics: n.metrics,
		Cleaner: n.cleaner, Limiter: n.limiter})
	n.relay = &reservation.Relay{Store: store, Publisher: outboxPub, Logger: log}
	if cfg.Worker.Enabled {
		n.worker, n.workerMux = reminder.NewWorker(n.rdb, reminder.NewHandler(svc, n.metrics, log).WithClock(reminder.RedisClock(n.rdb), 0), reminder.WorkerOptions{
			Queues: cfg.Worker.Queues, Concurrency: cfg.Worker.Concurrency, PollInterval: cfg.Worker.PollInterval,
			ShutdownTimeout: cfg.Shutdown.Timeout, Logger: log,
			TaskRetryDelay: map[string]asynq.RetryDelayFunc{webhook.TaskType: webhook.RetryDelay(cfg.Webhook.Backoff)},
		})
		// Every worker runs webhook tasks: one without webhook.url fails
		// them, to be retried by a node that has it.
		n.workerMux.Handle(webhook.TaskType, webhook.NewHandler(redis.NewDeliveries(asker, 0), webhook.HandlerOptions{
			URL: cfg.Webhook.URL, Secret: []byte(cfg.Webhook.Secret), Timeout: cfg.Webhook.Timeout, Logger: log, Metrics: n.metrics,
		}))
	}

	gin.SetMode(gin.ReleaseMode)
	n.revoked = redis.NewRevocations(asker, 0)
	authOpts := auth.Options{Mode: cfg.Auth.Mode, APIKey: cfg.APIKey, OperatorUser: cfg.UI.Username, OperatorPassword: cfg.UI.Password,
		Revocations: n.revoked}
	if cfg.Auth.Mode == app.AuthJWT {
		v, err := cfg.verifier()
		if err != nil {
			return err
		}
		authOpts.Verify = v.Claims
	}
	n.auth = auth.New(authOpts)
	httpOpts := httpapi.Options{Auth: n.auth, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Ready: n.ready, Logger: log, Metrics: n.metrics}
	var engine *gin.Engine
	if cfg.API.Enabled {
		engine = n.buildAPI(svc, pushPub, keys, httpOpts)
	} else {
		engine = httpapi.NewHandler(nil, httpOpts)
	}
	if cfg.UI.Enabled {
		n.ui = mountUI(engine, cfg, httpapi.Operator(n.auth, log))
	}
	mountPprof(engine, httpapi.Operator(n.auth, log))
	// /metrics on the HTTP port: open in insecure mode, operator credentials
	// (as the UI) in jwt mode. With metrics.addr it has a listener of its
	// own, without auth, for an internal network (see serve).
	if cfg.Metrics.Addr == "" {
		engine.GET("/metrics", httpapi.Operator(n.auth, log), gin.WrapH(n.metrics.Handler()))
	} else {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", n.metrics.Handler())
		n.metricsHTTP = n.httpServer(mux)
	}
	n.http = n.httpServer(engine)
	return nil
}

// httpServer is an HTTP server of h with the configured bounds. A
// WebSocket is not cut by ReadTimeout: the upgrade clears the connection's
// deadlines (and the hub sets its own).
func (n *node) httpServer(h http.Handler) *http.Server {
	c := n.cfg.HTTP
	return &http.Server{Handler: h, MaxHeaderBytes: c.MaxHeaderBytes, ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout: c.ReadTimeout, IdleTimeout: c.IdleTimeout}
}

// webhookPublishers return the publishers of the outbox (reservation
// events and reminders) and of pushes: pub itself without webhook.url,
// else pub scheduling the webhook tasks through tasks. An outbox publish
// whose task cannot be enqueued fails, so that the outbox retries it (a
// republish delivers nothing twice); a push's is logged and counted, as a
// retry without an idempotency key would deliver the push twice.
func (n *node) webhookPublishers(pub *redis.Publisher, tasks *asynq.Client) (reservation.Publisher, push.Publisher) {
	w := n.cfg.Webhook
	if w.URL == "" {
		return pub, pub
	}
	sched := webhook.NewScheduler(tasks, webhook.SchedulerOptions{Types: w.Types, Grace: w.Grace, Queue: w.Queue,
		MaxRetry: w.MaxRetry, Retention: w.Retention, PostTimeout: w.Timeout, Logger: n.log, Metrics: n.metrics})
	return webhook.NewPublisher(pub, sched, webhook.FailPublish), webhook.NewPublisher(pub, sched, webhook.KeepPublish)
}

// buildAPI makes the REST, WebSocket and gRPC side of a node.
func (n *node) buildAPI(svc *reservation.Service, pub push.Publisher, keys redis.Keys, httpOpts httpapi.Options) *gin.Engine {
	cfg, log := n.cfg, n.log
	pusher := push.New(pub, push.Options{MaxBatch: cfg.Push.MaxBatch})
	n.streams = redis.NewStreams(n.rdb, keys, redis.StreamsOptions{HistoryTTL: cfg.History.TTL, Logger: log,
		Failover: cfg.Redis.mode().Failover()})
	// Cursors: a webhook task asks the nodes holding a user's sessions to
	// write the user's delivered cursor before it decides (redis.Deliveries).
	n.sub = newSubscriber(n.rdb, keys, redis.SubscriberOptions{NodeID: cfg.NodeID, Logger: log, Metrics: n.metrics,
		Cursors: n.streams})
	n.presence = redis.NewPresence(n.rdb, keys, redis.PresenceOptions{
		NodeID: cfg.NodeID, Heartbeat: cfg.Presence.Heartbeat, TTL: cfg.Presence.TTL, Logger: log})
	var sessions ws.SessionRegistry
	if cfg.Limits.SessionsPerUser > 0 {
		n.sessions = redis.NewSessionRegistry(n.rdb, keys, redis.SessionOptions{NodeID: cfg.NodeID,
			Limit: cfg.Limits.SessionsPerUser, Policy: cfg.Limits.SessionPolicy, TTL: cfg.Presence.TTL,
			Refresh: cfg.Presence.TTL / 3, Metrics: n.metrics, Logger: log}) // a third of the TTL: two refreshes may fail before a session stops counting
		sessions = n.sessions
	}
	n.hub = ws.New(n.streams, n.sub, n.presence, ws.Options{
		NodeID: cfg.NodeID, Auth: n.auth, AllowedOrigins: cfg.WS.AllowedOrigins,
		MaxMessageSize: cfg.WS.MaxMessageBytes, BufferSize: cfg.WS.BufferSize, PingPeriod: cfg.WS.PingPeriod,
		PongWait: cfg.WS.PongWait, WriteWait: cfg.WS.WriteWait, SlowTimeout: cfg.WS.SlowTimeout,
		Reconnect:  protocol.Reconnect{BaseMS: cfg.WS.ReconnectBase.Milliseconds(), MaxMS: cfg.WS.ReconnectMax.Milliseconds(), Jitter: protocol.DefaultReconnect.Jitter},
		Handshakes: n.limiter, Sessions: sessions, FrameRate: cfg.Limits.ClientFramesPerSecond,
		Logger:  log,
		Metrics: n.metrics,
	})
	n.metrics.WatchSubscriber(n.sub)
	n.metrics.WatchSessions(n.hub.Connections)
	httpOpts.Push, httpOpts.Presence, httpOpts.Messages, httpOpts.Sessions = pusher, n.presence, n.streams, n.revoked
	engine := httpapi.NewHandler(svc, httpOpts)
	engine.GET("/ws", gin.WrapH(httpapi.ForwardedHost(cfg.HTTP.TrustedProxies, n.hub)))
	mountWeb(engine)
	n.grpc = grpcapi.NewServer(svc, grpcapi.Options{Auth: n.auth, Logger: log, Push: pusher, Metrics: n.metrics,
		ServerOptions: grpcBounds(cfg.GRPC)})
	return engine
}

func pingMySQL(ctx context.Context, n *node) error { return mysql.Ping(ctx, n.db) }

func (n *node) close() {
	if n.ui != nil {
		n.ui.Close()
	}
	if n.waits != nil && n.waits != n.rdb {
		n.waits.Close()
	}
	if n.rdb != nil {
		n.rdb.Close()
	}
	if n.db != nil {
		if sqlDB, err := n.db.DB(); err == nil {
			sqlDB.Close()
		}
	}
}

// grpcBounds are the gRPC server's limits: request size and keepalive
// enforcement (a client pinging more often than KeepaliveMinTime is sent
// GOAWAY; the server pings idle connections and drops silent ones).
func grpcBounds(c GRPCConfig) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(c.MaxRecvMsgBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: c.KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: c.KeepaliveTime, Timeout: c.KeepaliveTimeout}),
	}
}
