package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestKeysPerUserStayConstant: after 300 users × 50 messages (history 20),
// reads and cursor writes, and a node's presence, each user has at most
// the two documented keys (stream, messages), the message ids in the
// stream are trimmed with the history, and every key the gateway wrote
// expires.
func TestKeysPerUserStayConstant(t *testing.T) {
	const users, perUser, history = 300, 50, 20
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("footprint", db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistorySize: history, HistoryTTL: time.Hour})
	streams := redis.NewStreams(redis.New(rdb, keys), redis.StreamsOptions{HistoryTTL: time.Hour})
	for i := range perUser {
		batch := make([]app.Message, users)
		for u := range users {
			batch[u] = mustMessage(t, int64(u+1), "m")
		}
		if _, err := pub.PublishBatch(ctx, batch); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	for u := int64(1); u <= users; u++ {
		page, err := streams.Read(ctx, u, app.Resume{FromCursor: true}, 100)
		if err != nil {
			t.Fatal(err)
		}
		streams.Advance(u, app.Position{Epoch: page.Epoch, Seq: page.Head})
	}
	// A reader of a user who never got a message creates that stream too.
	if _, err := streams.Read(ctx, users+1, app.Resume{FromCursor: true}, 100); err != nil {
		t.Fatal(err)
	}
	if err := streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	presence := coord.NewPresence(redis.New(rdb, keys), coord.PresenceOptions{NodeID: "n1"})
	presence.UserOnline(1)
	done := make(chan struct{})
	go func() { presence.Run(pctx); close(done) }()
	eventually(t, "presence written", func() bool {
		n, _ := rdb.Exists(ctx, keys.NodeUsers("n1")).Result()
		return n == 1
	})

	perUserKeys := map[string]int{}
	var all []string
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		all = append(all, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if !strings.HasPrefix(k, "{"+keys.Namespace()+":") {
			t.Errorf("key %q outside the namespace", k)
		}
		if ttl, _ := rdb.TTL(ctx, k).Result(); ttl <= 0 {
			t.Errorf("key %q does not expire (ttl %v)", k, ttl)
		}
		if tag, _, ok := strings.Cut(k, "}"); ok && strings.Contains(tag, ":u:") {
			perUserKeys[tag]++
		}
	}
	if len(perUserKeys) != users+1 {
		t.Errorf("%d users have keys, want %d", len(perUserKeys), users+1)
	}
	for tag, n := range perUserKeys {
		if n > 2 {
			t.Errorf("user %s has %d keys, want at most 2", tag, n)
		}
	}
	for u := int64(1); u <= users; u += 37 {
		// epoch, seq, cursor, exp and one field per stored message
		if n, _ := rdb.HLen(ctx, keys.Stream(u)).Result(); n != history+4 {
			t.Errorf("user %d's stream has %d fields, want %d (4 and an id per stored message)", u, n, history+4)
		}
		if n, _ := rdb.LLen(ctx, keys.Messages(u)).Result(); n != history {
			t.Errorf("user %d keeps %d messages, want %d", u, n, history)
		}
	}
	if len(all) > 2*(users+1)+3 {
		t.Errorf("%d keys for %d users and one node", len(all), users+1)
	}
	stop()
	<-done
}
