package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/metrics"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/cmd/gateway/settings"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/lifecycle"
)

// node is one gateway: its pools and shared services, and its components
// by stage. An API-only and a worker-only node differ in their components.
type node struct {
	cfg      *settings.Config
	log      *slog.Logger
	parts    [stages][]lifecycle.Component
	failures lifecycle.Failures // of servers while they serve
	draining atomic.Bool
	checks   []func(context.Context) error // of readiness, besides draining
	db       *gorm.DB
	conn     *redis.Conn
	rdb      goredis.UniversalClient // conn's
	auth     *auth.Authenticator
	revoked  *coord.Revocations
	limiter  *coord.RateLimiter
	prefs    *preferences.Service // users' notification preferences, cached
	metrics  *metrics.Metrics
	httpL    net.Listener
	grpcL    net.Listener // on API nodes
	metricsL net.Listener // with metrics.addr
	grpcAddr string       // "" on a worker-only node
}

// stage is when a component starts. serve starts the stages in order and
// stops them in reverse: readiness turns 503 and the sessions are drained,
// the servers and the worker stop together, then the sidecars, the loops
// (cursors flushed, presence removed), the subscription, and the pools.
type stage int

const (
	pools    stage = iota // and listeners
	feeds                 // the subscription that sessions and loops use
	loops                 // background loops, stopped together
	sidecars              // the hub's last sessions, the metrics listener
	servers               // stopped together, finishing what is in flight
	drains                // what comes before the servers stop, readiness last
	stages
)

// add adds components to stage s.
func (n *node) add(s stage, cs ...lifecycle.Component) { n.parts[s] = append(n.parts[s], cs...) }

// components are the node's components in the order serve starts them.
func (n *node) components() []lifecycle.Component {
	p := n.parts
	p[loops] = []lifecycle.Component{lifecycle.Together(p[loops]...)}
	p[servers] = []lifecycle.Component{lifecycle.Together(p[servers]...)}
	return slices.Concat(p[:]...)
}

func newNode(ctx context.Context, cfg *settings.Config, log *slog.Logger) (*node, error) {
	n := &node{cfg: cfg, log: log, failures: lifecycle.NewFailures(), metrics: metrics.New()}
	if err := n.open(ctx); err != nil {
		lifecycle.StopAll(context.WithoutCancel(ctx), n.parts[pools])
		return nil, err
	}
	n.wire()
	return n, nil
}

// open connects the pools, prepares the database, and binds the listeners:
// what may fail of building a node.
func (n *node) open(ctx context.Context) (err error) {
	cfg := n.cfg
	if n.db, err = mysql.Open(ctx, cfg.MySQL.DSN); err != nil {
		return err
	}
	sqlDB, _ := n.db.DB()
	n.add(pools, lifecycle.Closer(sqlDB))
	if seeded, err := prepareDB(ctx, n.db, cfg, n.log); err != nil {
		return err
	} else if seeded > 0 {
		n.log.Info("seeded demo houses", "count", seeded)
	}
	if n.conn, err = connectRedis(ctx, cfg.Redis); err != nil {
		return err
	}
	n.rdb = n.conn.Client()
	n.add(pools, lifecycle.Closer(n.conn))
	if err := n.authenticate(); err != nil {
		return err
	}
	if n.httpL, err = n.listen("http", cfg.HTTP.Addr); err != nil {
		return err
	}
	if cfg.Metrics.Addr != "" {
		if n.metricsL, err = n.listen("metrics", cfg.Metrics.Addr); err != nil {
			return err
		}
		n.log.Info("metrics listening", "metrics_addr", n.metricsL.Addr().String())
	}
	if cfg.API.Enabled {
		if n.grpcL, err = n.listen("grpc", cfg.GRPC.Addr); err != nil {
			return err
		}
		n.grpcAddr = n.grpcL.Addr().String()
	}
	return nil
}

// prepareDB migrates the database and, with mysql.seed_demo, fills an
// empty houses table with the demo houses. It returns how many it added.
func prepareDB(ctx context.Context, db *gorm.DB, cfg *settings.Config, log *slog.Logger) (int, error) {
	if err := mysql.Migrate(ctx, db, log); err != nil {
		return 0, err
	}
	if !cfg.MySQL.SeedDemo {
		return 0, nil
	}
	return mysql.SeedDemoHouses(ctx, db, time.Now())
}

// listen binds addr for the server name. The listener is closed with the
// pools, unless its server closed it first.
func (n *node) listen(name, addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listen %s: %w", name, addr, err)
	}
	n.add(pools, lifecycle.OnStop(func(context.Context) error { l.Close(); return nil }))
	return l, nil
}

// authenticate builds the authenticator of users, servers and operators.
func (n *node) authenticate() error {
	cfg := n.cfg
	n.revoked = coord.NewRevocations(n.conn, 0)
	opts := auth.Options{Mode: cfg.Auth.Mode, APIKey: cfg.APIKey, OperatorUser: cfg.UI.Username,
		OperatorPassword: cfg.UI.Password, Revocations: n.revoked}
	if cfg.Auth.Mode == app.AuthJWT {
		remote, err := n.remoteKeys()
		if err != nil {
			return err
		}
		v, err := cfg.Verifier(remote)
		if err != nil {
			return err
		}
		opts.Verify = v.Claims
	}
	n.auth = auth.New(opts)
	return nil
}

// remoteKeys starts fetching jwt.jwks_url (none when unset): refreshed
// until the node stops, counted in the metrics, and the node is not ready
// while it holds no key of the set.
func (n *node) remoteKeys() (*jwtauth.RemoteKeys, error) {
	if n.cfg.JWT.JWKSURL == "" {
		return nil, nil
	}
	ctx, stop := context.WithCancel(context.Background())
	n.add(pools, lifecycle.OnStop(func(context.Context) error { stop(); return nil }))
	var remote *jwtauth.RemoteKeys
	failed := n.metrics.WatchJWKS(func() int {
		if remote == nil {
			return 0
		}
		return remote.Keys(context.Background())
	})
	remote, err := jwtauth.NewRemoteKeys(ctx, jwtauth.RemoteOptions{URL: n.cfg.JWT.JWKSURL, Refresh: n.cfg.JWT.JWKSRefresh,
		OnError: func(err error) {
			failed(err)
			n.log.Warn("fetching jwt.jwks_url failed", "err", err)
		}})
	if err != nil {
		stop()
		return nil, err
	}
	n.checks = append(n.checks, func(ctx context.Context) error {
		err := remote.Ready(ctx)
		return unavailable(err, fmt.Sprint(err))
	})
	return remote, nil
}
