package main

import (
	"time"

	drv "github.com/go-sql-driver/mysql"
	"github.com/hibiken/asynq"

	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/buildinfo"
)

// sourceTimeout bounds each read of a slow source at scrape time (asynq's
// queues in Redis, the outbox in MySQL): Prometheus's default scrape
// timeout is 10 s.
const sourceTimeout = 3 * time.Second

// watchSources adds to the node's metrics what is read at scrape time
// besides its own counters: the build, the MySQL and Redis connection
// pools, the asynq queues and the outbox.
func (n *node) watchSources(store *mysql.Store) {
	m := n.metrics
	m.BuildInfo(buildinfo.Version(version), buildinfo.Commit(commit))
	if sqlDB, err := n.db.DB(); err == nil {
		name := "mysql"
		if c, err := drv.ParseDSN(n.cfg.MySQL.DSN); err == nil && c.DBName != "" {
			name = c.DBName
		}
		m.WatchDB(sqlDB, name)
	}
	m.WatchRedisPool(n.rdb)
	m.WatchQueues(asynq.NewInspectorFromRedisClient(n.rdb), sourceTimeout)
	m.WatchOutbox(store, sourceTimeout)
}
