package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
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

func TestPublishAssignsSeqStoresAndPublishes(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("pubtest", db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistorySize: 3, HistoryTTL: time.Hour})

	sub := rdb.Subscribe(ctx, keys.Channel(1001))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // subscription confirmed
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		pos, err := pub.Publish(ctx, mustMessage(t, 1001, fmt.Sprint(i)))
		if err != nil || pos.Seq != int64(i) || pos.Epoch == "" {
			t.Fatalf("publish %d: position %+v, %v", i, pos, err)
		}
	}
	for i := 1; i <= 5; i++ {
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n app.Notification
		if err := json.Unmarshal([]byte(published(t, msg.Payload)), &n); err != nil {
			t.Fatalf("published %q: %v", msg.Payload, err)
		}
		if n.Seq != int64(i) || n.Content != fmt.Sprint(i) {
			t.Errorf("live message %d = seq %d content %q", i, n.Seq, n.Content)
		}
	}
	// The list keeps the newest 3 and expires.
	stored, _ := rdb.LRange(ctx, keys.Messages(1001), 0, -1).Result()
	if len(stored) != 3 {
		t.Fatalf("stored %d messages, want 3", len(stored))
	}
	var first app.Notification
	_ = json.Unmarshal([]byte(stored[0]), &first)
	if first.Seq != 3 {
		t.Errorf("oldest kept seq = %d, want 3", first.Seq)
	}
	if ttl, _ := rdb.TTL(ctx, keys.Messages(1001)).Result(); ttl < time.Hour || ttl > time.Hour+time.Minute {
		t.Errorf("list ttl = %v", ttl)
	}
	// Another user's sequence is its own.
	if pos, _ := pub.Publish(ctx, mustMessage(t, 1002, "x")); pos.Seq != 1 {
		t.Errorf("user 1002 first seq = %d", pos.Seq)
	}
}

func TestPublishIsIdempotentPerMessageID(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("pubtest", db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
	m := mustMessage(t, 7, "once")
	a, err := pub.Publish(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pub.Publish(ctx, m)
	if err != nil || a != b {
		t.Fatalf("republish position %+v, %v; want %+v", b, err, a)
	}
	if n, _ := rdb.LLen(ctx, keys.Messages(7)).Result(); n != 1 {
		t.Errorf("stored %d copies", n)
	}
	if c, _ := pub.Publish(ctx, mustMessage(t, 7, "next")); c.Seq != a.Seq+1 || c.Epoch != a.Epoch {
		t.Errorf("next position = %+v, want seq %d of epoch %s", c, a.Seq+1, a.Epoch)
	}
}

// TestNamespacesIsolateDeployments: two deployments on one Redis (different
// DB numbers) never share keys or channels, though pub/sub ignores the DB.
func TestNamespacesIsolateDeployments(t *testing.T) {
	ctx := context.Background()
	dbA, rdbA := testenv.MustRedisDB(t)
	dbB, rdbB := testenv.MustRedisDB(t)
	keysA, keysB := redis.NewKeys("gw", dbA), redis.NewKeys("gw", dbB)
	if keysA.Channel(1) == keysB.Channel(1) {
		t.Fatalf("deployments share channel %s", keysA.Channel(1))
	}
	subB := rdbB.Subscribe(ctx, keysB.Channel(1))
	defer subB.Close()
	if _, err := subB.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := redis.NewPublisher(redis.New(rdbA, keysA), redis.PublisherOptions{}).Publish(ctx, mustMessage(t, 1, "for A")); err != nil {
		t.Fatal(err)
	}
	if _, err := redis.NewPublisher(redis.New(rdbB, keysB), redis.PublisherOptions{}).Publish(ctx, mustMessage(t, 1, "for B")); err != nil {
		t.Fatal(err)
	}
	msg, err := subB.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n app.Notification
	_ = json.Unmarshal([]byte(published(t, msg.Payload)), &n)
	if n.Content != "for B" || n.Seq != 1 {
		t.Errorf("B's subscriber got %q seq %d, want B's own first message", n.Content, n.Seq)
	}
}

func TestPublishRejectsNonObjectPayload(t *testing.T) {
	db, rdb := testenv.MustRedisDB(t)
	pub := redis.NewPublisher(redis.New(rdb, redis.NewKeys("pubtest", db)), redis.PublisherOptions{})
	if _, err := pub.Publish(context.Background(), app.Message{ID: "x", UserID: 1, Payload: []byte(`[1]`)}); err == nil {
		t.Fatal("a JSON array was published")
	}
}

// TestRepublishWindowIsTheHistory: a message id keeps its seq while the
// message is among the stored ones; its id is trimmed with it, so the ids
// cost no more than the history.
func TestRepublishWindowIsTheHistory(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("pubtest", db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistorySize: 3})
	msgs := make([]app.Message, 5)
	for i := range msgs {
		msgs[i] = mustMessage(t, 7, fmt.Sprint(i+1))
		if _, err := pub.Publish(ctx, msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if pos, err := pub.Publish(ctx, msgs[3]); err != nil || pos.Seq != 4 {
		t.Errorf("republish of stored seq 4: %+v, %v", pos, err)
	}
	if n, _ := rdb.HLen(ctx, keys.Stream(7)).Result(); n != 3+3 { // epoch, seq, exp and the 3 stored ids
		t.Errorf("stream hash has %d fields, want 6", n)
	}
	if pos, err := pub.Publish(ctx, msgs[0]); err != nil || pos.Seq != 6 {
		t.Errorf("republish of trimmed seq 1: %+v, %v; want a new seq 6", pos, err)
	}
}

// TestKeysLiveTTLAfterTheLastMessage: a stream's keys expire history TTL
// (to TTL + slack) after the last message, and a publish moves the expiry
// only when it falls short of that.
func TestKeysLiveTTLAfterTheLastMessage(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("ttltest", db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistoryTTL: 2 * time.Hour}) // slack: 72 s
	if _, err := pub.Publish(ctx, mustMessage(t, 3, "a")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{keys.Stream(3), keys.Messages(3)} {
		ttl, _ := rdb.TTL(ctx, k).Result()
		if ttl < 2*time.Hour || ttl > 2*time.Hour+72*time.Second {
			t.Errorf("%s ttl %v, want 2h to 2h1m12s", k, ttl)
		}
	}
	// Shorten it by hand: the next publish lengthens it again.
	rdb.HSet(ctx, keys.Stream(3), redis.StreamExpiry, 1)
	rdb.Expire(ctx, keys.Messages(3), time.Minute)
	if _, err := pub.Publish(ctx, mustMessage(t, 3, "b")); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := rdb.TTL(ctx, keys.Messages(3)).Result(); ttl < 2*time.Hour {
		t.Errorf("messages ttl %v after a publish, want at least 2h", ttl)
	}
}
