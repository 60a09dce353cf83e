package metrics

import (
	"database/sql"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goredis "github.com/redis/go-redis/v9"
)

// BuildInfo exports gateway_build_info{version,commit,go_version} 1. Call
// it once.
func (m *Metrics) BuildInfo(version, commit string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateway_build_info",
		Help:        "Always 1; the labels name the node's build: gateway version, commit and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "go_version": runtime.Version()}})
	g.Set(1)
	m.reg.MustRegister(g)
}

// WatchDB exports the MySQL connection pool's statistics (go_sql_*:
// open, in use, idle, waits and time waited) labelled db_name=name, read at
// each scrape. Call it once.
func (m *Metrics) WatchDB(db *sql.DB, name string) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// RedisPool is what WatchRedisPool reads (a go-redis client).
type RedisPool interface {
	PoolStats() *goredis.PoolStats
}

// WatchRedisPool exports the go-redis connection pool's statistics
// (gateway_redis_pool_*), read at each scrape. Call it once.
func (m *Metrics) WatchRedisPool(p RedisPool) {
	m.reg.MustRegister(redisPoolCollector{p})
}

// The descriptions of the go-redis pool statistics.
var (
	redisPoolHits     = poolDesc("hits_total", "Times a free connection was found in the pool.")
	redisPoolMisses   = poolDesc("misses_total", "Times no free connection was in the pool (a new one was dialled or waited for).")
	redisPoolTimeouts = poolDesc("timeouts_total", "Times a command gave up waiting for a connection (redis: connection pool timeout).")
	redisPoolWaits    = poolDesc("waits_total", "Times a command waited for a connection.")
	redisPoolWaited   = poolDesc("wait_seconds_total", "Time commands spent waiting for a connection.")
	redisPoolConns    = poolDesc("connections", "Connections in the pool now (total, idle).", "state")
	redisPoolStale    = poolDesc("stale_connections_total", "Connections closed as stale (idle too long or broken).")
)

func poolDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("gateway_redis_pool_"+name, help, labels, nil)
}

// redisPoolCollector reads a go-redis client's PoolStats at each scrape.
type redisPoolCollector struct{ p RedisPool }

// Describe implements prometheus.Collector.
func (c redisPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{redisPoolHits, redisPoolMisses, redisPoolTimeouts, redisPoolWaits, redisPoolWaited, redisPoolConns, redisPoolStale} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c redisPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.PoolStats()
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	counter(redisPoolHits, float64(s.Hits))
	counter(redisPoolMisses, float64(s.Misses))
	counter(redisPoolTimeouts, float64(s.Timeouts))
	counter(redisPoolWaits, float64(s.WaitCount))
	counter(redisPoolWaited, float64(s.WaitDurationNs)/1e9)
	counter(redisPoolStale, float64(s.StaleConns))
	ch <- prometheus.MustNewConstMetric(redisPoolConns, prometheus.GaugeValue, float64(s.TotalConns), "total")
	ch <- prometheus.MustNewConstMetric(redisPoolConns, prometheus.GaugeValue, float64(s.IdleConns), "idle")
}
