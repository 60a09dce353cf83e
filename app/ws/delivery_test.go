package ws_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCrossNodeDeliveryAndMultiDevice(t *testing.T) {
	c := newCluster(t)
	a, b := startNode(t, c, "a", nil), startNode(t, c, "b", nil)
	phone := dial(t, a.url("user_id=1001"))
	laptop := dial(t, b.url("user_id=1001"))
	for _, cl := range []*client{phone, laptop} {
		if f := cl.connected(t); f.LastSeq != 0 || f.HeadSeq != 0 {
			t.Fatalf("connected %+v", f)
		}
	}
	// Published by a third party (the cluster's publisher, as any node's
	// service would): both devices on both nodes get every message in order.
	want := c.push(t, 1001, 50)
	if diff := cmp.Diff(want, phone.seqs(t, 50)); diff != "" {
		t.Errorf("phone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, laptop.seqs(t, 50)); diff != "" {
		t.Errorf("laptop (-want +got):\n%s", diff)
	}
	// Another user's messages go elsewhere.
	other := dial(t, b.url("user_id=1002"))
	other.connected(t)
	c.push(t, 1002, 3)
	if got := other.seqs(t, 3); !cmp.Equal(got, span(1, 3)) {
		t.Errorf("user 1002 got %v", got)
	}
	phone.quiet(t, 100*time.Millisecond)
}

func TestOfflineThenOnline(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	c.push(t, 1001, 5) // nobody online
	cl := dial(t, a.url("user_id=1001"))
	if f := cl.connected(t); f.LastSeq != 0 || f.HeadSeq != 5 {
		t.Fatalf("connected %+v, want last_seq 0 head_seq 5", f)
	}
	if got := cl.seqs(t, 5); !cmp.Equal(got, span(1, 5)) {
		t.Fatalf("offline messages %v", got)
	}
	c.push(t, 1001, 2)
	if got := cl.seqs(t, 2); !cmp.Equal(got, span(6, 7)) {
		t.Fatalf("live messages %v", got)
	}
	// The delivered cursor follows: a new session without last_seq gets
	// only what was never delivered.
	eventually(t, "cursor flushed", func() bool {
		return c.cursor(t, 1001) == 7
	})
	cl.conn.Close()
	// Only once the node has seen the close: a message written to a socket
	// the client is closing counts as delivered (that is what last_seq is for).
	eventually(t, "session gone", func() bool { return a.hub.Connections() == 0 })
	c.push(t, 1001, 1)
	again := dial(t, a.url("user_id=1001"))
	if f := again.connected(t); f.LastSeq != 7 {
		t.Fatalf("second connect %+v, want last_seq 7", f)
	}
	if got := again.seqs(t, 1); !cmp.Equal(got, []int64{8}) {
		t.Fatalf("second session got %v, want [8]", got)
	}
}

func TestResumeWithLastSeqAndTruncation(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	c.push(t, 1001, 300)
	cl := dial(t, a.url("user_id=1001&last_seq=120"))
	if f := cl.connected(t); f.LastSeq != 120 || f.Truncated {
		t.Fatalf("connected %+v", f)
	}
	if got := cl.seqs(t, 180); !cmp.Equal(got, span(121, 300)) {
		t.Fatalf("resume got %d messages %v...", len(got), got[:5])
	}
	cl.quiet(t, 50*time.Millisecond)

	// Older than what is stored: say so, start at the oldest.
	small := redisPublisherWithHistory(c, 10)
	for range 20 {
		mustPublish(t, small, 2002)
	}
	old := dial(t, a.url("user_id=2002&last_seq=3"))
	if f := old.connected(t); !f.Truncated || f.LastSeq != 10 || f.HeadSeq != 20 {
		t.Fatalf("connected %+v, want truncated with the replay after 10", f)
	}
	if got := old.seqs(t, 10); !cmp.Equal(got, span(11, 20)) {
		t.Fatalf("truncated replay %v", got)
	}
}
