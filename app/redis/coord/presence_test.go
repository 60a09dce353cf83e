package coord_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/pkg/testenv"
)

// node is a Presence on a client of its own whose Run goroutine the test
// controls.
type node struct {
	*coord.Presence
	client goredis.UniversalClient
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// startNode runs a Presence for opts until the test ends.
func startNode(tb testing.TB, rdb goredis.UniversalClient, keys redis.Keys, opts coord.PresenceOptions) *node {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	client := redis.New(rdb, keys).NewClient(0)
	tb.Cleanup(func() { client.Close() })
	n := &node{Presence: coord.NewPresence(redis.New(client, keys), opts), client: client, cancel: cancel,
		done: make(chan struct{})}
	go func() {
		defer close(n.done)
		n.Run(ctx)
	}()
	tb.Cleanup(n.stop)
	return n
}

// stop ends Run normally and waits for it: the node's keys are removed.
func (n *node) stop() {
	n.once.Do(n.cancel)
	<-n.done
}

// kill ends Run as a crash would and waits for it: with its client closed,
// the node cannot remove its keys.
func (n *node) kill() {
	n.client.Close()
	n.once.Do(n.cancel)
	<-n.done
}

// waitFor polls cond every 10 ms until it reports "" or timeout passes, and
// fails with its last report.
func waitFor(tb testing.TB, timeout time.Duration, cond func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// onlineIs is a waitFor condition: p.Online() equals want.
func onlineIs(ctx context.Context, p *coord.Presence, want []int64) func() string {
	return func() string {
		got, err := p.Online(ctx)
		if err != nil {
			return err.Error()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return "online users (-want +got):\n" + diff
		}
		return ""
	}
}

// statsAre is a waitFor condition: p.Stats() equals want.
func statsAre(ctx context.Context, p *coord.Presence, want app.ClusterStats) func() string {
	return func() string {
		got, err := p.Stats(ctx)
		if err != nil {
			return err.Error()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return "stats (-want +got):\n" + diff
		}
		return ""
	}
}

// Two nodes: Online is the union of their users, Stats has both with their
// counts and extras.
func TestPresenceUnionAndStats(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	at := time.Now()
	clock := func() time.Time { return at } // fixed: stats are exact
	opts := func(id string) coord.PresenceOptions {
		return coord.PresenceOptions{NodeID: id, Heartbeat: 50 * time.Millisecond, TTL: time.Minute, Now: clock}
	}
	a := startNode(t, rdb, keys, opts("node-a"))
	b := startNode(t, rdb, keys, opts("node-b"))
	a.SetConnections(3)
	a.SetInfo("http_addr", "10.0.0.1:8080")
	a.SetInfo("gone", "x")
	a.SetInfo("gone", "")         // removed
	a.SetInfo("users", "1000000") // standard field: ignored
	b.SetConnections(1)
	for _, u := range []int64{1001, 1002} {
		a.UserOnline(u)
	}
	for _, u := range []int64{1002, 1003} {
		b.UserOnline(u)
	}
	reader := coord.NewPresence(redis.New(rdb, keys), coord.PresenceOptions{NodeID: "reader", Now: clock}) // never runs
	waitFor(t, 5*time.Second, onlineIs(ctx, reader, []int64{1001, 1002, 1003}))
	waitFor(t, 5*time.Second, statsAre(ctx, reader, app.ClusterStats{
		TotalConnections: 4, OnlineUsers: 3,
		Nodes: []app.NodeStats{
			{NodeID: "node-a", Connections: 3, Users: 2, StartedAt: at.Unix(), HeartbeatAt: at.UnixMilli(),
				Extra: map[string]string{"http_addr": "10.0.0.1:8080"}},
			{NodeID: "node-b", Connections: 1, Users: 2, StartedAt: at.Unix(), HeartbeatAt: at.UnixMilli()},
		},
	}))
}

// Changes reach Redis without waiting for a heartbeat; of changes queued
// together the last wins per user.
func TestPresenceOfflineIsFlushed(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	// The heartbeat never comes during the test: only the flush of queued
	// changes can make them visible.
	opts := func(id string) coord.PresenceOptions {
		return coord.PresenceOptions{NodeID: id, Heartbeat: time.Hour, TTL: 2 * time.Hour}
	}
	a := startNode(t, rdb, keys, opts("node-a"))
	b := startNode(t, rdb, keys, opts("node-b"))

	steps := []struct {
		name   string
		change func()
		want   []int64
	}{
		{"online on both", func() {
			a.UserOnline(1001)
			a.UserOnline(1002)
			b.UserOnline(1002)
		}, []int64{1001, 1002}},
		{"offline on one node only", func() { a.UserOffline(1002) }, []int64{1001, 1002}},
		{"offline on the last node", func() { b.UserOffline(1002) }, []int64{1001}},
		// 1003 is queued after 1004's offline: once 1003 shows, 1004's
		// last change has been applied too.
		{"online then offline before the flush", func() {
			a.UserOnline(1004)
			a.UserOffline(1004)
			a.UserOnline(1003)
		}, []int64{1001, 1003}},
		{"offline then online again", func() {
			a.UserOffline(1001)
			a.UserOnline(1001)
			a.UserOffline(1003)
		}, []int64{1001}},
	}
	for _, s := range steps {
		start := time.Now()
		s.change()
		waitFor(t, 5*time.Second, onlineIs(ctx, a.Presence, s.want))
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: visible after %v, want well under a second", s.name, d)
		}
	}
	waitFor(t, 5*time.Second, func() string {
		st, err := a.Stats(ctx)
		if err != nil {
			return err.Error()
		}
		got := map[string]int{}
		for _, n := range st.Nodes {
			got[n.NodeID] = n.Users
		}
		if diff := cmp.Diff(map[string]int{"node-a": 1, "node-b": 0}, got); diff != "" {
			return "users per node (-want +got):\n" + diff
		}
		return ""
	})
}

// A killed node vanishes once TTL passes: at once for readers, then from
// the node list (pruned by the live node) and its keys (expired).
func TestPresenceKilledNodeExpires(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	opts := func(id string) coord.PresenceOptions {
		return coord.PresenceOptions{NodeID: id, Heartbeat: 100 * time.Millisecond, TTL: 500 * time.Millisecond}
	}
	a := startNode(t, rdb, keys, opts("node-a"))
	b := startNode(t, rdb, keys, opts("node-b"))
	a.UserOnline(1001)
	b.UserOnline(1002)
	waitFor(t, 5*time.Second, onlineIs(ctx, b.Presence, []int64{1001, 1002}))

	killed := time.Now()
	a.kill()
	waitFor(t, 5*time.Second, onlineIs(ctx, b.Presence, []int64{1002}))
	if d := time.Since(killed); d > 2*time.Second {
		t.Errorf("killed node's users gone after %v, want about TTL (500ms)", d)
	}
	waitFor(t, 5*time.Second, func() string {
		st, err := b.Stats(ctx)
		if err != nil {
			return err.Error()
		}
		var ids []string
		for _, n := range st.Nodes {
			ids = append(ids, n.NodeID)
		}
		if diff := cmp.Diff([]string{"node-b"}, ids); diff != "" {
			return "live nodes (-want +got):\n" + diff
		}
		return ""
	})
	waitFor(t, 5*time.Second, func() string {
		left, err := rdb.Exists(ctx, keys.Node("node-a"), keys.NodeUsers("node-a")).Result()
		if err != nil {
			return err.Error()
		}
		members, err := rdb.ZRange(ctx, keys.Nodes(), 0, -1).Result()
		if err != nil {
			return err.Error()
		}
		if left != 0 || len(members) != 1 {
			return fmt.Sprintf("killed node: %d keys left, node list %v", left, members)
		}
		return ""
	})
}

// A node that stops normally removes its keys before Run returns.
func TestPresenceGracefulStop(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	a := startNode(t, rdb, keys, coord.PresenceOptions{NodeID: "node-a", Heartbeat: time.Hour, TTL: 2 * time.Hour})
	a.UserOnline(1001)
	waitFor(t, 5*time.Second, onlineIs(ctx, a.Presence, []int64{1001}))

	a.stop()
	if msg := onlineIs(ctx, a.Presence, []int64{})(); msg != "" {
		t.Error(msg)
	}
	n, err := rdb.Exists(ctx, keys.Nodes(), keys.Node("node-a"), keys.NodeUsers("node-a")).Result()
	if err != nil || n != 0 {
		t.Errorf("after stop: %d keys left, %v", n, err)
	}
}

// A node restarted under the same id does not bring back the users of its
// previous life, even while those are still live.
func TestPresenceRestartStartsEmpty(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	opts := coord.PresenceOptions{NodeID: "node-a", Heartbeat: time.Hour, TTL: 2 * time.Hour}
	first := startNode(t, rdb, keys, opts)
	first.UserOnline(1001)
	waitFor(t, 5*time.Second, onlineIs(ctx, first.Presence, []int64{1001}))
	first.kill() // its keys would live two hours

	second := startNode(t, rdb, keys, opts)
	// Only the restart's first heartbeat can empty the set within the test.
	waitFor(t, 5*time.Second, onlineIs(ctx, second.Presence, []int64{}))
	second.UserOnline(1002)
	waitFor(t, 5*time.Second, onlineIs(ctx, second.Presence, []int64{1002}))
}

// A user set lost behind the node's back (expired during a stall, Redis
// restarted) is rewritten at the next heartbeat.
func TestPresenceRewritesLostUserSet(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	a := startNode(t, rdb, keys, coord.PresenceOptions{NodeID: "node-a", Heartbeat: 50 * time.Millisecond, TTL: time.Minute})
	a.UserOnline(1001)
	a.UserOnline(1002)
	waitFor(t, 5*time.Second, onlineIs(ctx, a.Presence, []int64{1001, 1002}))
	if err := rdb.Del(ctx, keys.NodeUsers("node-a")).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, onlineIs(ctx, a.Presence, []int64{1001, 1002}))
}

// Readers ignore a node whose heartbeat is older than TTL before anyone
// prunes it.
func TestPresenceIgnoresStaleNodes(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("presence", db)
	ttl := 30 * time.Second
	now := time.Now()
	reader := coord.NewPresence(redis.New(rdb, keys), coord.PresenceOptions{NodeID: "reader", TTL: ttl, Now: func() time.Time { return now }})

	tests := []struct {
		name string
		age  time.Duration
		want []int64
	}{
		{"fresh", 0, []int64{1001}},
		{"exactly TTL old", ttl, []int64{1001}},
		{"older than TTL", ttl + time.Millisecond, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := rdb.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			beat := now.Add(-tt.age).UnixMilli()
			rdb.ZAdd(ctx, keys.Nodes(), goredis.Z{Score: float64(beat), Member: "node-x"})
			rdb.SAdd(ctx, keys.NodeUsers("node-x"), 1001)
			rdb.HSet(ctx, keys.Node("node-x"), "node_id", "node-x", "connections", 1, "users", 1,
				"heartbeat_at", strconv.FormatInt(beat, 10))

			got, err := reader.Online(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("online (-want +got):\n%s", diff)
			}
			st, err := reader.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(len(tt.want), len(st.Nodes)); diff != "" {
				t.Errorf("live nodes (-want +got):\n%s", diff)
			}
		})
	}
}

// Two deployments on one Redis database do not see each other.
func TestPresenceNamespaces(t *testing.T) {
	ctx := t.Context()
	db, rdb := testenv.MustRedisDB(t)
	opts := coord.PresenceOptions{NodeID: "node-1", Heartbeat: 50 * time.Millisecond, TTL: time.Minute}
	blue := startNode(t, rdb, redis.NewKeys("blue", db), opts)
	green := startNode(t, rdb, redis.NewKeys("green", db), opts)
	blue.UserOnline(1001)
	green.UserOnline(1002)
	blue.SetConnections(1)
	green.SetConnections(2)
	waitFor(t, 5*time.Second, onlineIs(ctx, blue.Presence, []int64{1001}))
	waitFor(t, 5*time.Second, onlineIs(ctx, green.Presence, []int64{1002}))
	for _, n := range []*node{blue, green} {
		st, err := n.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Nodes) != 1 || st.OnlineUsers != 1 {
			t.Errorf("stats %+v, want one node and one user", st)
		}
	}
	blue.stop()
	if msg := onlineIs(ctx, green.Presence, []int64{1002})(); msg != "" {
		t.Errorf("green after blue stopped: %s", msg)
	}
}
