package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestAsksNeverStallPublishes: a burst of disconnects and webhook checks
// whose nodes never answer parks their waits for seconds; publishes on the
// node's shared pool go on meanwhile, because the waits have connections
// of their own (Open).
func TestAsksNeverStallPublishes(t *testing.T) {
	ctx := context.Background()
	db, _ := testenv.MustRedisDB(t)
	conn, err := redis.Open(ctx, redis.Config{Addr: testenv.RedisAddr(), DB: db, Namespace: testenv.RandomName("ask"), PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rdb, keys := conn.Client(), conn.Keys()

	// A listener on every user's channel that never answers: each ask
	// waits its whole wait.
	const users = 24
	channels := make([]string, users)
	for i := range channels {
		channels[i] = keys.Channel(int64(i + 1))
	}
	deaf := rdb.Subscribe(ctx, channels...)
	defer deaf.Close()
	if _, err := deaf.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{}, users)
	go func() {
		for range deaf.Channel() {
			asked <- struct{}{}
		}
	}()

	returned := make(chan time.Time, users)
	revocations := coord.NewRevocations(conn, 2*time.Second)
	deliveries := redis.NewDeliveries(conn, 2*time.Second)
	for i := range users {
		user := int64(i + 1)
		go func() {
			if i%2 == 0 {
				_, _ = revocations.Disconnect(ctx, user, time.Time{})
			} else {
				_, _ = deliveries.Delivered(ctx, user, "m", app.Position{Epoch: "e", Seq: 1})
			}
			returned <- time.Now()
		}()
	}
	for range users {
		<-asked // every ask published
	}
	// Every wait is parked in BLPOP on a connection of its own.
	eventually(t, "24 waits parked in BLPOP", func() bool {
		list, err := rdb.ClientList(ctx).Result()
		if err != nil {
			return false
		}
		n := 0
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, fmt.Sprintf(" db=%d ", db)) && strings.Contains(line, " cmd=blpop") {
				n++
			}
		}
		return n == users
	})
	pub := redis.NewPublisher(conn, redis.PublisherOptions{})
	for i := range 50 {
		n := app.Notification{ID: app.NewMessageID(), UserID: 100, Type: app.MsgGenericPush, Title: "t", Content: "c"}
		m, err := n.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Publish(ctx, m); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if len(returned) > 0 {
		t.Fatalf("an ask returned before 50 publishes were done: the publishes waited for the asks' connections")
	}
	for range users {
		<-returned
	}
}
