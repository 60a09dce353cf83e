package ws_test

import (
	"testing"
	"time"

	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/protocol"
)

// inboxUntil reads inbox frames until one has the counts, failing after
// wait; it returns how many it read.
func (c *client) inboxUntil(tb testing.TB, unseen, unread int64) int {
	tb.Helper()
	deadline := time.After(wait)
	for n := 1; ; n++ {
		select {
		case f := <-c.inboxes:
			if f.Unseen == unseen && f.Unread == unread {
				return n
			}
		case err := <-c.closed:
			tb.Fatalf("connection ended: %v", err)
		case <-deadline:
			tb.Fatalf("no inbox frame with unseen %d unread %d within %v", unseen, unread, wait)
		}
	}
}

func (c *client) mark(tb testing.TB, m map[string]any) {
	tb.Helper()
	m["action"] = "mark"
	c.send(tb, m)
}

// TestInboxCountsOnEveryNode: a user's sessions on two nodes learn the
// counts from connected, after every new message and after a mark made on
// either node.
func TestInboxCountsOnEveryNode(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	b := startNode(t, c, "b", nil)
	c.push(t, 1001, 3)
	ca := dial(t, a.url("user_id=1001&last_seq=3"))
	if f := ca.connected(t); f.Unseen != 3 || f.Unread != 3 {
		t.Fatalf("connected %+v, want 3 unseen 3 unread", f)
	}
	cb := dial(t, b.url("user_id=1001&last_seq=3"))
	cb.connected(t)
	c.push(t, 1001, 1)
	for _, cl := range []*client{ca, cb} {
		if got := cl.seqs(t, 1); got[0] != 4 {
			t.Fatalf("seq %d", got[0])
		}
		cl.inboxUntil(t, 4, 4)
	}
	start := time.Now()
	ca.mark(t, map[string]any{"state": "read", "seq": 2})
	cb.inboxUntil(t, 3, 3)
	ca.inboxUntil(t, 3, 3)
	cb.mark(t, map[string]any{"state": "seen", "all": true})
	ca.inboxUntil(t, 0, 3)
	cb.inboxUntil(t, 0, 3)
	ca.mark(t, map[string]any{"state": "archived", "up_to": 4})
	cb.inboxUntil(t, 0, 0)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("three marks took %v to reach both nodes", took)
	}
	// A repeated mark changes nothing and sends nothing.
	ca.mark(t, map[string]any{"state": "read", "seq": 2})
	ca.send(t, map[string]any{"action": "ping"})
	if f := ca.next(t); f.Event != "pong" {
		t.Fatalf("after a repeated mark: %+v", f)
	}
	select {
	case f := <-cb.inboxes:
		t.Errorf("a repeated mark sent %+v", f)
	case <-time.After(100 * time.Millisecond):
	}
	// A new session starts from the stored counts.
	cc := dial(t, b.url("user_id=1001"))
	if f := cc.connected(t); f.Unseen != 0 || f.Unread != 0 {
		t.Errorf("connected after the marks: %+v", f)
	}
}

// TestBadMarksAreRefused: each bad mark frame gets an error frame with a
// clear code, and the session goes on.
func TestBadMarksAreRefused(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	c.push(t, 1001, 2)
	cl := dial(t, a.url("user_id=1001&last_seq=2"))
	cl.connected(t)
	cases := []struct {
		mark map[string]any
		code string
	}{
		{map[string]any{"state": "opened", "seq": 1}, "invalid_argument"},
		{map[string]any{"state": "read"}, "invalid_argument"},
		{map[string]any{"state": "read", "seq": 1, "all": true}, "invalid_argument"},
		{map[string]any{"state": "read", "seq": 1, "up_to": 2}, "invalid_argument"},
		{map[string]any{"state": "read", "seq": 0}, "invalid_argument"},
		{map[string]any{"state": "read", "seq": 9}, "not_found"},
		{map[string]any{"state": "read", "seq": 1, "epoch": "stale1"}, "failed_precondition"},
		{map[string]any{"state": "read", "seq": 1, "epoch": "not an epoch"}, "invalid_argument"},
	}
	for _, tc := range cases {
		cl.mark(t, tc.mark)
		f := cl.next(t)
		if f.Event != "error" || f.Code != tc.code || f.Message == "" {
			t.Errorf("mark %v: %+v, want an error frame %s", tc.mark, f, tc.code)
		}
	}
	cl.mark(t, map[string]any{"state": "read", "seq": 1})
	cl.inboxUntil(t, 1, 1)
}

// TestMarkingEveryMessageIsNeverLimited: with a frame rate of 5, a client
// that marks each of 300 messages seen and then read as it gets them (and
// acks them) gets no error frame; a client that floods repeated marks is
// told to wait and then closed with 4029.
func TestMarkingEveryMessageIsNeverLimited(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.FrameRate = 5 })
	cl := dial(t, a.url("user_id=1001&ack=1"))
	cl.connected(t)
	pushed := make(chan error, 1)
	go func() { _, err := c.publish(1001, 300); pushed <- err }()
	for i := range 300 {
		f := cl.next(t)
		if f.Event != "" || f.Seq != int64(i+1) {
			t.Fatalf("frame %d: %+v", i, f)
		}
		cl.send(t, map[string]any{"action": "ack", "seq": f.Seq})
		cl.mark(t, map[string]any{"state": "seen", "seq": f.Seq})
		cl.mark(t, map[string]any{"state": "read", "seq": f.Seq, "epoch": f.Epoch})
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	cl.inboxUntil(t, 0, 0)
	cl.mark(t, map[string]any{"state": "read", "all": true}) // changes nothing: charged, within the rate
	cl.quiet(t, 200*time.Millisecond)
	if n := a.metrics.count("limited:" + ws.LimitFrames); n != 0 {
		t.Fatalf("the frame limit refused %d frames of an honest client", n)
	}
	// The flood: the same mark again and again is told to wait once, then
	// closed.
	repeat := map[string]any{"action": "mark", "state": "read", "seq": 7}
	for range 6 {
		cl.send(t, repeat)
	}
	if f := cl.next(t); f.Event != "error" || f.Limit != protocol.LimitFrames {
		t.Fatalf("flood: %+v, want the frame limit's error", f)
	}
	for range 30 {
		if err := cl.conn.WriteJSON(repeat); err != nil {
			break // closed already
		}
	}
	if code, _ := cl.closedWith(t); code != protocol.CloseRateLimited {
		t.Errorf("the flood closed with %d, want %d", code, protocol.CloseRateLimited)
	}
}

// TestInboxStatesGoWithALostStream: Redis losing a user's stream loses
// its states with it: the session's reset frame carries the new epoch's
// counts, and a mark of the old epoch is refused.
func TestInboxStatesGoWithALostStream(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	cl := dial(t, a.url("user_id=1001"))
	old := cl.connected(t).Epoch
	c.push(t, 1001, 2)
	cl.seqs(t, 2)
	cl.mark(t, map[string]any{"state": "read", "all": true})
	cl.inboxUntil(t, 0, 0)
	c.rdb.Del(t.Context(), c.keys.Stream(1001), c.keys.Messages(1001)) // lost: expired, evicted, flushed
	c.push(t, 1001, 1)
	f := cl.next(t)
	if f.Event != "reset" || f.Epoch == old || f.Unseen != 1 || f.Unread != 1 {
		t.Fatalf("after the loss: %+v, want a reset with 1 unseen 1 unread", f)
	}
	cl.seqs(t, 1)
	cl.mark(t, map[string]any{"state": "read", "seq": 1, "epoch": old})
	if f := cl.next(t); f.Event != "error" || f.Code != "failed_precondition" {
		t.Errorf("mark of the old epoch: %+v", f)
	}
}
