package subscribe_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/pkg/testenv"
)

// recorder is a Receiver that keeps what it was given.
type recorder struct {
	mu       sync.Mutex
	msgs     map[int64][]string
	resubed  map[int64]int
	sessions int           // what Revoke answers: the sessions "closed"
	revoked  map[int64]int // Revoke calls by user
	evicted  []string      // the sessions Evict was asked to close
	dropped  int           // messages the subscriber dropped (SubscriberMetrics)
	inbox    []string      // the inbox counts it was told, "user:unseen,unread"
}

func (r *recorder) Inbox(user int64, c app.InboxCounts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inbox = append(r.inbox, fmt.Sprintf("%d:%d,%d", user, c.Unseen, c.Unread))
}

func (r *recorder) inboxes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.inbox)
}

func (r *recorder) revokes(user int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revoked[user]
}

func (r *recorder) drops() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

func (r *recorder) MessageDropped(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropped++
}

func newRecorder() *recorder {
	return &recorder{msgs: map[int64][]string{}, resubed: map[int64]int{}, revoked: map[int64]int{}}
}

func (r *recorder) Revoke(user int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked[user]++
	return r.sessions
}

func (r *recorder) Positions(user int64) []app.SessionPosition {
	return []app.SessionPosition{{Session: "s1", NodeID: "recorder", Epoch: "e", Sent: user}}
}

func (r *recorder) Evict(user int64, session string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evicted = append(r.evicted, session)
}

func (r *recorder) Deliver(env *app.Envelope) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs[env.UserID] = append(r.msgs[env.UserID], string(env.Raw))
	if env.HasCounts {
		r.inbox = append(r.inbox, fmt.Sprintf("message %d:%d,%d", env.UserID, env.Counts.Unseen, env.Counts.Unread))
	}
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
	sub := subscribe.New(redis.New(rdb, keys), subscribe.Options{NodeID: "n1", ProbeInterval: 50 * time.Millisecond, StaleAfter: 300 * time.Millisecond})
	rec := newRecorder()
	if err := sub.Start(ctx, rec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })

	// Without probes the subscription cannot prove itself: not healthy.
	eventually(t, "stale without probes", func() bool { return errors.Is(sub.Healthy(), subscribe.ErrSubscriptionStale) })
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
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
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

// eventually polls cond until it holds, for up to 10*time.Second.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testenv.Eventually(tb, 10*time.Second, what, cond)
}

// startThroughProxy starts a subscriber whose Redis connections go through
// a fault-injecting proxy, with probes running.
func startThroughProxy(t *testing.T) (*subscribe.Subscriber, *recorder, *testenv.Proxy, *goredis.Client, redis.Keys) {
	t.Helper()
	srv := testenv.MustRedisServer(t)
	proxy := testenv.MustProxy(t, srv.Addr)
	rdb := goredis.NewClient(&goredis.Options{Addr: proxy.Addr})
	t.Cleanup(func() { rdb.Close() })
	keys := redis.NewKeys("partition", 0)
	sub := subscribe.New(redis.New(rdb, keys), subscribe.Options{NodeID: "n1", ProbeInterval: 50 * time.Millisecond, StaleAfter: 300 * time.Millisecond})
	rec := newRecorder()
	ctx, stop := context.WithCancel(context.Background())
	if err := sub.Start(ctx, rec); err != nil {
		t.Fatal(err)
	}
	go sub.Probe(ctx)
	t.Cleanup(func() {
		proxy.Heal()
		stop()
		sub.Close()
	})
	return sub, rec, proxy, srv.Client(0), keys
}

// TestSubscriberNeverBlocksOnAPartition: while Redis is unreachable (the
// connection reset and every new one hanging, go-redis holding its own lock
// through reconnect attempts), Acquire gives up
// at its own deadline and Release returns at once: no lock is held across
// a network round trip.
func TestSubscriberNeverBlocksOnAPartition(t *testing.T) {
	sub, _, proxy, _, _ := startThroughProxy(t)
	if err := sub.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	proxy.Partition()
	proxy.Cut() // go-redis reconnects, and its new connections hang
	// Long enough for go-redis to find the connection dead and hold its own
	// lock through reconnect attempts (read timeout 3 s each).
	end := time.Now().Add(6 * time.Second)
	for user := int64(100); time.Now().Before(end); user++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := sub.Acquire(ctx, user)
		cancel()
		if err == nil {
			t.Fatalf("user %d: Acquire succeeded during the partition", user)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("user %d: Acquire with a 200ms deadline took %v during the partition", user, d)
		}
	}
	start := time.Now()
	sub.Release(1)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Release took %v during the partition", d)
	}
	if sub.Healthy() == nil {
		t.Error("healthy during a 6 s partition")
	}
	proxy.Heal()
	eventually(t, "healthy after the partition", func() bool { return sub.Healthy() == nil })
}

// TestSubscriberReadyOnlyOnItsOwnConfirmation: an Acquire that timed out
// during a partition, followed by a new Acquire of the same user, returns
// only once Redis confirmed a SUBSCRIBE after the partition healed; what is
// published then is delivered.
func TestSubscriberReadyOnlyOnItsOwnConfirmation(t *testing.T) {
	sub, rec, proxy, direct, keys := startThroughProxy(t)
	proxy.Partition()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	if err := sub.Acquire(ctx, 7); err == nil {
		t.Fatal("Acquire succeeded during the partition")
	}
	cancel()
	ready := make(chan error, 1)
	go func() { ready <- sub.Acquire(context.Background(), 7) }()
	select {
	case err := <-ready:
		t.Fatalf("second Acquire returned during the partition: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	proxy.Heal()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	n, err := direct.PubSubNumSub(context.Background(), keys.Channel(7)).Result()
	if err != nil || n[keys.Channel(7)] != 1 {
		t.Fatalf("ready while Redis counts %v subscribers (%v)", n, err)
	}
	if _, err := redis.NewPublisher(redis.New(direct, keys), redis.PublisherOptions{}).Publish(context.Background(), message(t, 7)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery after the partition", func() bool { return rec.count(7) == 1 })
	sub.Release(7)
}

// TestSubscriberReplacesASilentConnection: a pub/sub connection that goes
// silent without breaking (go-redis waits on it forever) is found by the
// probe and replaced; the subscriptions move to the new connection, are
// reported as restored (sessions catch up), and deliver again.
func TestSubscriberReplacesASilentConnection(t *testing.T) {
	sub, rec, proxy, direct, keys := startThroughProxy(t)
	if err := sub.Acquire(context.Background(), 9); err != nil {
		t.Fatal(err)
	}
	before := sub.Resubscriptions()
	proxy.Stall() // every connection open now is silent; new ones work
	eventually(t, "subscription restored on a new connection", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.resubed[9] > 0
	})
	if sub.Resubscriptions() == before {
		t.Error("replacement not counted")
	}
	eventually(t, "healthy on the new connection", func() bool { return sub.Healthy() == nil })
	if _, err := redis.NewPublisher(redis.New(direct, keys), redis.PublisherOptions{}).Publish(context.Background(), message(t, 9)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery on the new connection", func() bool { return rec.count(9) == 1 })
	sub.Release(9)
}
