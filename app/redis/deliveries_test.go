package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// idleStreams are a node's Streams that never flush on their own: only
// Flush and FlushUser write their advances.
func idleStreams(rdb goredis.UniversalClient, keys redis.Keys) *redis.Streams {
	return redis.NewStreams(redis.New(rdb, keys), redis.StreamsOptions{FlushInterval: time.Hour, HistoryTTL: time.Hour})
}

// TestDeliveredFollowsTheCursorAcrossTrimsAndResets: a message is
// delivered once the stored cursor reaches its seq; a trimmed id is judged
// by its seq in the same epoch; after Redis lost the stream, the message
// is undelivered until its republished copy (new epoch, new seq) is.
func TestDeliveredFollowsTheCursorAcrossTrimsAndResets(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("dlv"), db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistorySize: 2, HistoryTTL: time.Hour})
	streams := idleStreams(rdb, keys)
	d := redis.NewDeliveries(redis.New(rdb, keys), time.Second)
	delivered := func(m app.Message, pos app.Position) bool {
		t.Helper()
		ok, err := d.Delivered(ctx, m.UserID, m.ID, pos)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	advance := func(pos app.Position) {
		t.Helper()
		streams.Advance(7, pos)
		if err := streams.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	m1, m2, m3 := mustMessage(t, 7, "1"), mustMessage(t, 7, "2"), mustMessage(t, 7, "3")
	never := mustMessage(t, 8, "to a user without a stream")
	var pos []app.Position
	for _, m := range []app.Message{m1, m2} {
		p, err := pub.Publish(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
	}
	got := []bool{delivered(m1, pos[0]), delivered(never, app.Position{Epoch: pos[0].Epoch, Seq: 1})}
	advance(pos[0])
	got = append(got, delivered(m1, pos[0]), delivered(m2, pos[1]))

	p3, err := pub.Publish(ctx, m3) // trims m1's id (history of 2)
	if err != nil {
		t.Fatal(err)
	}
	advance(p3)
	got = append(got, delivered(m1, pos[0]), delivered(m3, p3))

	// Redis loses the stream; m2 is published again: a new epoch, seq 1.
	if err := rdb.Del(ctx, keys.Stream(7), keys.Messages(7)).Err(); err != nil {
		t.Fatal(err)
	}
	got = append(got, delivered(m2, pos[1]))
	again, err := pub.Publish(ctx, m2)
	if err != nil || again.Epoch == pos[1].Epoch || again.Seq != 1 {
		t.Fatalf("republished after the reset at %+v (%v), want seq 1 of a new epoch", again, err)
	}
	got = append(got, delivered(m2, pos[1]), delivered(m3, p3))
	advance(again)
	got = append(got, delivered(m2, pos[1]), delivered(m3, p3))

	want := []bool{
		false, false, // nothing delivered; no stream at all
		true, false, // cursor 1 of 2
		true, true, // m1 trimmed: seq 1 <= cursor 3 in the same epoch
		false,        // the stream is gone
		false, false, // m2 again in the new epoch, not delivered; m3 lost with the old epoch
		true, false, // the new copy of m2 delivered; m3 was never republished
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Delivered (-want +got):\n%s", diff)
	}
}

// TestFlushUserWritesOneUsersAdvance: the user's advance is written at
// once; the others wait for the next Flush.
func TestFlushUserWritesOneUsersAdvance(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("dlv"), db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistoryTTL: time.Hour})
	streams := idleStreams(rdb, keys)
	cursor := func(user int64) int64 {
		c, _ := rdb.HGet(ctx, keys.Stream(user), redis.StreamCursor).Int64()
		return c
	}
	for _, user := range []int64{1, 2} {
		p, err := pub.Publish(ctx, mustMessage(t, user, "m"))
		if err != nil {
			t.Fatal(err)
		}
		streams.Advance(user, p)
	}
	if err := streams.FlushUser(ctx, 1); err != nil {
		t.Fatal(err)
	}
	got := []int64{cursor(1), cursor(2)}
	if err := streams.FlushUser(ctx, 3); err != nil { // nothing pending
		t.Fatal(err)
	}
	if err := streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got = append(got, cursor(1), cursor(2))
	if diff := cmp.Diff([]int64{1, 0, 1, 1}, got); diff != "" {
		t.Errorf("cursors of users 1 and 2 after FlushUser(1), then after Flush (-want +got):\n%s", diff)
	}
}
