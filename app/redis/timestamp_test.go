package redis_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

func TestMessageHeaderParsers(t *testing.T) {
	for _, tt := range []struct {
		msg     string
		seq     int64
		seqOK   bool
		ts      int64
		tsOK    bool
		msgType string
	}{
		{`{"seq":7,"ts":1795638260123,"id":"x","type":2,"detail":{"type":9}}`, 7, true, 1795638260123, true, "2"},
		{`{"seq":7,"id":"x","type":6}`, 7, true, 0, false, "6"},
		{`{"seq":7}`, 0, false, 0, false, "unknown"},
		{`{"seq":,"ts":1}`, 0, false, 0, false, "unknown"},
		{`{"ts":1,"seq":2}`, 0, false, 0, false, "unknown"},
		{`{"seq":3,"ts":x,"type":7}`, 3, true, 0, false, "unknown"},
		{`{"id":"x","type":"1"}`, 0, false, 0, false, "unknown"},
		{``, 0, false, 0, false, "unknown"},
	} {
		seq, ok := redis.Seq([]byte(tt.msg))
		if seq != tt.seq || ok != tt.seqOK {
			t.Errorf("Seq(%s) = %d, %v; want %d, %v", tt.msg, seq, ok, tt.seq, tt.seqOK)
		}
		ts, ok := redis.Timestamp([]byte(tt.msg))
		if ts != tt.ts || ok != tt.tsOK {
			t.Errorf("Timestamp(%s) = %d, %v; want %d, %v", tt.msg, ts, ok, tt.ts, tt.tsOK)
		}
		if got := redis.MessageType([]byte(tt.msg)); got != tt.msgType {
			t.Errorf("MessageType(%s) = %q, want %q", tt.msg, got, tt.msgType)
		}
	}
}

// TestPublishStampsRedisTime: a published message starts with its seq and
// the Redis server's time of the publish in milliseconds.
func TestPublishStampsRedisTime(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("tstest", db)
	pub := redis.NewPublisher(rdb, keys, redis.PublisherOptions{})
	before, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, mustMessage(t, 1001, "a")); err != nil {
		t.Fatal(err)
	}
	after, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := rdb.LIndex(ctx, keys.Messages(1001), 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, `{"seq":1,"ts":`) {
		t.Fatalf("stored message %s does not start with seq and ts", stored)
	}
	ts, ok := redis.Timestamp([]byte(stored))
	if !ok || ts < before.UnixMilli() || ts > after.UnixMilli() {
		t.Errorf("ts = %d, %v; want within Redis time [%d, %d]", ts, ok, before.UnixMilli(), after.UnixMilli())
	}
	if n := mustDecode(t, stored); n.Seq != 1 || n.Content != "a" || n.Type != app.MsgGenericPush {
		t.Errorf("stored message decodes to %+v", n)
	}
}

// countPublished is a PublishMetrics that counts by type.
type countPublished struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countPublished) MessagePublished(msgType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[msgType]++
}

// TestPublisherCountsFreshMessages: Publish and PublishBatch count each
// message stored and published now, by type; a republished id is not
// counted again.
func TestPublisherCountsFreshMessages(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	counts := &countPublished{n: map[string]int{}}
	pub := redis.NewPublisher(rdb, redis.NewKeys("counttest", db), redis.PublisherOptions{Metrics: counts})

	note := app.Notification{ID: app.NewMessageID(), Type: app.MsgReservationConfirmed, UserID: 1, Title: "t", Content: "c"}
	confirmed, err := note.Message()
	if err != nil {
		t.Fatal(err)
	}
	generic := mustMessage(t, 2, "g")
	for range 2 {
		if _, err := pub.Publish(ctx, confirmed); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.PublishBatch(ctx, []app.Message{generic, confirmed, mustMessage(t, 3, "h"), generic}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"2": 1, "6": 2}, counts.n); diff != "" {
		t.Errorf("published counts (-want +got):\n%s", diff)
	}
}
