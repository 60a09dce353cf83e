package ws_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/ws"
)

// TestSilentPeerIsDropped: a client that stops answering pings is dropped
// within PongWait.
func TestSilentPeerIsDropped(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.PingPeriod = 100 * time.Millisecond; o.PongWait = 300 * time.Millisecond })
	conn, _, err := websocket.DefaultDialer.Dial(a.url("user_id=1001"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// It never reads again, so it never answers a ping.
	eventually(t, "session registered", func() bool { return a.hub.Connections() == 1 })
	eventually(t, "silent peer dropped", func() bool { return a.hub.Connections() == 0 })
	if n := a.metrics.catchingUp(); n != 0 {
		t.Errorf("after the drop: %d sessions still catching up", n)
	}
	if n := a.metrics.count("closed:" + ws.ReasonTimeout); n != 1 {
		t.Errorf("closed for a timeout: %d, want 1", n)
	}

	// A client that reads (and so answers pings) stays.
	live := dial(t, a.url("user_id=1002"))
	live.connected(t)
	time.Sleep(time.Second) // several pong windows: it must survive them
	if a.hub.Connections() != 1 {
		t.Fatal("a reading client was dropped")
	}
}

// TestPingIsAnsweredWithPong: {"action":"ping"} gets {"event":"pong"} at
// once, in order with the data, and is neither refused nor a message.
func TestPingIsAnsweredWithPong(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	c.push(t, 1001, 2)
	if got := cl.seqs(t, 2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("seqs %v", got)
	}
	for range 3 {
		if err := cl.conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		if f := cl.next(t); f != (frame{Event: "pong"}) {
			t.Fatalf("answer to a ping: %+v, want a pong", f)
		}
	}
	c.push(t, 1001, 1)
	if got := cl.seqs(t, 1); !slices.Equal(got, []int64{3}) {
		t.Fatalf("after pings: %v", got)
	}
	if n := a.metrics.count("refused"); n != 0 {
		t.Errorf("pings counted as refused frames: %d", n)
	}
}

// TestPresenceFollowsSessions: the hub tells presence when a user's first
// session opens and last one closes, across nodes.
func TestPresenceFollowsSessions(t *testing.T) {
	c := newCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	presence := func(id string) *coord.Presence {
		p := coord.NewPresence(redis.New(c.rdb, c.keys), coord.PresenceOptions{NodeID: id, Heartbeat: 100 * time.Millisecond, TTL: time.Second})
		go p.Run(ctx)
		return p
	}
	pa, pb := presence("pa"), presence("pb")
	a := startPresenceNode(t, c, "pa", pa)
	b := startPresenceNode(t, c, "pb", pb)
	online := func() []int64 {
		users, err := pa.Online(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return users
	}
	one := dial(t, a.url("user_id=1"))
	one.connected(t)
	two := dial(t, b.url("user_id=2"))
	two.connected(t)
	twoAgain := dial(t, a.url("user_id=2"))
	twoAgain.connected(t)
	eventually(t, "both online", func() bool { return slices.Equal(online(), []int64{1, 2}) })
	two.conn.Close()
	eventually(t, "2 still online on the other node", func() bool {
		st, _ := pb.Stats(ctx)
		return slices.Equal(online(), []int64{1, 2}) && st.TotalConnections == 2
	})
	twoAgain.conn.Close()
	eventually(t, "2 offline after its last session", func() bool { return slices.Equal(online(), []int64{1}) })
}

func startPresenceNode(tb testing.TB, c *cluster, id string, p *coord.Presence) *node {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rdb := goredis.NewClient(&goredis.Options{Addr: c.rdb.Options().Addr, DB: c.rdb.Options().DB})
	tb.Cleanup(func() { rdb.Close() })
	sub := subscribe.New(redis.New(rdb, c.keys), subscribe.Options{NodeID: id})
	streams := redis.NewStreams(redis.New(rdb, c.keys), redis.StreamsOptions{FlushInterval: 50 * time.Millisecond, HistoryTTL: time.Hour})
	hub := ws.New(streams, sub, p, ws.Options{NodeID: id, Auth: apptest.NewAuth(app.AuthInsecure, nil, "")})
	if err := sub.Start(ctx, hub); err != nil {
		tb.Fatal(err)
	}
	return serve(tb, id, hub, sub, streams, cancel)
}
