package coord

import (
	"cmp"
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// Rate is a limit of Count events per Per, in bursts of at most Burst
// (Count when 0). A zero Count means no limit.
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

// LimitMetrics counts refusals by limit name. It must not block.
type LimitMetrics interface {
	Limited(limit string)
}

// RateLimiterOptions configure a RateLimiter.
type RateLimiterOptions struct {
	Rates   map[string]Rate // by limit name; a name without a rate is not limited
	Metrics LimitMetrics    // nil: none
	Logger  *slog.Logger
}

// RateLimiter enforces named rates across every node of a deployment with
// GCRA (go-redis/redis_rate: one script call per check). Its state is one
// small key per limited user or address, expiring by itself.
type RateLimiter struct {
	lim  *redis_rate.Limiter
	keys redis.Keys
	opts RateLimiterOptions
}

// NewRateLimiter returns a RateLimiter on c.
func NewRateLimiter(c *redis.Conn, opts RateLimiterOptions) *RateLimiter {
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &RateLimiter{lim: redis_rate.NewLimiter(c.Client()), keys: c.Keys(), opts: opts}
}

// AllowUser takes one event of limit for user. It returns nil, or an
// *app.LimitError with the wait before the next event is allowed.
func (l *RateLimiter) AllowUser(ctx context.Context, limit string, user int64) error {
	return l.allow(ctx, limit, l.keys.UserRate(user, limit), "user "+strconv.FormatInt(user, 10))
}

// AllowAddr takes one event of limit for the client address addr.
func (l *RateLimiter) AllowAddr(ctx context.Context, limit, addr string) error {
	return l.allow(ctx, limit, l.keys.AddrRate(addr, limit), "address "+addr)
}

func (l *RateLimiter) allow(ctx context.Context, limit, key, who string) error {
	r, ok := l.opts.Rates[limit]
	if !ok || r.Count <= 0 || r.Per <= 0 {
		return nil
	}
	res, err := l.lim.Allow(ctx, key, redis_rate.Limit{Rate: r.Count, Burst: cmp.Or(max(r.Burst, 0), r.Count), Period: r.Per})
	if err != nil {
		// Fail open: a limit that cannot be read must not take the
		// service down with it (and without Redis little works anyway).
		l.opts.Logger.WarnContext(ctx, "rate limit unavailable; allowing", "limit", limit, "err", err)
		return nil
	}
	if res.Allowed > 0 {
		return nil
	}
	if l.opts.Metrics != nil {
		l.opts.Metrics.Limited(limit)
	}
	wait := max(res.RetryAfter, time.Millisecond)
	return app.Limited(limit, wait, "too many %s requests from %s: at most %d per %s; retry in %s",
		limit, who, r.Count, r.Per, wait.Round(time.Millisecond))
}
