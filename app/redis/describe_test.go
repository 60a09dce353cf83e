package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestDescribe reads a stream as it is: nothing for a user without one
// (and none is created), then the epoch, head, delivered cursor, how many
// are stored and the newest messages after publishes and an advance.
func TestDescribe(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("describe"), db)
	conn := redis.New(rdb, keys)
	streams := redis.NewStreams(conn, redis.StreamsOptions{HistoryTTL: time.Hour})
	none, err := streams.Describe(ctx, 1001)
	if err != nil || none.Epoch != "" || none.Stored != 0 || len(none.Recent) != 0 {
		t.Fatalf("no stream: %+v, %v", none, err)
	}
	if n, _ := rdb.Exists(ctx, keys.Stream(1001)).Result(); n != 0 {
		t.Fatal("Describe created the stream")
	}
	pub := redis.NewPublisher(conn, redis.PublisherOptions{HistorySize: 25, HistoryTTL: time.Hour})
	var pos app.Position
	for i := 1; i <= 22; i++ {
		if pos, err = pub.Publish(ctx, mustMessage(t, 1001, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	streams.Advance(1001, app.Position{Seq: 7, Epoch: pos.Epoch})
	if err := streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := streams.Describe(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch != pos.Epoch || st.Head != 22 || st.Delivered != 7 || st.Stored != 22 || len(st.Recent) != 20 {
		t.Fatalf("described %+v (%d recent), want epoch %s, head 22, delivered 7, 22 stored, 20 recent", st, len(st.Recent), pos.Epoch)
	}
	if st.Recent[0].Seq != 3 || st.Recent[19].Seq != 22 {
		t.Errorf("recent seqs %d..%d, want 3..22", st.Recent[0].Seq, st.Recent[19].Seq)
	}
}
