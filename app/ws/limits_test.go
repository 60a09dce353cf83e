package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/houseview/gateway/app"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/protocol"
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
	got, err := coord.NewRevocations(redis.New(c.rdb, c.keys), 2*time.Second).Disconnect(context.Background(), 1001, until)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app.Disconnected{Closed: 3, Nodes: 2}, got); diff != "" {
		t.Errorf("Disconnect (-want +got):\n%s", diff)
	}
	for i, cl := range sessions {
		code, text := cl.closedWith(t)
		if diff := cmp.Diff(closing{protocol.CloseRevoked, "revoked"}, closing{code, text}); diff != "" {
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
	longer, _ := tokenFor(t, 1002, 2*time.Hour) // a refresh that would extend the session
	other.send(t, map[string]string{"action": "refresh", "token": longer})
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
		r := coord.NewSessionRegistry(redis.New(c.rdb, c.keys), coord.SessionOptions{NodeID: o.NodeID, Limit: limit, Policy: policy})
		ctx, stop := context.WithCancel(context.Background())
		tb.Cleanup(stop)
		go r.Run(ctx)
		o.Sessions = r
	}
}

func TestSessionLimitClosesTheOldestAcrossNodes(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", sessionLimit(t, c, 2, coord.SessionPolicyCloseOldest))
	b := startNode(t, c, "b", sessionLimit(t, c, 2, coord.SessionPolicyCloseOldest))
	oldest := dial(t, a.url("user_id=1001"))
	oldest.connected(t)
	second := dial(t, b.url("user_id=1001"))
	second.connected(t)
	third := dial(t, b.url("user_id=1001"))
	third.connected(t)
	code, text := oldest.closedWith(t)
	if diff := cmp.Diff(closing{protocol.CloseTooManySessions, "too many sessions"}, closing{code, text}); diff != "" {
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
	a := startNode(t, c, "a", sessionLimit(t, c, 2, coord.SessionPolicyRefuse))
	b := startNode(t, c, "b", sessionLimit(t, c, 2, coord.SessionPolicyRefuse))
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
	limiter := coord.NewRateLimiter(redis.New(c.rdb, c.keys), coord.RateLimiterOptions{
		Rates: map[string]coord.Rate{ws.LimitHandshake: {Count: 3, Per: time.Minute}}})
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

// TestCostlyFramesAreLimited: pings over the frame rate are dropped and
// answered once with an error frame saying when to send again; a client
// that waits that long goes on; one that keeps sending is closed with 4029.
func TestCostlyFramesAreLimited(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.FrameRate = 5 })
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	ping := map[string]any{"action": "ping"}
	for range 5 {
		cl.send(t, ping)
	}
	for range 5 {
		if f := cl.next(t); f.Event != "pong" {
			t.Fatalf("within the rate: %+v", f)
		}
	}
	cl.send(t, ping)
	f := cl.next(t)
	if f.Event != "error" || f.Code != "resource_exhausted" || f.Limit != "frames" || f.RetryAfterMS <= 0 || f.RetryAfterMS > 200 {
		t.Fatalf("over the rate: %+v, want a resource_exhausted error with limit frames and retry_after_ms", f)
	}
	// The honest client waits as told, and is answered again.
	time.Sleep(time.Duration(f.RetryAfterMS) * time.Millisecond)
	cl.send(t, ping)
	if f := cl.next(t); f.Event != "pong" {
		t.Fatalf("after retry_after_ms: %+v", f)
	}
	// One that does not is closed.
	for range 20 {
		if err := cl.conn.WriteJSON(ping); err != nil {
			break // closed already
		}
	}
	code, text := cl.closedWith(t)
	if diff := cmp.Diff(closing{protocol.CloseRateLimited, "rate limited: too many frames"}, closing{code, text}); diff != "" {
		t.Errorf("close (-want +got):\n%s", diff)
	}
	eventually(t, "counted", func() bool {
		return a.metrics.count("limited:"+ws.LimitFrames) == 2 && a.metrics.count("closed:"+ws.ReasonRateLimited) == 1
	})
}

// TestUnsentAcksAreCharged: acks of seqs never sent cost a frame each
// (and an error frame), so they cannot flood a session for free.
func TestUnsentAcksAreCharged(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.FrameRate = 3 })
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	for range 3 {
		cl.ack(t, 1)
		if f := cl.next(t); f.Event != "error" || f.Code != "invalid_argument" {
			t.Fatalf("ack of an unsent seq: %+v", f)
		}
	}
	cl.ack(t, 1)
	if f := cl.next(t); f.Event != "error" || f.Limit != "frames" {
		t.Fatalf("the fourth: %+v, want the frame limit's error", f)
	}
}

// TestAckingEveryMessageIsNeverLimited: the simplest honest client acks
// each message as it reads it. With a frame rate of 5, a burst of 500
// live messages and then a backlog of 600 replayed on a new session are
// all acked one by one without an error frame or a close, and the
// delivered cursor follows.
func TestAckingEveryMessageIsNeverLimited(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.FrameRate = 5 })
	readAndAck := func(cl *client, n int, from int64) {
		t.Helper()
		for i := range n {
			f := cl.next(t)
			if f.Event != "" || f.Seq != from+int64(i) {
				t.Fatalf("frame %d: %+v, want seq %d", i, f, from+int64(i))
			}
			cl.send(t, map[string]any{"action": "ack", "seq": f.Seq, "epoch": f.Epoch})
		}
	}
	live := dial(t, a.url("user_id=1001&ack=1"))
	live.connected(t)
	pushed := make(chan error, 1)
	go func() { _, err := c.publish(1001, 500); pushed <- err }()
	readAndAck(live, 500, 1)
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	eventually(t, "cursor at 500", func() bool { return c.cursor(t, 1001) == 500 })
	live.conn.Close()

	c.push(t, 1001, 600)
	replay := dial(t, a.url("user_id=1001&ack=1&last_seq=500"))
	replay.connected(t)
	readAndAck(replay, 600, 501)
	replay.quiet(t, 200*time.Millisecond)
	eventually(t, "cursor at 1100", func() bool { return c.cursor(t, 1001) == 1100 })
	if n := a.metrics.count("limited:" + ws.LimitFrames); n != 0 {
		t.Errorf("the frame limit refused %d frames of an honest client", n)
	}
}

// TestConnectedIsAlwaysFirst: frames a client sends before the session
// has started are answered after the connected frame, never before.
func TestConnectedIsAlwaysFirst(t *testing.T) {
	c := newCluster(t)
	a := startNodeWith(t, c, "a", nil, func(s *redis.Streams) ws.History { return slowOpen{s, 300 * time.Millisecond} })
	cl := dial(t, a.url("user_id=1001"))
	cl.send(t, map[string]any{"action": "ping"})
	cl.send(t, map[string]any{"action": "nonsense"})
	cl.connected(t)
	if f := cl.next(t); f.Event != "pong" {
		t.Errorf("second frame %+v, want the pong", f)
	}
	if f := cl.next(t); f.Event != "error" {
		t.Errorf("third frame %+v, want the error", f)
	}
}

// slowOpen delays the first read of every session.
type slowOpen struct {
	*redis.Streams
	delay time.Duration
}

func (s slowOpen) Read(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error) {
	if from.FromCursor {
		time.Sleep(s.delay)
	}
	return s.Streams.Read(ctx, user, from, limit)
}

// TestSessionLimitHoldsUnderABurst: 40 handshakes of one user at once,
// spread over two nodes, with a limit of 10: exactly 10 sessions stay open
// (those the registry counts), the others are closed with 4008, and the
// count stays right past the registry's refreshes.
func TestSessionLimitHoldsUnderABurst(t *testing.T) {
	c := newCluster(t)
	limit := func(o *ws.Options) {
		r := coord.NewSessionRegistry(redis.New(c.rdb, c.keys), coord.SessionOptions{NodeID: o.NodeID, Limit: 10,
			TTL: 3 * time.Second, Refresh: 200 * time.Millisecond})
		ctx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		go r.Run(ctx)
		o.Sessions = r
	}
	a, b := startNode(t, c, "a", limit), startNode(t, c, "b", limit)
	clients := make([]*client, 40)
	var wg sync.WaitGroup
	for i := range clients {
		n := a
		if i%2 == 1 {
			n = b
		}
		wg.Go(func() { clients[i] = dialQuietly(n.url("user_id=1001")) })
	}
	wg.Wait()
	open := func() (n int) {
		for _, cl := range clients {
			if cl != nil && len(cl.closed) == 0 {
				n++
			}
		}
		return n
	}
	eventually(t, "10 sessions open", func() bool { return open() == 10 })
	if live, err := coord.LiveSessions(context.Background(), redis.New(c.rdb, c.keys), 1001); err != nil || len(live) != 10 {
		t.Errorf("the registry counts %d sessions (%v), want 10", len(live), err)
	}
	for _, cl := range clients {
		if cl == nil || len(cl.closed) == 0 {
			continue
		}
		err := <-cl.closed
		cl.closed <- err // still closed for open()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != protocol.CloseTooManySessions {
			t.Errorf("a closed session ended with %v, want 4008", err)
		}
	}
	// Past a few refreshes of the registry, and with a message for all.
	time.Sleep(time.Second)
	if n := open(); n != 10 {
		t.Errorf("%d sessions open after the refreshes, want 10", n)
	}
	c.push(t, 1001, 1)
	for _, cl := range clients {
		if cl != nil && len(cl.closed) == 0 {
			for f := cl.next(t); f.Event != ""; f = cl.next(t) {
			}
		}
	}
}

// dialQuietly dials without failing the test (nil when refused), for
// dials from other goroutines.
func dialQuietly(url string) *client {
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil
	}
	c := &client{conn: conn, frames: make(chan frame, 1000), closed: make(chan error, 1)}
	go func() {
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				c.closed <- err
				return
			}
			var f frame
			_ = json.Unmarshal(b, &f)
			c.frames <- f
		}
	}()
	return c
}
