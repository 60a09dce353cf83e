package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// recorder is a Receiver that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	msgs    map[int64][]string
	resubed map[int64]int
}

func (r *recorder) Deliver(env *app.Envelope) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs[env.UserID] = append(r.msgs[env.UserID], string(env.Raw))
}

func (r *recorder) Resubscribed(user int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resubed[user]++
}

func (r *recorder) count(user int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs[user])
}

func TestSubscriberAcquireReleaseAndProbe(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("subtest", db)
	sub := redis.NewSubscriber(rdb, keys, redis.SubscriberOptions{NodeID: "n1", ProbeInterval: 50 * time.Millisecond, StaleAfter: 300 * time.Millisecond})
	rec := &recorder{msgs: map[int64][]string{}, resubed: map[int64]int{}}
	if err := sub.Start(ctx, rec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })

	// Without probes the subscription cannot prove itself: not healthy.
	eventually(t, "stale without probes", func() bool { return errors.Is(sub.Healthy(), redis.ErrSubscriptionStale) })
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go sub.Probe(pctx)
	eventually(t, "healthy with probes", func() bool { return sub.Healthy() == nil })

	// Two sessions of one user share one subscription; the last release ends it.
	if err := sub.Acquire(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if err := sub.Acquire(ctx, 7); err != nil {
		t.Fatal(err)
	}
	pub := redis.NewPublisher(rdb, keys, redis.PublisherOptions{})
	mustPublish := func() {
		if _, err := pub.Publish(ctx, message(t, 7)); err != nil {
			t.Fatal(err)
		}
	}
	mustPublish()
	eventually(t, "delivery", func() bool { return rec.count(7) == 1 })
	sub.Release(7)
	mustPublish()
	eventually(t, "delivery with one holder left", func() bool { return rec.count(7) == 2 })
	sub.Release(7)
	// The writer unsubscribes shortly after the last release.
	eventually(t, "unsubscribed", func() bool {
		n, _ := rdb.PubSubNumSub(ctx, keys.Channel(7)).Result()
		return sub.Subscribed() == 0 && n[keys.Channel(7)] == 0
	})
	sub.Release(7) // an extra release is harmless

	// Killing the pub/sub connection is noticed and reported per user.
	if err := sub.Acquire(ctx, 8); err != nil {
		t.Fatal(err)
	}
	id := pubsubClientID(t, rdb)
	if err := rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "resubscription reported", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.resubed[8] > 0
	})
	eventually(t, "healthy again", func() bool { return sub.Healthy() == nil })
	if sub.Resubscriptions() == 0 {
		t.Error("resubscription not counted")
	}
}

func message(tb testing.TB, user int64) app.Message {
	tb.Helper()
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user, Title: "t", Content: "c", Timestamp: 1}
	m, err := n.Message()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// pubsubClientID finds the one pub/sub connection on rdb's database.
func pubsubClientID(tb testing.TB, rdb *goredis.Client) string {
	tb.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	if err != nil {
		tb.Fatal(err)
	}
	db := fmt.Sprintf(" db=%d ", rdb.Options().DB)
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " flags=P ") && strings.Contains(line, db) {
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, "id="); ok {
					return v
				}
			}
		}
	}
	tb.Fatal("no pub/sub connection found")
	return ""
}

// eventually polls cond for up to 10 s.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
