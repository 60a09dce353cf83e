package coord_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/pkg/testenv"
)

func TestRateLimiter(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("rl"), db)
	m := &limitCounter{}
	l := coord.NewRateLimiter(redis.New(rdb, keys), coord.RateLimiterOptions{Metrics: m, Rates: map[string]coord.Rate{
		"reserve":   {Count: 3, Per: time.Minute},
		"handshake": {Count: 2, Per: time.Second},
	}})
	var got []string
	outcome := func(err error) string {
		var le *app.LimitError
		switch {
		case err == nil:
			return "ok"
		case errors.As(err, &le) && le.RetryAfter > 0 && le.RetryAfter <= 20*time.Second:
			return le.Limit
		}
		return err.Error()
	}
	for range 4 {
		got = append(got, outcome(l.AllowUser(ctx, "reserve", 1001)))
	}
	got = append(got, outcome(l.AllowUser(ctx, "reserve", 1002))) // another user
	got = append(got, outcome(l.AllowUser(ctx, "remind", 1001)))  // no such limit
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.1")))
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.1")))
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.1")))
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.2")))
	want := []string{"ok", "ok", "ok", "reserve", "ok", "ok", "ok", "ok", "handshake", "ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"reserve": 1, "handshake": 1}, m.by()); diff != "" {
		t.Errorf("Limited (-want +got):\n%s", diff)
	}
}
