package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// batchEnv is a publisher on a private Redis database.
type batchEnv struct {
	rdb  *goredis.Client
	keys redis.Keys
	pub  *redis.Publisher
}

// newBatchEnv returns a publisher with the default options on a fresh
// Redis database.
func newBatchEnv(tb testing.TB) *batchEnv {
	tb.Helper()
	db, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys("batchtest", db)
	return &batchEnv{rdb: rdb, keys: keys, pub: redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})}
}

// mustDecode decodes a stored or published message.
func mustDecode(tb testing.TB, s string) app.Notification {
	tb.Helper()
	var n app.Notification
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		tb.Fatalf("message %q: %v", s, err)
	}
	return n
}

// published returns the message of a published copy: what precedes the
// line of inbox counts the publish script appends.
func published(tb testing.TB, payload string) string {
	tb.Helper()
	env, ok := redis.ParseEnvelope(0, payload)
	if !ok || !env.HasCounts {
		tb.Fatalf("published %q: no envelope with inbox counts", payload)
	}
	return string(env.Raw)
}

// seqsOf returns the seqs of positions.
func seqsOf(positions []app.Position) []int64 {
	seqs := make([]int64, len(positions))
	for i, p := range positions {
		seqs[i] = p.Seq
	}
	return seqs
}

// storedContents returns the content of each message stored for user and
// the seqs they carry, oldest first.
func storedContents(tb testing.TB, env *batchEnv, user int64) ([]string, []int64) {
	tb.Helper()
	raw, err := env.rdb.LRange(context.Background(), env.keys.Messages(user), 0, -1).Result()
	if err != nil {
		tb.Fatal(err)
	}
	var contents []string
	var seqs []int64
	for _, s := range raw {
		n := mustDecode(tb, s)
		contents = append(contents, n.Content)
		seqs = append(seqs, n.Seq)
	}
	return contents, seqs
}

func TestPublishBatch(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	pub := env.pub
	// User 1 already has one message: the batch continues its sequence.
	if _, err := pub.Publish(ctx, mustMessage(t, 1, "before")); err != nil {
		t.Fatal(err)
	}
	sub := env.rdb.Subscribe(ctx, env.keys.Channel(1), env.keys.Channel(2))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := []app.Message{
		mustMessage(t, 1, "a1"), mustMessage(t, 2, "b1"), mustMessage(t, 1, "a2"),
		mustMessage(t, 2, "b2"), mustMessage(t, 3, "c1"), mustMessage(t, 1, "a3"),
	}
	positions, err := pub.PublishBatch(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{2, 1, 3, 2, 1, 4}, seqsOf(positions)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	// Live delivery follows the batch order on every channel.
	var live []string
	for range 5 { // user 3 is not subscribed
		m, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := mustDecode(t, published(t, m.Payload))
		live = append(live, fmt.Sprintf("%d:%s#%d", n.UserID, n.Content, n.Seq))
	}
	if diff := cmp.Diff([]string{"1:a1#2", "2:b1#1", "1:a2#3", "2:b2#2", "1:a3#4"}, live); diff != "" {
		t.Errorf("live messages (-want +got):\n%s", diff)
	}

	// Republishing the batch, with one new message, gives the same seqs
	// and stores nothing twice.
	again, err := pub.PublishBatch(ctx, append(msgs, mustMessage(t, 3, "c2")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{2, 1, 3, 2, 1, 4, 2}, seqsOf(again)); diff != "" {
		t.Errorf("republished seqs (-want +got):\n%s", diff)
	}
	tests := []struct {
		user     int64
		contents []string
		seqs     []int64
	}{
		{1, []string{"before", "a1", "a2", "a3"}, []int64{1, 2, 3, 4}},
		{2, []string{"b1", "b2"}, []int64{1, 2}},
		{3, []string{"c1", "c2"}, []int64{1, 2}},
	}
	for _, tt := range tests {
		contents, seqs := storedContents(t, env, tt.user)
		if diff := cmp.Diff(tt.contents, contents); diff != "" {
			t.Errorf("user %d stored contents (-want +got):\n%s", tt.user, diff)
		}
		if diff := cmp.Diff(tt.seqs, seqs); diff != "" {
			t.Errorf("user %d stored seqs (-want +got):\n%s", tt.user, diff)
		}
	}
}

func TestPublishBatchReloadsFlushedScript(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	if _, err := env.pub.PublishBatch(ctx, []app.Message{mustMessage(t, 5, "first")}); err != nil {
		t.Fatal(err)
	}
	if err := env.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	positions, err := env.pub.PublishBatch(ctx, []app.Message{mustMessage(t, 5, "second"), mustMessage(t, 6, "other")})
	if err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
	if diff := cmp.Diff([]int64{2, 1}, seqsOf(positions)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if contents, _ := storedContents(t, env, 5); !cmp.Equal(contents, []string{"first", "second"}) {
		t.Errorf("user 5 stored %q", contents)
	}
}

func TestPublishBatchRefusesBadPayloads(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	batch := []app.Message{mustMessage(t, 8, "fine"), {ID: "x", UserID: 8, Payload: []byte(`[1]`)}}
	if _, err := env.pub.PublishBatch(ctx, batch); err == nil {
		t.Fatal("a JSON array was published")
	}
	if n, _ := env.rdb.LLen(ctx, env.keys.Messages(8)).Result(); n != 0 {
		t.Errorf("a refused batch stored %d messages", n)
	}
	if seqs, err := env.pub.PublishBatch(ctx, nil); err != nil || len(seqs) != 0 {
		t.Errorf("empty batch: %v, %v", seqs, err)
	}
}

// BenchmarkPublish publishes one message per round trip.
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	env := newBatchEnv(b)
	n := 0
	for b.Loop() {
		if _, err := env.pub.Publish(ctx, mustMessage(b, int64(n%100+1), "bench")); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPublishBatch100 publishes 100 messages (to 100 users) per round
// trip.
func BenchmarkPublishBatch100(b *testing.B) {
	ctx := context.Background()
	env := newBatchEnv(b)
	n := 0
	msgs := make([]app.Message, 100)
	for b.Loop() {
		for i := range msgs {
			msgs[i] = mustMessage(b, int64(i+1), "bench")
		}
		if _, err := env.pub.PublishBatch(ctx, msgs); err != nil {
			b.Fatal(err)
		}
		n += len(msgs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// TestConcurrentPublishesShareRoundTrips: publishes from many goroutines
// at once (which the publisher merges into shared pipelines) each get
// their own positions, in order per user, and a canceled one reports it.
func TestConcurrentPublishesShareRoundTrips(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	const users, each = 20, 25
	var wg sync.WaitGroup
	got := make([][]int64, users)
	for u := range users {
		wg.Go(func() {
			for range each {
				pos, err := env.pub.Publish(ctx, mustMessage(t, int64(u+1), "c"))
				if err != nil {
					t.Error(err)
					return
				}
				got[u] = append(got[u], pos.Seq)
			}
		})
	}
	wg.Wait()
	want := make([]int64, each)
	for i := range want {
		want[i] = int64(i + 1)
	}
	for u := range users {
		if diff := cmp.Diff(want, got[u]); diff != "" {
			t.Errorf("user %d seqs (-want +got):\n%s", u+1, diff)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := env.pub.Publish(canceled, mustMessage(t, 1, "late")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled publish: %v", err)
	}
}
