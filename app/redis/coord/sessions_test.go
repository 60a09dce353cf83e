package coord_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/pkg/testenv"
)

// limitCounter counts refusals by limit.
type limitCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *limitCounter) Limited(limit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[limit]++
}

func (c *limitCounter) by() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

func mustAdmit(tb testing.TB, r *coord.SessionRegistry, user int64) string {
	tb.Helper()
	id, until, err := r.Admit(context.Background(), user)
	if err != nil || id == "" || !until.IsZero() {
		tb.Fatalf("Admit(%d) = %q, %v, %v", user, id, until, err)
	}
	return id
}

func TestSessionLimitRefuse(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("sl"), db)
	m := &limitCounter{}
	opts := coord.SessionOptions{Limit: 2, Policy: coord.SessionPolicyRefuse, Metrics: m}
	a := coord.NewSessionRegistry(redis.New(rdb, keys), with(opts, "a"))
	b := coord.NewSessionRegistry(redis.New(rdb, keys), with(opts, "b"))
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go a.Run(rctx)
	first := mustAdmit(t, a, 7)
	mustAdmit(t, b, 7) // the limit is over both nodes
	_, _, err := b.Admit(ctx, 7)
	var le *app.LimitError
	if !errors.As(err, &le) || le.Limit != coord.LimitSessions {
		t.Fatalf("third session: %v, want a sessions limit error", err)
	}
	mustAdmit(t, b, 8) // another user
	a.Release(7, first)
	eventually(t, "a closed session frees its place", func() bool {
		n, _ := b.Count(ctx, 7)
		return n == 1
	})
	mustAdmit(t, b, 7)
	if diff := cmp.Diff(map[string]int{coord.LimitSessions: 1}, m.by()); diff != "" {
		t.Errorf("Limited (-want +got):\n%s", diff)
	}
}

// TestRevokedUserIsNotAdmitted: the admission reads the user's revocation
// in the same step: a revoked user's session is not counted and closes no
// other; the revocation's end is returned for auth to decide.
func TestRevokedUserIsNotAdmitted(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("sl"), db)
	r := coord.NewSessionRegistry(redis.New(rdb, keys), coord.SessionOptions{NodeID: "a", Limit: 1})
	mustAdmit(t, r, 7)
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if _, err := coord.NewRevocations(redis.New(rdb, keys), 10*time.Millisecond).Disconnect(ctx, 7, until); err != nil {
		t.Fatal(err)
	}
	id, got, err := r.Admit(ctx, 7)
	if err != nil || id != "" || !got.Equal(until) {
		t.Fatalf("Admit of a revoked user = %q, %v, %v; want nothing admitted until %v", id, got, err, until)
	}
	if n, _ := r.Count(ctx, 7); n != 1 {
		t.Errorf("count %d, want the first session only", n)
	}
	mustAdmit(t, r, 8) // others are admitted
}

func with(o coord.SessionOptions, node string) coord.SessionOptions {
	o.NodeID = node
	return o
}

// TestCrashedNodeStopsCounting: a node that stops refreshing (killed) has
// its sessions fall out of the count after TTL, while a live node's stay.
func TestCrashedNodeStopsCounting(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("sl"), db)
	opts := coord.SessionOptions{Limit: 2, Policy: coord.SessionPolicyRefuse, TTL: 600 * time.Millisecond, Refresh: 50 * time.Millisecond}
	live := coord.NewSessionRegistry(redis.New(rdb, keys), with(opts, "live"))
	dead := coord.NewSessionRegistry(redis.New(rdb, keys), with(opts, "dead")) // never runs: as if killed
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go live.Run(rctx)
	mustAdmit(t, live, 7)
	mustAdmit(t, dead, 7)
	start := time.Now()
	if _, _, err := live.Admit(ctx, 7); err == nil {
		t.Fatal("a third session was admitted")
	}
	eventually(t, "the dead node's session stops counting", func() bool {
		n, _ := live.Count(ctx, 7)
		return n == 1
	})
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Errorf("the dead node's session stopped counting after %v, before its TTL", waited)
	}
	mustAdmit(t, live, 7)
	// The live node's sessions outlive several TTLs.
	deadline := time.Now().Add(3 * opts.TTL)
	for time.Now().Before(deadline) {
		if n, _ := live.Count(ctx, 7); n != 2 {
			t.Fatalf("live sessions count %d, want 2", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop() // a normal stop removes the node's sessions
	eventually(t, "removed at stop", func() bool {
		n, _ := rdb.ZCard(ctx, keys.Sessions(7)).Result()
		return n == 0
	})
}

// TestSessionRefreshClosesWhatNoLongerCounts: a node's refresh has its
// sessions closed (an evict control message on the user's channel) when
// the limit evicted them, or when they fell out of the count while the
// user has the most sessions allowed without them; a session whose key
// Redis lost counts again instead, so a flush closes nobody.
func TestSessionRefreshClosesWhatNoLongerCounts(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("sr"), db)
	evicts := rdb.Subscribe(ctx, keys.Channel(7), keys.Channel(8), keys.Channel(9))
	defer evicts.Close()
	if _, err := evicts.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	opts := coord.SessionOptions{Limit: 1, TTL: time.Minute, Refresh: 50 * time.Millisecond}
	a := coord.NewSessionRegistry(redis.New(rdb, keys), with(opts, "a"))
	b := coord.NewSessionRegistry(redis.New(rdb, keys), with(opts, "b"))

	evicted := mustAdmit(t, a, 7)
	mustAdmit(t, b, 7) // evicts the first: its control message is read here and "lost"
	fellOut := mustAdmit(t, a, 8)
	if err := rdb.ZRem(ctx, keys.Sessions(8), fellOut).Err(); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, b, 8) // the user is full without the first
	lost := mustAdmit(t, a, 9)
	if err := rdb.Del(ctx, keys.Sessions(9)).Err(); err != nil { // as FLUSHDB would
		t.Fatal(err)
	}
	told := map[string]bool{}
	ch := evicts.Channel()
	if m := <-ch; !strings.Contains(m.Payload, evicted) {
		t.Fatalf("the admission's own message: %s", m.Payload)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go a.Run(rctx)
	for len(told) < 2 {
		select {
		case m := <-ch:
			for _, id := range []string{evicted, fellOut, lost} {
				if strings.Contains(m.Payload, `"evict"`) && strings.Contains(m.Payload, id) {
					told[id] = true
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("told to close %v within 5s, want the evicted and the fallen out session", told)
		}
	}
	if told[lost] {
		t.Errorf("the session whose key was lost was told to close")
	}
	eventually(t, "the lost session counted again", func() bool {
		n, err := a.Count(ctx, 9)
		return err == nil && n == 1
	})
}

// TestLiveSessions lists a user's counted sessions of two nodes (one whose
// id has a dash), oldest first, with the node and admission time read
// from each id; a released one drops out once written.
func TestLiveSessions(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	c := redis.New(rdb, redis.NewKeys(testenv.RandomName("ls"), db))
	a := coord.NewSessionRegistry(c, coord.SessionOptions{Limit: 5, NodeID: "gateway-1"})
	b := coord.NewSessionRegistry(c, coord.SessionOptions{Limit: 5, NodeID: "b"})
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go a.Run(rctx)
	before := time.Now().Add(-time.Second)
	first, second := mustAdmit(t, a, 1001), mustAdmit(t, b, 1001)
	mustAdmit(t, b, 1002)
	got, err := coord.LiveSessions(ctx, c, 1001)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Node string }
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.ID, s.NodeID})
		if s.Since.Before(before) || s.Since.After(time.Now().Add(time.Second)) {
			t.Errorf("session %s admitted at %v, want about now", s.ID, s.Since)
		}
	}
	if diff := cmp.Diff([]row{{first, "gateway-1"}, {second, "b"}}, rows); diff != "" {
		t.Errorf("live sessions (-want +got):\n%s", diff)
	}
	a.Release(1001, first)
	eventually(t, "the released session leaves the list", func() bool {
		got, err := coord.LiveSessions(ctx, c, 1001)
		return err == nil && len(got) == 1 && got[0].ID == second
	})
}
