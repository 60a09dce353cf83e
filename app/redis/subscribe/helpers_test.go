package subscribe_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
)

func mustMessage(tb testing.TB, user int64, content string) app.Message {
	tb.Helper()
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user, Title: "t", Content: content, Timestamp: 1}
	m, err := n.Message()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func mustAdmit(tb testing.TB, r *coord.SessionRegistry, user int64) string {
	tb.Helper()
	id, until, err := r.Admit(context.Background(), user)
	if err != nil || id == "" || !until.IsZero() {
		tb.Fatalf("Admit(%d) = %q, %v, %v", user, id, until, err)
	}
	return id
}

// startPresence runs a Presence for opts until the test ends.
func startPresence(tb testing.TB, rdb goredis.UniversalClient, keys redis.Keys, opts coord.PresenceOptions) *coord.Presence {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := coord.NewPresence(redis.New(rdb, keys), opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return p
}
