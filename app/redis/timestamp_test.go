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

func TestParseEnvelope(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want *app.Envelope // nil: not an envelope
	}{
		{`{"seq":7,"epoch":"k3x","ts":1795638260123,"id":"x","type":2,"detail":{"type":9}}`,
			&app.Envelope{UserID: 5, Epoch: "k3x", Seq: 7, TS: 1795638260123}},
		{`{"seq":1,"epoch":"a","ts":0}`, &app.Envelope{UserID: 5, Epoch: "a", Seq: 1, TS: 0}},
		{`{"seq":7,"ts":1795638260123,"id":"x","type":2}`, nil},             // no epoch (before epochs)
		{`{"seq":7,"epoch":"","ts":1,"id":"x"}`, nil},                       // empty epoch
		{`{"seq":0,"epoch":"a","ts":1,"id":"x"}`, nil},                      // seq 0
		{`{"seq":7,"epoch":"a","ts":x,"type":7}`, nil},                      // bad ts
		{`{"seq":7,"epoch":"a`, nil},                                        // cut
		{`{"seq":7,"epoch":"` + strings.Repeat("a", 40) + `","ts":1}`, nil}, // epoch too long
		{`{"ts":1,"seq":2,"epoch":"a"}`, nil},
		{`{"id":"x","type":"1"}`, nil},
		{``, nil},
	} {
		got, ok := redis.ParseEnvelope(5, tt.msg)
		if ok != (tt.want != nil) {
			t.Errorf("ParseEnvelope(%s) ok = %v, want %v", tt.msg, ok, tt.want != nil)
			continue
		}
		if !ok {
			continue
		}
		tt.want.Raw = []byte(tt.msg)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseEnvelope(%s) (-want +got):\n%s", tt.msg, diff)
		}
	}
}

func TestMessageType(t *testing.T) {
	for msg, want := range map[string]string{
		`{"id":"x","type":2,"detail":{"type":9}}`: "2",
		`{"id":"x","type":6}`:                     "6",
		`{"id":"x","type":7}`:                     "unknown",
		`{"id":"x","type":12}`:                    "unknown",
		`{"id":"x","type":"1"}`:                   "unknown",
		`{"id":"x"}`:                              "unknown",
		``:                                        "unknown",
	} {
		if got := redis.MessageType([]byte(msg)); got != want {
			t.Errorf("MessageType(%s) = %q, want %q", msg, got, want)
		}
	}
}

// TestPublishStampsRedisTime: a published message starts with its seq and
// the Redis server's time of the publish in milliseconds.
func TestPublishStampsRedisTime(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("tstest", db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
	before, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	pos, err := pub.Publish(ctx, mustMessage(t, 1001, "a"))
	if err != nil {
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
	env, ok := redis.ParseEnvelope(1001, stored)
	if !ok || env.Seq != 1 || env.Epoch != pos.Epoch {
		t.Fatalf("stored message %s does not start with seq 1, epoch %s and ts", stored, pos.Epoch)
	}
	if env.TS < before.UnixMilli() || env.TS > after.UnixMilli() {
		t.Errorf("ts = %d; want within Redis time [%d, %d]", env.TS, before.UnixMilli(), after.UnixMilli())
	}
	if n := mustDecode(t, stored); n.Seq != 1 || n.Epoch != pos.Epoch || n.Content != "a" || n.Type != app.MsgGenericPush {
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
	pub := redis.NewPublisher(redis.New(rdb, redis.NewKeys("counttest", db)), redis.PublisherOptions{Metrics: counts})

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
