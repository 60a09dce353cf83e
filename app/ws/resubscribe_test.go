package ws_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/ws"
)

// countingHistory is the node's real Streams, counting the reads in flight.
type countingHistory struct {
	*redis.Streams
	inflight, peak, reads atomic.Int64
}

func (h *countingHistory) Read(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error) {
	n := h.inflight.Add(1)
	defer h.inflight.Add(-1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	h.reads.Add(1)
	return h.Streams.Read(ctx, user, from, limit)
}

// TestResubscriptionCatchUpIsBounded: when the node's pub/sub connection
// is restored, every session catches up from Redis, but no more than
// MaxReads reads run at once (a Redis that just came back is not hit by
// every session together), and each session still gets what was published
// meanwhile.
func TestResubscriptionCatchUpIsBounded(t *testing.T) {
	const users, maxReads = 60, 3
	c := newCluster(t)
	var h *countingHistory
	a := startNodeWith(t, c, "herd", func(o *ws.Options) { o.MaxReads = maxReads },
		func(s *redis.Streams) ws.History { h = &countingHistory{Streams: s}; return h })
	clients := make([]*client, users)
	for i := range clients {
		clients[i] = dial(t, a.url(fmt.Sprintf("user_id=%d", i+1)))
		clients[i].connected(t)
	}
	eventually(t, "sessions live", func() bool { return a.metrics.catchingUp() == 0 })
	h.peak.Store(0)
	before := h.reads.Load()

	if killPubSub(t, c, "node-herd") == 0 {
		t.Fatal("found no pub/sub connection of the node to kill")
	}
	for u := int64(1); u <= users; u++ {
		c.push(t, u, 1)
	}
	for i, cl := range clients {
		if got := cl.seqs(t, 1); got[0] != 1 {
			t.Fatalf("user %d got seq %d, want 1", i+1, got[0])
		}
	}
	eventually(t, "every session caught up", func() bool { return h.reads.Load()-before >= users })
	if p := h.peak.Load(); p > maxReads {
		t.Errorf("%d history reads ran at once, want at most %d", p, maxReads)
	}
}
