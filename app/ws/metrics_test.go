package ws_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app/ws"
)

// recordMetrics is a ws.Metrics that counts what it is told, by name,
// and keeps the number of sessions catching up.
type recordMetrics struct {
	mu       sync.Mutex
	n        map[string]int
	catching int
}

func newRecordMetrics() *recordMetrics { return &recordMetrics{n: map[string]int{}} }

func (r *recordMetrics) add(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[name]++
}

func (r *recordMetrics) SessionOpened()                { r.add("opened") }
func (r *recordMetrics) SessionClosed(reason string)   { r.add("closed:" + reason) }
func (r *recordMetrics) MessageDelivered()             { r.add("delivered") }
func (r *recordMetrics) DeliveryLatency(time.Duration) { r.add("timed") }
func (r *recordMetrics) MessageReplayed()              { r.add("replayed") }
func (r *recordMetrics) MessageDropped(reason string)  { r.add("dropped:" + reason) }
func (r *recordMetrics) StreamReset()                  { r.add("reset") }
func (r *recordMetrics) FrameRefused()                 { r.add("refused") }
func (r *recordMetrics) Limited(limit string)          { r.add("limited:" + limit) }
func (r *recordMetrics) CatchUpStarted()               { r.addCatching(1) }
func (r *recordMetrics) CatchUpEnded()                 { r.addCatching(-1) }

func (r *recordMetrics) addCatching(d int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.catching += d
}

// catchingUp returns how many sessions are catching up.
func (r *recordMetrics) catchingUp() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.catching
}

// count returns how often name was reported.
func (r *recordMetrics) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[name]
}

// counts waits until the counts equal want, failing with the difference.
func (r *recordMetrics) counts(tb testing.TB, want map[string]int) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		r.mu.Lock()
		diff := cmp.Diff(want, r.n)
		r.mu.Unlock()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("metrics not within %s (-want +got):\n%s", wait, diff)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMetricsSessionsAndMessages: the hub reports opened and closed
// sessions with the reason, messages delivered and replayed, and times only
// the messages published while the session was open.
func TestMetricsSessionsAndMessages(t *testing.T) {
	c := newCluster(t)
	rec := newRecordMetrics()
	a := startNode(t, c, "a", func(o *ws.Options) { o.Metrics = rec })

	c.push(t, 1, 2) // a backlog: replayed on connect, not timed
	live := dial(t, a.url("user_id=1&last_seq=0"))
	live.connected(t)
	live.seqs(t, 2)
	// Times are in milliseconds: a message counts as published while the
	// session was open from the millisecond after the handshake on.
	for now := time.Now().UnixMilli(); time.Now().UnixMilli() <= now; {
		runtime.Gosched()
	}
	c.push(t, 1, 1)
	live.seqs(t, 1)
	rec.counts(t, map[string]int{"opened": 1, "delivered": 3, "replayed": 2, "timed": 1})

	big := dial(t, a.url("user_id=2"))
	big.connected(t)
	if err := big.conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", ws.DefaultMaxMessageSize+1))); err != nil {
		t.Fatal(err)
	}
	leaver := dial(t, a.url("user_id=3"))
	leaver.connected(t)
	if err := leaver.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	rec.counts(t, map[string]int{"opened": 3, "delivered": 3, "replayed": 2, "timed": 1,
		"closed:" + ws.ReasonTooBig: 1, "closed:" + ws.ReasonClient: 1})

	a.hub.Drain(context.Background(), 0)
	rec.counts(t, map[string]int{"opened": 3, "delivered": 3, "replayed": 2, "timed": 1,
		"closed:" + ws.ReasonTooBig: 1, "closed:" + ws.ReasonClient: 1, "closed:" + ws.ReasonDrain: 1})
}
