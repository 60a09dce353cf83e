package main

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/lifecycle"
	"github.com/houseview/gateway/pkg/protocol"
	"github.com/houseview/gateway/web"
)

// api builds the REST, WebSocket and gRPC side of a node, and returns its
// HTTP handler.
func (n *node) api(svc *reservation.Service, pub push.Publisher, opts httpapi.Options) *gin.Engine {
	cfg, log := n.cfg, n.log
	streams := redis.NewStreams(n.conn, redis.StreamsOptions{HistoryTTL: cfg.History.TTL, Logger: log})
	// Cursors: a webhook task asks the nodes holding a user's sessions to
	// write the user's delivered cursor before it decides (redis.Deliveries).
	sub := subscribe.New(n.conn, subscribe.Options{NodeID: cfg.NodeID, Logger: log, Metrics: n.metrics,
		Cursors: streams})
	presence := coord.NewPresence(n.conn, coord.PresenceOptions{
		NodeID: cfg.NodeID, Heartbeat: cfg.Presence.Heartbeat, TTL: cfg.Presence.TTL, Logger: log})
	// Shown per node by GET /api/websocket/stats.
	presence.SetInfo("http_addr", n.httpL.Addr().String())
	presence.SetInfo("grpc_addr", n.grpcAddr)
	presence.SetInfo("version", version)
	inbox := redis.NewInbox(n.conn)
	hub := n.hub(streams, sub, presence, inbox)
	pusher := push.New(pub, push.Options{MaxBatch: cfg.Push.MaxBatch})
	grpcSrv := grpcapi.NewServer(svc, grpcapi.Options{Auth: n.auth, Logger: log, Push: pusher, Metrics: n.metrics, Devices: opts.Devices,
		Preferences:   opts.Preferences,
		Inbox:         inbox,
		ServerOptions: grpcapi.Bounds(cfg.GRPC.MaxRecvMsgBytes, cfg.GRPC.KeepaliveMinTime, cfg.GRPC.KeepaliveTime, cfg.GRPC.KeepaliveTimeout)})

	n.add(feeds, lifecycle.Hooks(func(ctx context.Context) error { return sub.Start(ctx, hub) },
		func(context.Context) error { return sub.Close() }))
	n.add(loops, lifecycle.Loop(sub.Probe), lifecycle.Loop(streams.Run), lifecycle.Loop(presence.Run))
	n.add(sidecars, lifecycle.Closer(hub))
	n.add(servers, lifecycle.Serve("grpc", grpcSrv, n.grpcL, n.failures))
	n.add(drains, lifecycle.OnStop(func(ctx context.Context) error {
		n.log.Info("draining", "sessions", hub.Connections(), "window", cfg.WS.DrainWindow)
		grpcSrv.Health.Shutdown()
		hub.Drain(ctx, cfg.WS.DrainWindow)
		return nil
	}))
	n.checks = append(n.checks, func(context.Context) error { err := sub.Healthy(); return unavailable(err, fmt.Sprint(err)) })

	n.metrics.WatchSubscriber(sub)
	n.metrics.WatchSessions(hub.Connections)
	opts.Push, opts.Presence, opts.Messages, opts.Sessions, opts.Inbox = pusher, presence, streams, n.revoked, inbox
	engine := httpapi.NewHandler(svc, opts)
	engine.GET("/ws", gin.WrapH(httpapi.ForwardedHost(cfg.HTTP.TrustedProxies, hub)))
	httpapi.MountWeb(engine, web.Files)
	if cfg.UI.Enabled {
		// The console lists sessions from the registry, which counts them
		// only with a session limit, and asks the nodes for their positions.
		var sessions func(context.Context, int64) ([]app.LiveSession, error)
		if cfg.Limits.SessionsPerUser > 0 {
			sessions = func(ctx context.Context, user int64) ([]app.LiveSession, error) {
				return coord.LiveSessions(ctx, n.conn, user)
			}
		}
		httpapi.MountConsole(engine, httpapi.ConsoleOptions{Files: web.Console(), Operator: httpapi.Operator(n.auth, log),
			Presence: presence, Streams: streams, Sessions: sessions, Positions: n.conn.Positions, Push: pusher, Revocations: n.revoked,
			MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Logger: log})
	}
	return engine
}

// hub builds the WebSocket hub, and the session registry that holds each
// user to limits.sessions_per_user over every node (none for 0).
func (n *node) hub(streams *redis.Streams, sub *subscribe.Subscriber, presence *coord.Presence, inbox ws.Inbox) *ws.Hub {
	cfg := n.cfg
	var sessions ws.SessionRegistry
	if cfg.Limits.SessionsPerUser > 0 {
		// Refreshed every third of the TTL: two refreshes may fail before a
		// session stops counting.
		reg := coord.NewSessionRegistry(n.conn, coord.SessionOptions{NodeID: cfg.NodeID,
			Limit: cfg.Limits.SessionsPerUser, Policy: cfg.Limits.SessionPolicy, TTL: cfg.Presence.TTL,
			Refresh: cfg.Presence.TTL / 3, Metrics: n.metrics, Logger: n.log})
		n.add(loops, lifecycle.Loop(reg.Run))
		sessions = reg
	}
	w := cfg.WS
	return ws.New(streams, sub, presence, ws.Options{
		NodeID: cfg.NodeID, Auth: n.auth, Inbox: inbox, AllowedOrigins: w.AllowedOrigins,
		MaxMessageSize: w.MaxMessageBytes, BufferSize: w.BufferSize, PingPeriod: w.PingPeriod,
		PongWait: w.PongWait, WriteWait: w.WriteWait, SlowTimeout: w.SlowTimeout,
		Reconnect: protocol.Reconnect{BaseMS: w.ReconnectBase.Milliseconds(), MaxMS: w.ReconnectMax.Milliseconds(),
			Jitter: protocol.DefaultReconnect.Jitter},
		Handshakes: n.limiter, Sessions: sessions, FrameRate: cfg.Limits.ClientFramesPerSecond,
		Logger: n.log, Metrics: n.metrics,
	})
}

// worker builds the asynq worker that fires reminders, posts webhooks and
// pushes to devices.
func (n *node) worker(svc *reservation.Service, store *mysql.Store, tasks *asynq.Client) {
	cfg, log := n.cfg, n.log
	handler := reminder.NewHandler(svc, n.metrics, log).WithClock(reminder.RedisClock(n.rdb), 0)
	pushDelay := devicepush.RetryDelay(cfg.Push.Backoff, cfg.Push.MaxBackoff)
	srv, mux := reminder.NewWorker(n.rdb, handler, reminder.WorkerOptions{
		Queues: cfg.Worker.Queues, Concurrency: cfg.Worker.Concurrency, PollInterval: cfg.Worker.PollInterval,
		ShutdownTimeout: cfg.Shutdown.Timeout, Logger: log,
		TaskRetryDelay: map[string]asynq.RetryDelayFunc{webhook.TaskType: webhook.RetryDelay(cfg.Webhook.Backoff),
			devicepush.TaskType: pushDelay, devicepush.DeviceTaskType: pushDelay},
	})
	deliveries := redis.NewDeliveries(n.conn, 0)
	// Every worker runs webhook tasks: one without webhook.url fails them,
	// to be retried by a node that has it. Likewise device tasks of a
	// platform whose provider this node lacks.
	mux.Handle(webhook.TaskType, webhook.NewHandler(deliveries, webhook.HandlerOptions{
		URL: cfg.Webhook.URL, Secret: []byte(cfg.Webhook.Secret), Format: cfg.Webhook.Format, Timeout: cfg.Webhook.Timeout, Logger: log, Metrics: n.metrics,
	}))
	providers, perr := cfg.PushProviders() // an error was refused by the settings' checks first
	p := cfg.Push
	opts := devicepush.HandlerOptions{Providers: providers, Queue: p.Queue, MaxRetry: p.MaxRetry, Retention: p.Retention,
		Timeout: p.Timeout, Logger: log, Metrics: n.metrics, Preferences: n.prefs}
	mux.Handle(devicepush.TaskType, devicepush.NewHandler(deliveries, store, tasks, opts))
	mux.Handle(devicepush.DeviceTaskType, devicepush.NewDeviceHandler(deliveries, store, opts))
	n.add(servers, lifecycle.Hooks(func(context.Context) error {
		if perr != nil {
			return fmt.Errorf("push providers: %w", perr)
		}
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("asynq worker: %w", err)
		}
		return nil
	}, func(context.Context) error { srv.Shutdown(); return nil }))
}
