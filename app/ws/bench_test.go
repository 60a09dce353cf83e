package ws_test

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/ws"
)

// BenchmarkFanoutLocal measures the hub's local fan-out: a message handed
// over by the subscription reaching a user's open sessions on the node
// (melody send buffer, socket write, client read). 100 users with 2 devices
// each; every op is one message to one user, so two frames.
func BenchmarkFanoutLocal(b *testing.B) { fanout(b, false) }

// BenchmarkFanoutLocalWithCounts is BenchmarkFanoutLocal with the inbox
// counts a published message carries: each session also gets an inbox
// frame after a message (fewer when its socket lags: the newest counts
// replace older ones waiting).
func BenchmarkFanoutLocalWithCounts(b *testing.B) { fanout(b, true) }

func fanout(b *testing.B, counts bool) {
	const users, devices = 100, 2
	c := newCluster(b)
	n := startNode(b, c, "bench", func(o *ws.Options) { o.BufferSize = 4096 })
	var received, inboxes atomic.Int64
	for u := 1; u <= users; u++ {
		for range devices {
			conn, _, err := websocket.DefaultDialer.Dial(n.url(fmt.Sprintf("user_id=%d", u)), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { conn.Close() })
			if _, _, err := conn.ReadMessage(); err != nil { // connected
				b.Fatal(err)
			}
			go func() {
				for {
					_, msg, err := conn.ReadMessage()
					if err != nil {
						return
					}
					if bytes.HasPrefix(msg, []byte(`{"seq"`)) {
						received.Add(1)
					} else {
						inboxes.Add(1)
					}
				}
			}()
		}
	}
	// Wait until every session is live (its replay of nothing is done).
	eventually(b, "sessions live", func() bool {
		return n.hub.Connections() == users*devices && n.metrics.catchingUp() == 0
	})
	seq := make([]int64, users+1)
	epochs := make([]string, users+1)
	for u := 1; u <= users; u++ {
		epochs[u] = c.epoch(b, int64(u)) // made by the sessions' first read
	}
	envelope := func(u int, s int64) *app.Envelope {
		raw := fmt.Appendf(nil, `{"seq":%d,"epoch":"%s","ts":1,"id":"bench","type":6,"user_id":%d,"title":"t","content":"c","timestamp":1}`,
			s, epochs[u], u)
		return &app.Envelope{UserID: int64(u), Epoch: epochs[u], Seq: s, TS: 1, Raw: raw, HasCounts: counts,
			Counts: app.InboxCounts{Unseen: s, Unread: s}}
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		u := i%users + 1
		seq[u]++
		n.hub.Deliver(envelope(u, seq[u]))
	}
	want := int64(b.N * devices)
	deadline := time.Now().Add(time.Minute)
	for received.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	if got := received.Load(); got != want {
		b.Fatalf("received %d frames, want %d", got, want)
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "frames/s")
	b.ReportMetric(float64(inboxes.Load())/float64(want), "inbox/msg")
}
