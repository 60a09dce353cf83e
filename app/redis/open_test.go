package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// TestStreamsOpen: a session's first read returns the page and the user's
// revocation in one round trip, also after Redis lost its scripts.
func TestStreamsOpen(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	streams := redis.NewStreams(env.rdb, env.keys, redis.StreamsOptions{})
	for i := range 2 {
		n := app.Notification{ID: fmt.Sprintf("open-%d", i), UserID: 7, Type: app.MsgGenericPush, Title: "t", Content: "c"}
		m, err := n.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.pub.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, want time.Time) {
		t.Helper()
		page, until, err := streams.Open(ctx, 7, app.Position{}, 10)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(page.Messages) != 2 || page.Head != 2 || !until.Equal(want) {
			t.Errorf("%s: %d messages, head %d, revoked until %v; want 2, 2, %v", what, len(page.Messages), page.Head, until, want)
		}
	}
	check("not revoked", time.Time{})
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if _, err := redis.NewRevocations(env.rdb, env.keys, 10*time.Millisecond).Disconnect(ctx, 7, until); err != nil {
		t.Fatal(err)
	}
	check("revoked", until)
	if err := env.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	check("after SCRIPT FLUSH", until)
}
