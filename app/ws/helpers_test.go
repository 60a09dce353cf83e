package ws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/testenv"
)

// cluster is one deployment: a Redis DB, a namespace and a publisher.
type cluster struct {
	rdb  *goredis.Client
	keys redis.Keys
	pub  *redis.Publisher
}

func newCluster(tb testing.TB) *cluster {
	db, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys(testenv.RandomName("ws"), db)
	return &cluster{rdb: rdb, keys: keys, pub: redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})}
}

// newClusterOn is a deployment on DB 0 of a throwaway Redis server.
func newClusterOn(tb testing.TB, srv *testenv.RedisServer) *cluster {
	rdb := srv.Client(0)
	keys := redis.NewKeys(testenv.RandomName("ws"), 0)
	return &cluster{rdb: rdb, keys: keys, pub: redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})}
}

// push publishes n generic messages to user and returns their seqs.
func (c *cluster) push(tb testing.TB, user int64, n int) []int64 {
	tb.Helper()
	seqs, err := c.publish(user, n)
	if err != nil {
		tb.Fatal(err)
	}
	return seqs
}

// publish is push for another goroutine than the test's.
func (c *cluster) publish(user int64, n int) ([]int64, error) {
	seqs := make([]int64, n)
	for i := range n {
		note := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user,
			Title: "t", Content: fmt.Sprintf("m%d", i), Timestamp: time.Now().Unix()}
		m, err := note.Message()
		if err != nil {
			return nil, err
		}
		pos, err := c.pub.Publish(context.Background(), m)
		if err != nil {
			return nil, err
		}
		seqs[i] = pos.Seq
	}
	return seqs, nil
}

// epoch returns the current epoch of user's stream ("" when none).
func (c *cluster) epoch(tb testing.TB, user int64) string {
	tb.Helper()
	e, err := c.rdb.HGet(context.Background(), c.keys.Stream(user), redis.StreamEpoch).Result()
	if err != nil && err != goredis.Nil {
		tb.Fatal(err)
	}
	return e
}

// cursor returns the delivered cursor of user's stream as stored in Redis.
func (c *cluster) cursor(tb testing.TB, user int64) int64 {
	tb.Helper()
	n, _ := c.rdb.HGet(context.Background(), c.keys.Stream(user), redis.StreamCursor).Int64()
	return n
}

// node is a gateway node's delivery side on a loopback port.
type node struct {
	id      string
	hub     *ws.Hub
	sub     *subscribe.Subscriber
	streams *redis.Streams
	metrics *recordMetrics // what the hub reported (nil when the test set its own Metrics)
	srv     *httptest.Server
	cancel  context.CancelFunc
	once    sync.Once
}

func startNode(tb testing.TB, c *cluster, id string, tune func(*ws.Options)) *node {
	tb.Helper()
	return startNodeWith(tb, c, id, tune, nil)
}

// startNodeWith is startNode with the hub's history wrapped by wrap (nil:
// the node's Streams as they are).
func startNodeWith(tb testing.TB, c *cluster, id string, tune func(*ws.Options), wrap func(*redis.Streams) ws.History) *node {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// Each node has its own Redis connections, as separate processes would.
	rdb := goredis.NewClient(&goredis.Options{Addr: c.rdb.Options().Addr, DB: c.rdb.Options().DB, ClientName: "node-" + id})
	tb.Cleanup(func() { rdb.Close() })
	sub := subscribe.New(redis.New(rdb, c.keys), subscribe.Options{NodeID: id, ProbeInterval: 100 * time.Millisecond, StaleAfter: time.Second})
	streams := redis.NewStreams(redis.New(rdb, c.keys), redis.StreamsOptions{FlushInterval: 50 * time.Millisecond, HistoryTTL: time.Hour})
	opts := ws.Options{NodeID: id, Auth: apptest.NewAuth(app.AuthInsecure, nil, ""), SlowTimeout: time.Second,
		Metrics: newRecordMetrics(), Inbox: redis.NewInbox(redis.New(rdb, c.keys))}
	if tune != nil {
		tune(&opts)
	}
	var history ws.History = streams
	if wrap != nil {
		history = wrap(streams)
	}
	hub := ws.New(history, sub, nil, opts)
	if err := sub.Start(ctx, hub); err != nil {
		tb.Fatal(err)
	}
	go sub.Probe(ctx)
	go streams.Run(ctx)
	n := serve(tb, id, hub, sub, streams, cancel)
	n.metrics, _ = opts.Metrics.(*recordMetrics)
	return n
}

// serve puts hub on a loopback port.
func serve(tb testing.TB, id string, hub *ws.Hub, sub *subscribe.Subscriber, streams *redis.Streams, cancel context.CancelFunc) *node {
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	n := &node{id: id, hub: hub, sub: sub, streams: streams, srv: httptest.NewServer(mux), cancel: cancel}
	tb.Cleanup(n.kill)
	return n
}

// kill stops the node abruptly: sockets cut without close frames, nothing
// flushed or cleaned up, as if the process died.
func (n *node) kill() {
	n.once.Do(func() {
		n.srv.CloseClientConnections()
		n.srv.Close()
		n.cancel()
		n.hub.Close()
		n.sub.Close()
	})
}

func (n *node) url(query string) string {
	return "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws?" + query
}

// frame is what a client received.
type frame struct {
	Event        string `json:"event"`
	Seq          int64  `json:"seq"`
	ID           string `json:"id"`
	Type         int    `json:"type"`
	UserID       int64  `json:"user_id"`
	Content      string `json:"content"`
	Code         string `json:"code"`
	LastSeq      int64  `json:"last_seq"`
	HeadSeq      int64  `json:"head_seq"`
	Truncated    bool   `json:"truncated"`
	Reset        bool   `json:"reset"`
	Epoch        string `json:"epoch"`
	NodeID       string `json:"node_id"`
	Exp          int64  `json:"exp"`
	Message      string `json:"message"`
	Limit        string `json:"limit"`
	RetryAfterMS int64  `json:"retry_after_ms"`
	Unseen       int64  `json:"unseen"`
	Unread       int64  `json:"unread"`
}

// client is a WebSocket client that reads into a channel: inbox frames
// into one of their own, the others into frames.
type client struct {
	conn    *websocket.Conn
	frames  chan frame
	inboxes chan frame
	closed  chan error // the read error that ended the connection
}

func dial(tb testing.TB, url string) *client {
	tb.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		tb.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	c := &client{conn: conn, frames: make(chan frame, 100000), inboxes: make(chan frame, 100000), closed: make(chan error, 1)}
	go func() {
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				c.closed <- err
				return
			}
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				c.closed <- fmt.Errorf("bad frame %q: %w", b, err)
				return
			}
			if f.Event == "inbox" {
				c.inboxes <- f
				continue
			}
			c.frames <- f
		}
	}()
	tb.Cleanup(func() { conn.Close() })
	return c
}

const wait = 10 * time.Second

// next returns the next frame or fails after wait.
func (c *client) next(tb testing.TB) frame {
	tb.Helper()
	select {
	case f := <-c.frames:
		return f
	case err := <-c.closed:
		tb.Fatalf("connection ended: %v", err)
	case <-time.After(wait):
		tb.Fatal("no frame within", wait)
	}
	return frame{}
}

// connected reads the first frame, which must be "connected".
func (c *client) connected(tb testing.TB) frame {
	tb.Helper()
	f := c.next(tb)
	if f.Event != "connected" {
		tb.Fatalf("first frame %+v, want connected", f)
	}
	return f
}

// seqs reads messages until it has n, and returns their seqs.
func (c *client) seqs(tb testing.TB, n int) []int64 {
	tb.Helper()
	out := make([]int64, 0, n)
	for len(out) < n {
		f := c.next(tb)
		if f.Event != "" {
			tb.Fatalf("unexpected control frame %+v", f)
		}
		out = append(out, f.Seq)
	}
	return out
}

// quiet asserts no message arrives for d.
func (c *client) quiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case f := <-c.frames:
		tb.Fatalf("unexpected frame %+v", f)
	case <-time.After(d):
	}
}

func (c *client) ack(tb testing.TB, seq int64) {
	tb.Helper()
	if err := c.conn.WriteJSON(map[string]any{"action": "ack", "seq": seq}); err != nil {
		tb.Fatal(err)
	}
}

func span(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// eventually polls cond until it holds, for up to wait.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testenv.Eventually(tb, wait, what, cond)
}
