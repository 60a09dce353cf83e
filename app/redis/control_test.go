package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// startSubscriber is a node's subscriber on keys with a recorder whose
// Revoke answers sessions.
func startSubscriber(tb testing.TB, keys redis.Keys, db int, id string, sessions int) (*redis.Subscriber, *recorder) {
	tb.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: testenv.RedisAddr(), DB: db})
	tb.Cleanup(func() { rdb.Close() })
	rec := newRecorder()
	sub := redis.NewSubscriber(rdb, keys, redis.SubscriberOptions{NodeID: id, Metrics: rec})
	rec.sessions = sessions
	if err := sub.Start(context.Background(), rec); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sub.Close() })
	return sub, rec
}

func TestDisconnectAsksTheNodesHoldingTheUser(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("ctl"), db)
	subA, recA := startSubscriber(t, keys, db, "a", 2)
	subB, recB := startSubscriber(t, keys, db, "b", 1)
	_, recC := startSubscriber(t, keys, db, "c", 5) // holds no session of the user
	for _, s := range []*redis.Subscriber{subA, subB} {
		if err := s.Acquire(ctx, 42); err != nil {
			t.Fatal(err)
		}
	}
	rev := redis.NewRevocations(redis.NewAsker(rdb, nil, keys), time.Second)
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	got, err := rev.Disconnect(ctx, 42, until)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(redis.Disconnected{Closed: 3, Nodes: 2}, got); diff != "" {
		t.Errorf("Disconnect (-want +got):\n%s", diff)
	}
	calls := []int{recA.revokes(42), recB.revokes(42), recC.revokes(42), recA.count(42), recA.drops()}
	if diff := cmp.Diff([]int{1, 1, 0, 0, 0}, calls); diff != "" {
		t.Errorf("Revoke calls on a, b, c; messages delivered and dropped on a (-want +got):\n%s", diff)
	}
	if u, err := rev.RevokedUntil(ctx, 42); err != nil || !u.Equal(until) {
		t.Errorf("RevokedUntil = %v, %v; want %v", u, err, until)
	}
	if ttl := rdb.PTTL(ctx, keys.Revoked(42)).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("revocation TTL %v, want about an hour", ttl)
	}
	if u, _ := rev.RevokedUntil(ctx, 43); !u.IsZero() {
		t.Errorf("user 43 revoked until %v", u)
	}
	// Nobody holds user 44: nothing to wait for.
	if got, err := rev.Disconnect(ctx, 44, time.Time{}); err != nil || got != (redis.Disconnected{}) {
		t.Errorf("Disconnect of an offline user = %+v, %v", got, err)
	}
	if n, _ := rdb.Exists(ctx, keys.Revoked(44)).Result(); n != 0 {
		t.Error("a disconnect without until revoked the user")
	}
}

func TestRateLimiter(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("rl"), db)
	m := &limitCounter{}
	l := redis.NewRateLimiter(rdb, keys, redis.RateLimiterOptions{Metrics: m, Rates: map[string]redis.Rate{
		"reserve":   {Count: 3, Per: time.Minute},
		"handshake": {Count: 2, Per: time.Second},
	}})
	var got []string
	outcome := func(err error) string {
		var le *app.LimitError
		switch {
		case err == nil:
			return "ok"
		case errors.As(err, &le) && le.RetryAfter > 0 && le.RetryAfter <= 20*time.Second:
			return le.Limit
		}
		return err.Error()
	}
	for range 4 {
		got = append(got, outcome(l.AllowUser(ctx, "reserve", 1001)))
	}
	got = append(got, outcome(l.AllowUser(ctx, "reserve", 1002))) // another user
	got = append(got, outcome(l.AllowUser(ctx, "remind", 1001)))  // no such limit
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.1")))
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.1")))
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.1")))
	got = append(got, outcome(l.AllowAddr(ctx, "handshake", "10.0.0.2")))
	want := []string{"ok", "ok", "ok", "reserve", "ok", "ok", "ok", "ok", "handshake", "ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"reserve": 1, "handshake": 1}, m.by()); diff != "" {
		t.Errorf("Limited (-want +got):\n%s", diff)
	}
}

// TestDisconnectWaitIsBounded: a subscriber that never answers (not a
// gateway node) is reported, after the wait, as unanswered.
func TestDisconnectWaitIsBounded(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("ctl"), db)
	sub, _ := startSubscriber(t, keys, db, "a", 1)
	if err := sub.Acquire(ctx, 42); err != nil {
		t.Fatal(err)
	}
	mute := rdb.Subscribe(ctx, keys.Channel(42))
	defer mute.Close()
	if _, err := mute.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := redis.NewRevocations(redis.NewAsker(rdb, nil, keys), 300*time.Millisecond).Disconnect(ctx, 42, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(redis.Disconnected{Closed: 1, Nodes: 1, Unanswered: 1}, got); diff != "" {
		t.Errorf("Disconnect (-want +got):\n%s", diff)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("Disconnect took %v, want about its 300ms wait", took)
	}
}

// TestAsksNeverStallPublishes: a burst of disconnects and webhook checks
// whose nodes never answer parks their waits for seconds; publishes on the
// node's shared pool go on meanwhile, because the waits have connections
// of their own (NewWaitClient).
func TestAsksNeverStallPublishes(t *testing.T) {
	ctx := context.Background()
	db, _ := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("ask"), db)
	rdb := goredis.NewClient(&goredis.Options{Addr: testenv.RedisAddr(), DB: db, PoolSize: 4})
	t.Cleanup(func() { rdb.Close() })
	waits := redis.NewWaitClient(rdb)
	t.Cleanup(func() { waits.Close() })
	asker := redis.NewAsker(rdb, waits, keys)

	// A listener on every user's channel that never answers: each ask
	// waits its whole wait.
	const users = 24
	channels := make([]string, users)
	for i := range channels {
		channels[i] = keys.Channel(int64(i + 1))
	}
	deaf := rdb.Subscribe(ctx, channels...)
	defer deaf.Close()
	if _, err := deaf.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{}, users)
	go func() {
		for range deaf.Channel() {
			asked <- struct{}{}
		}
	}()

	returned := make(chan time.Time, users)
	revocations := redis.NewRevocations(asker, 2*time.Second)
	deliveries := redis.NewDeliveries(asker, 2*time.Second)
	for i := range users {
		user := int64(i + 1)
		go func() {
			if i%2 == 0 {
				_, _ = revocations.Disconnect(ctx, user, time.Time{})
			} else {
				_, _ = deliveries.Delivered(ctx, user, "m", app.Position{Epoch: "e", Seq: 1})
			}
			returned <- time.Now()
		}()
	}
	for range users {
		<-asked // every ask published
	}
	// Every wait is parked in BLPOP on a connection of its own.
	eventually(t, "24 waits parked in BLPOP", func() bool {
		list, err := rdb.ClientList(ctx).Result()
		if err != nil {
			return false
		}
		n := 0
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, fmt.Sprintf(" db=%d ", db)) && strings.Contains(line, " cmd=blpop") {
				n++
			}
		}
		return n == users
	})
	pub := redis.NewPublisher(rdb, keys, redis.PublisherOptions{})
	for i := range 50 {
		n := app.Notification{ID: app.NewMessageID(), UserID: 100, Type: app.MsgGenericPush, Title: "t", Content: "c"}
		m, err := n.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Publish(ctx, m); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if len(returned) > 0 {
		t.Fatalf("an ask returned before 50 publishes were done: the publishes waited for the asks' connections")
	}
	for range users {
		<-returned
	}
}
