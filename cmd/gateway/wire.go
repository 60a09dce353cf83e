package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/app/devices"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/reminder"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/lifecycle"
	"github.com/houseview/gateway/pkg/memtrim"
)

// wire builds the node's services and components on its pools.
func (n *node) wire() {
	cfg, log := n.cfg, n.log
	n.add(drains, lifecycle.OnStop(func(context.Context) error { log.Info("shutting down"); return nil }))
	store := mysql.NewStore(n.db)
	n.watchSources(store)
	n.checks = append(n.checks, func(ctx context.Context) error { return unavailable(mysql.Ping(ctx, n.db), "mysql does not answer") },
		func(ctx context.Context) error { return unavailable(n.conn.Ping(ctx), "redis does not answer") })
	tasks := asynq.NewClientFromRedisClient(n.rdb)
	pub := redis.NewPublisher(n.conn, redis.PublisherOptions{HistorySize: cfg.History.Size, HistoryTTL: cfg.History.TTL,
		BatchWait: cfg.Redis.PublishBatchWait, Metrics: n.metrics})
	// Users' preferences: the in-app mute filters what is published (below
	// the offline targets, which still see every message); the device push
	// applies the push preference and quiet hours.
	n.prefs = preferences.New(store, n.conn.Client(), n.conn.Keys().Preferences(), preferences.Options{
		CacheSize: cfg.Preferences.CacheSize, TTL: cfg.Preferences.CacheTTL, Logger: log})
	n.add(loops, lifecycle.Loop(n.prefs.Run))
	outboxPub, pushPub := n.offlinePublishers(preferences.NewPublisher(pub, n.prefs, log), tasks)
	svc := n.reservations(store, outboxPub, tasks)
	if cfg.Runtime.ReleaseIdleMemory {
		n.add(loops, lifecycle.Loop(n.trimMemory))
	}
	gin.SetMode(gin.ReleaseMode)
	opts := httpapi.Options{Auth: n.auth, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Ready: n.ready, Logger: log, Metrics: n.metrics,
		Devices: devices.New(store, devices.Options{MaxPerUser: cfg.Push.MaxDevicesPerUser, Logger: log}), Preferences: n.prefs}
	var engine *gin.Engine
	if cfg.API.Enabled {
		engine = n.api(svc, pushPub, opts)
	} else {
		engine = httpapi.NewHandler(nil, opts)
	}
	if cfg.Worker.Enabled {
		n.worker(svc, store, tasks)
	}
	operator := httpapi.Operator(n.auth, log)
	if cfg.UI.Enabled {
		ui := httpapi.MountAsynqUI(engine, n.conn, cfg.UI.PrometheusAddr, operator)
		n.add(pools, lifecycle.Closer(ui))
	}
	httpapi.MountPprof(engine, operator)
	n.mountMetrics(engine, operator)
	n.add(servers, n.serveHTTP("http", n.httpL, engine))
	n.add(drains, lifecycle.OnStop(func(context.Context) error { n.draining.Store(true); return nil }))
}

// unavailable is the readiness answer to err: 503 saying msg, or nil.
func unavailable(err error, msg string) error {
	if err != nil {
		return app.Errorf(app.EUnavailable, "%s", msg)
	}
	return nil
}

// reservations builds the reservation service, its reminders and limits,
// and the loops of its outbox.
func (n *node) reservations(store *mysql.Store, pub reservation.Publisher, tasks *asynq.Client) *reservation.Service {
	cfg, log := n.cfg, n.log
	sched := reminder.NewScheduler(tasks, asynq.NewInspectorFromRedisClient(n.rdb), reminder.Options{
		Leads: cfg.Reminder.Leads, ImmediateIfLate: cfg.Reminder.ImmediateIfLate, Logger: log, Metrics: n.metrics,
		Task: reminder.TaskOptions{Queue: cfg.Reminder.Queue, MaxRetry: cfg.Reminder.MaxRetry, Retention: cfg.Reminder.Retention},
	})
	cleaner := reservation.NewCleaner(store, 0, log)
	n.limiter = coord.NewRateLimiter(n.conn, coord.RateLimiterOptions{Metrics: n.metrics, Logger: log, Rates: map[string]coord.Rate{
		reservation.LimitReserve: {Count: cfg.Limits.ReservationsPerMinute, Per: time.Minute},
		reservation.LimitRemind:  {Count: cfg.Limits.RemindersPerMinute, Per: time.Minute},
		ws.LimitHandshake:        {Count: cfg.Limits.HandshakesPerIP, Per: time.Second},
	}})
	relay := &reservation.Relay{Store: store, Publisher: pub, Logger: log}
	n.add(loops, lifecycle.Loop(relay.Run), lifecycle.Loop(cleaner.Run))
	return reservation.New(store, pub, reservation.Options{Location: cfg.Timezone, CancelGrace: cfg.Reservation.CancelGrace,
		Logger: log, Reminders: sched, Metrics: n.metrics, Cleaner: cleaner, Limiter: n.limiter})
}

// offlinePublishers return the publishers of the outbox (reservation
// events and reminders) and of pushes: pub itself when neither the
// webhook (webhook.url) nor the device push (a push provider) is on, else
// pub scheduling the tasks of those that are through tasks. An outbox
// publish whose task cannot be enqueued fails, so that the outbox retries
// it (a republish delivers nothing twice); a push's is logged and counted,
// as a retry without an idempotency key would deliver the push twice.
func (n *node) offlinePublishers(pub *preferences.Publisher, tasks *asynq.Client) (reservation.Publisher, push.Publisher) {
	w, p := n.cfg.Webhook, n.cfg.Push
	var targets webhook.Targets
	if w.URL != "" {
		targets = append(targets, webhook.NewScheduler(tasks, webhook.SchedulerOptions{Types: w.Types, Grace: w.Grace, Queue: w.Queue,
			MaxRetry: w.MaxRetry, Retention: w.Retention, PostTimeout: w.Timeout, Logger: n.log, Metrics: n.metrics}))
	}
	if n.cfg.PushEnabled() {
		targets = append(targets, devicepush.NewScheduler(tasks, devicepush.SchedulerOptions{Types: p.Types, Grace: p.Grace,
			Queue: p.Queue, MaxRetry: p.MaxRetry, Retention: p.Retention, Logger: n.log, Metrics: n.metrics}))
	}
	switch len(targets) {
	case 0:
		return pub, pub
	case 1:
		return webhook.NewPublisher(pub, targets[0], webhook.FailPublish), webhook.NewPublisher(pub, targets[0], webhook.KeepPublish)
	}
	return webhook.NewPublisher(pub, targets, webhook.FailPublish), webhook.NewPublisher(pub, targets, webhook.KeepPublish)
}

// trimMemory gives idle memory back to the OS when the node goes quiet.
func (n *node) trimMemory(ctx context.Context) {
	memtrim.Run(ctx, 0, func(before, after uint64) {
		n.log.Debug("gave idle memory back", "heap_held_mib_before", before>>20, "heap_held_mib_after", after>>20)
	})
}

// mountMetrics serves /metrics on the HTTP port (open in insecure mode,
// behind the operator auth of the UI in jwt mode) or, with metrics.addr,
// on a listener of its own without auth, for an internal network.
func (n *node) mountMetrics(engine *gin.Engine, operator gin.HandlerFunc) {
	if n.cfg.Metrics.Addr == "" {
		httpapi.GET(engine, "/metrics", operator, gin.WrapH(n.metrics.Handler()))
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.metrics.Handler())
	n.add(sidecars, n.serveHTTP("metrics", n.metricsL, mux))
}

// serveHTTP is the component serving h on l with the configured bounds. A
// WebSocket is not cut by ReadTimeout: the upgrade clears the connection's
// deadlines (and the hub sets its own).
func (n *node) serveHTTP(name string, l net.Listener, h http.Handler) lifecycle.Component {
	c := n.cfg.HTTP
	return lifecycle.Serve(name, &http.Server{Handler: h, MaxHeaderBytes: c.MaxHeaderBytes, ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout: c.ReadTimeout, IdleTimeout: c.IdleTimeout}, l, n.failures)
}
