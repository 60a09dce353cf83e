package ws_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

func redisPublisherWithHistory(c *cluster, size int) *redis.Publisher {
	return redis.NewPublisher(redis.New(c.rdb, c.keys), redis.PublisherOptions{HistorySize: size})
}

func mustPublish(tb testing.TB, p *redis.Publisher, user int64) int64 {
	tb.Helper()
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user, Title: "t", Content: "c", Timestamp: time.Now().Unix()}
	m, _ := n.Message()
	pos, err := p.Publish(context.Background(), m)
	if err != nil {
		tb.Fatal(err)
	}
	return pos.Seq
}

func publishContent(tb testing.TB, c *cluster, user int64, content string) {
	tb.Helper()
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user, Title: "t", Content: content, Timestamp: time.Now().Unix()}
	m, _ := n.Message()
	if _, err := c.pub.Publish(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
}

func mustUnmarshal(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%q: %v", b, err)
	}
}
