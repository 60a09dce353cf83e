package subscribe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/pkg/testenv"
)

// startSubscriber is a node's subscriber on keys with a recorder whose
// Revoke answers sessions.
func startSubscriber(tb testing.TB, keys redis.Keys, db int, id string, sessions int) (*subscribe.Subscriber, *recorder) {
	tb.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: testenv.RedisAddr(), DB: db})
	tb.Cleanup(func() { rdb.Close() })
	rec := newRecorder()
	sub := subscribe.New(redis.New(rdb, keys), subscribe.Options{NodeID: id, Metrics: rec})
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
	for _, s := range []*subscribe.Subscriber{subA, subB} {
		if err := s.Acquire(ctx, 42); err != nil {
			t.Fatal(err)
		}
	}
	rev := coord.NewRevocations(redis.New(rdb, keys), time.Second)
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	got, err := rev.Disconnect(ctx, 42, until)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app.Disconnected{Closed: 3, Nodes: 2}, got); diff != "" {
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
	if got, err := rev.Disconnect(ctx, 44, time.Time{}); err != nil || got != (app.Disconnected{}) {
		t.Errorf("Disconnect of an offline user = %+v, %v", got, err)
	}
	if n, _ := rdb.Exists(ctx, keys.Revoked(44)).Result(); n != 0 {
		t.Error("a disconnect without until revoked the user")
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
	got, err := coord.NewRevocations(redis.New(rdb, keys), 300*time.Millisecond).Disconnect(ctx, 42, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app.Disconnected{Closed: 1, Nodes: 1, Unanswered: 1}, got); diff != "" {
		t.Errorf("Disconnect (-want +got):\n%s", diff)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("Disconnect took %v, want about its 300ms wait", took)
	}
}

// idleStreams are a node's Streams that never flush on their own: only
// Flush and FlushUser write their advances.
func idleStreams(rdb goredis.UniversalClient, keys redis.Keys) *redis.Streams {
	return redis.NewStreams(redis.New(rdb, keys), redis.StreamsOptions{FlushInterval: time.Hour, HistoryTTL: time.Hour})
}

// TestDeliveredAsksTheNodesForTheirCursor: an advance still in the memory
// of the node holding the user's session is written on request (the flush
// control message) before Delivered reads again; a node that holds no
// session of the user is not asked, and its unwritten advance does not
// count.
func TestDeliveredAsksTheNodesForTheirCursor(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("dlv"), db)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistoryTTL: time.Hour})
	holding, elsewhere := idleStreams(rdb, keys), idleStreams(rdb, keys)
	sub := subscribe.New(redis.New(rdb, keys), subscribe.Options{NodeID: "a", Cursors: holding})
	if err := sub.Start(ctx, newRecorder()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	if err := sub.Acquire(ctx, 7); err != nil { // a session of user 7 on node a
		t.Fatal(err)
	}
	d := redis.NewDeliveries(redis.New(rdb, keys), 5*time.Second)

	m7, m9 := mustMessage(t, 7, "to 7"), mustMessage(t, 9, "to 9")
	p7, err := pub.Publish(ctx, m7)
	if err != nil {
		t.Fatal(err)
	}
	p9, err := pub.Publish(ctx, m9)
	if err != nil {
		t.Fatal(err)
	}
	holding.Advance(7, p7)
	elsewhere.Advance(9, p9) // user 9's session closed; its node flushes later
	got7, err := d.Delivered(ctx, 7, m7.ID, p7)
	if err != nil {
		t.Fatal(err)
	}
	got9, err := d.Delivered(ctx, 9, m9.ID, p9)
	if err != nil {
		t.Fatal(err)
	}
	if !got7 || got9 {
		t.Errorf("Delivered = %v for the held user, %v for the other; want true, false", got7, got9)
	}
	if c, _ := rdb.HGet(ctx, keys.Stream(7), redis.StreamCursor).Int64(); c != p7.Seq {
		t.Errorf("stored cursor of user 7 = %d, want %d", c, p7.Seq)
	}
}

func TestSessionLimitClosesTheOldest(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("sl"), db)
	sub, rec := startSubscriber(t, keys, db, "a", 0)
	if err := sub.Acquire(ctx, 7); err != nil {
		t.Fatal(err)
	}
	r := coord.NewSessionRegistry(redis.New(rdb, keys), coord.SessionOptions{NodeID: "a", Limit: 2})
	oldest := mustAdmit(t, r, 7)
	second := mustAdmit(t, r, 7)
	mustAdmit(t, r, 7)
	eventually(t, "the oldest evicted", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.evicted) == 1
	})
	rec.mu.Lock()
	evicted := rec.evicted[0]
	rec.mu.Unlock()
	if evicted != oldest {
		t.Errorf("evicted %q, want the oldest %q (not %q)", evicted, oldest, second)
	}
	if live, err := coord.LiveSessions(ctx, redis.New(rdb, keys), 7); err != nil || len(live) != 2 {
		t.Errorf("%d sessions counted (%v), want 2", len(live), err)
	}
}

// TestPositionsAskTheNodesHoldingTheUser: each node holding sessions of
// the user answers its sessions' positions; a node without any is not
// asked.
func TestPositionsAskTheNodesHoldingTheUser(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("ctl"), db)
	subA, _ := startSubscriber(t, keys, db, "a", 1)
	subB, _ := startSubscriber(t, keys, db, "b", 1)
	startSubscriber(t, keys, db, "c", 1) // holds no session of the user
	for _, s := range []*subscribe.Subscriber{subA, subB} {
		if err := s.Acquire(ctx, 42); err != nil {
			t.Fatal(err)
		}
	}
	got, err := redis.New(rdb, keys).Positions(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	want := []app.SessionPosition{{Session: "s1", NodeID: "recorder", Epoch: "e", Sent: 42}, {Session: "s1", NodeID: "recorder", Epoch: "e", Sent: 42}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Positions (-want +got):\n%s", diff)
	}
}

// TestInboxCountsReachTheReceiver: a message hands its counts with it (its
// Raw without them), and a mark's counts arrive as Inbox, in order.
// (The recorder notes a message's counts in its inbox list too.)
func TestInboxCountsReachTheReceiver(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("inboxsub"), db)
	sub, rec := startSubscriber(t, keys, db, "a", 1)
	if err := sub.Acquire(ctx, 5); err != nil {
		t.Fatal(err)
	}
	c := redis.New(rdb, keys)
	pub := redis.NewPublisher(c, redis.PublisherOptions{HistorySize: 10, HistoryTTL: time.Hour})
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: 5, Title: "t", Content: "c", Timestamp: 1}
	m, _ := n.Message()
	if _, err := pub.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := redis.NewInbox(c).Mark(ctx, 5, app.InboxMark{State: app.StateSeen, All: true}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "the mark's counts", func() bool { return len(rec.inboxes()) == 2 })
	if diff := cmp.Diff([]string{"message 5:1,1", "5:0,1"}, rec.inboxes()); diff != "" {
		t.Errorf("Inbox calls (-want +got):\n%s", diff)
	}
	rec.mu.Lock()
	raw := rec.msgs[5]
	rec.mu.Unlock()
	if len(raw) != 1 || raw[0][len(raw[0])-1] != '}' || strings.Contains(raw[0], "unseen") {
		t.Errorf("delivered %q", raw)
	}
}
