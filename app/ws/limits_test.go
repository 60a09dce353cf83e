package ws_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/ws"
)

// TestRevokeClosesSessionsOnEveryNode: an operator's disconnect reaches the
// user's sessions on both nodes (4003) and no other user's; until refuses
// new handshakes and refreshes, and then lets them through again.
func TestRevokeClosesSessionsOnEveryNode(t *testing.T) {
	c := newCluster(t)
	a, b := jwtNode(t, c, "a", nil), jwtNode(t, c, "b", nil)
	tok, _ := tokenFor(t, 1001, time.Hour)
	sessions := []*client{dial(t, a.url("token="+tok)), dial(t, a.url("token="+tok)), dial(t, b.url("token="+tok))}
	otherTok, _ := tokenFor(t, 1002, time.Hour)
	other := dial(t, b.url("token="+otherTok))
	for _, cl := range append(sessions, other) {
		cl.connected(t)
	}
	until := time.Now().Add(3 * time.Second)
	got, err := redis.NewRevocations(c.rdb, c.keys, 2*time.Second).Disconnect(context.Background(), 1001, until)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(redis.Disconnected{Closed: 3, Nodes: 2}, got); diff != "" {
		t.Errorf("Disconnect (-want +got):\n%s", diff)
	}
	for i, cl := range sessions {
		code, text := cl.closedWith(t)
		if diff := cmp.Diff(closing{ws.CloseRevoked, "revoked"}, closing{code, text}); diff != "" {
			t.Errorf("session %d close (-want +got):\n%s", i, diff)
		}
	}
	// Until then: handshakes are refused, and so are refreshes.
	if code := handshake(t, a.url("token="+tok), nil); code != http.StatusForbidden {
		t.Errorf("handshake of a revoked user: %d, want 403", code)
	}
	other.send(t, map[string]string{"action": "refresh", "token": otherTok})
	if f := other.next(t); f.Event != "refreshed" {
		t.Errorf("another user's refresh: %+v", f)
	}
	if err := c.rdb.Set(context.Background(), c.keys.Revoked(1002), until.Unix(), time.Until(until)).Err(); err != nil {
		t.Fatal(err)
	}
	other.send(t, map[string]string{"action": "refresh", "token": otherTok})
	if f := other.next(t); f.Event != "error" || f.Code != "permission_denied" {
		t.Errorf("refresh of a revoked user: %+v, want a permission_denied error", f)
	}
	// Afterwards: allowed again.
	time.Sleep(time.Until(until.Truncate(time.Second).Add(time.Second)))
	dial(t, a.url("token="+tok)).connected(t)
	if n := a.metrics.count("closed:" + ws.ReasonRevoked); n != 2 {
		t.Errorf("node a counted %d revoked sessions, want 2", n)
	}
}

// sessionLimit gives a node a running registry of limit sessions per user.
func sessionLimit(tb testing.TB, c *cluster, limit int, policy string) func(*ws.Options) {
	return func(o *ws.Options) {
		r := redis.NewSessionRegistry(c.rdb, c.keys, redis.SessionOptions{NodeID: o.NodeID, Limit: limit, Policy: policy})
		ctx, stop := context.WithCancel(context.Background())
		tb.Cleanup(stop)
		go r.Run(ctx)
		o.Sessions = r
	}
}

func TestSessionLimitClosesTheOldestAcrossNodes(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", sessionLimit(t, c, 2, redis.SessionPolicyCloseOldest))
	b := startNode(t, c, "b", sessionLimit(t, c, 2, redis.SessionPolicyCloseOldest))
	oldest := dial(t, a.url("user_id=1001"))
	oldest.connected(t)
	second := dial(t, b.url("user_id=1001"))
	second.connected(t)
	third := dial(t, b.url("user_id=1001"))
	third.connected(t)
	code, text := oldest.closedWith(t)
	if diff := cmp.Diff(closing{ws.CloseTooManySessions, "too many sessions"}, closing{code, text}); diff != "" {
		t.Errorf("oldest session's close (-want +got):\n%s", diff)
	}
	c.push(t, 1001, 1)
	for _, cl := range []*client{second, third} {
		if got := cl.seqs(t, 1); !cmp.Equal(got, []int64{1}) {
			t.Errorf("a newer session got %v", got)
		}
	}
	eventually(t, "counted", func() bool { return a.metrics.count("closed:"+ws.ReasonTooManySessions) == 1 })
}

func TestSessionLimitRefusesTheNewOne(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", sessionLimit(t, c, 2, redis.SessionPolicyRefuse))
	b := startNode(t, c, "b", sessionLimit(t, c, 2, redis.SessionPolicyRefuse))
	first := dial(t, a.url("user_id=1001"))
	first.connected(t)
	dial(t, b.url("user_id=1001")).connected(t)
	if code := handshake(t, b.url("user_id=1001"), nil); code != http.StatusTooManyRequests {
		t.Errorf("third session: %d, want 429", code)
	}
	if code := handshake(t, a.url("user_id=1002"), nil); code != http.StatusSwitchingProtocols {
		t.Errorf("another user: %d, want 101", code)
	}
	// A session that closes frees its place at once.
	first.conn.Close()
	eventually(t, "place freed", func() bool {
		return handshake(t, a.url("user_id=1001"), nil) == http.StatusSwitchingProtocols
	})
}

func TestHandshakesPerAddress(t *testing.T) {
	c := newCluster(t)
	limiter := redis.NewRateLimiter(c.rdb, c.keys, redis.RateLimiterOptions{
		Rates: map[string]redis.Rate{ws.LimitHandshake: {Count: 3, Per: time.Minute}}})
	a := startNode(t, c, "a", func(o *ws.Options) { o.Handshakes = limiter })
	b := startNode(t, c, "b", func(o *ws.Options) { o.Handshakes = limiter })
	var got []int
	for _, n := range []*node{a, b, a, b} {
		got = append(got, handshake(t, n.url("user_id=1001"), nil))
	}
	if diff := cmp.Diff([]int{101, 101, 101, 429}, got); diff != "" {
		t.Errorf("handshakes from one address over two nodes (-want +got):\n%s", diff)
	}
	_, resp, err := websocket.DefaultDialer.Dial(a.url("user_id=1001"), nil)
	if err == nil || resp == nil {
		t.Fatalf("a fifth handshake: %v", err)
	}
	if s, _ := strconv.Atoi(resp.Header.Get("Retry-After")); s < 1 || s > 20 {
		t.Errorf("Retry-After %q, want 1-20 seconds", resp.Header.Get("Retry-After"))
	}
}

func TestClientFrameRate(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.FrameRate = 5 })
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	// A burst of as many as the rate is fine (each answered: nothing sent yet).
	for range 5 {
		cl.send(t, map[string]any{"action": "ack", "seq": 1})
		if f := cl.next(t); f.Event != "error" {
			t.Fatalf("within the rate: %+v", f)
		}
	}
	for range 5 {
		if err := cl.conn.WriteJSON(map[string]any{"action": "ack", "seq": 1}); err != nil {
			break // closed already
		}
	}
	code, text := cl.closedWith(t)
	if diff := cmp.Diff(closing{ws.CloseRateLimited, "rate limited: too many frames"}, closing{code, text}); diff != "" {
		t.Errorf("close (-want +got):\n%s", diff)
	}
	eventually(t, "counted once", func() bool {
		return a.metrics.count("limited:"+ws.LimitFrames) == 1 && a.metrics.count("closed:"+ws.ReasonRateLimited) == 1
	})
}
