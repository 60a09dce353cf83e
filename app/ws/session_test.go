package ws_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/protocol"
)

// Sessions on in-memory dependencies (fakes_test.go): ordering, catch-up
// and resets, each in milliseconds.

// TestReplayRacesLiveMessages: messages published while a session replays
// its backlog reach it once each, in order, after the backlog.
func TestReplayRacesLiveMessages(t *testing.T) {
	n := startMemNode(t, 10000, func(o *ws.Options) { o.ReplayPage = 7 })
	n.publish(1001, 300)
	cl := dial(t, n.url("user_id=1001&last_seq=0"))
	if f := cl.connected(t); f.HeadSeq != 300 {
		t.Fatalf("connected %+v", f)
	}
	go n.publish(1001, 300)
	if diff := cmp.Diff(span(1, 600), cl.seqs(t, 600)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
}

// TestGapIsReadFromTheStream: a message lost on the wire is read from the
// stored stream when the next one shows the gap.
func TestGapIsReadFromTheStream(t *testing.T) {
	n := startMemNode(t, 100, nil)
	cl := dial(t, n.url("user_id=1001"))
	cl.connected(t)
	n.publish(1001, 2)
	n.lost(1001, 3)
	n.publish(1001, 2)
	if diff := cmp.Diff(span(1, 7), cl.seqs(t, 7)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	cl.quiet(t, 50*time.Millisecond)
}

// TestResubscribedSessionCatchesUp: after the node's subscription was
// restored, a live session reads what it missed meanwhile.
func TestResubscribedSessionCatchesUp(t *testing.T) {
	n := startMemNode(t, 100, nil)
	cl := dial(t, n.url("user_id=1001"))
	cl.connected(t)
	n.publish(1001, 1)
	cl.seqs(t, 1)
	n.lost(1001, 4)
	n.hub.Resubscribed(1001)
	if diff := cmp.Diff(span(2, 5), cl.seqs(t, 4)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
}

// TestNewEpochResetsALiveSession: a message of another epoch sends the
// session to the stored stream, which has a new epoch: a reset frame, then
// the new epoch's messages from its start.
func TestNewEpochResetsALiveSession(t *testing.T) {
	n := startMemNode(t, 100, nil)
	cl := dial(t, n.url("user_id=1001"))
	old := cl.connected(t).Epoch
	n.publish(1001, 3)
	cl.seqs(t, 3)
	n.history.lose(1001, "fresh")
	n.publish(1001, 2)
	f := cl.next(t)
	if f.Event != "reset" || f.Epoch != "fresh" || f.LastSeq != 0 || f.Epoch == old {
		t.Fatalf("after the loss: %+v, want a reset to epoch fresh after seq 0", f)
	}
	if diff := cmp.Diff(span(1, 2), cl.seqs(t, 2)); diff != "" {
		t.Errorf("seqs of the new epoch (-want +got):\n%s", diff)
	}
}

// TestBurstBeyondTheBufferIsReadFromTheStream: a burst larger than the
// send buffer is written at the socket's pace from the stored stream.
func TestBurstBeyondTheBufferIsReadFromTheStream(t *testing.T) {
	n := startMemNode(t, 10000, func(o *ws.Options) { o.BufferSize = 12 })
	cl := dial(t, n.url("user_id=1001"))
	cl.connected(t)
	n.publish(1001, 2000)
	if diff := cmp.Diff(span(1, 2000), cl.seqs(t, 2000)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if n.metrics.count("replayed") == 0 {
		t.Errorf("no message was replayed: the burst fit the buffer")
	}
}

// TestFallingOutOfTheWindowCloses4002: a session whose catch-up finds the
// messages it needs trimmed is closed with 4002; its client resumes and
// learns of the truncation.
func TestFallingOutOfTheWindowCloses4002(t *testing.T) {
	n := startMemNode(t, 10, nil)
	cl := dial(t, n.url("user_id=1001"))
	epoch := cl.connected(t).Epoch
	n.publish(1001, 1)
	cl.seqs(t, 1)
	gate := make(chan struct{})
	n.history.mu.Lock()
	n.history.gate = gate
	n.history.mu.Unlock()
	n.lost(1001, 1)
	n.publish(1001, 1) // the gap starts a catch-up, held at its read
	n.lost(1001, 30)   // meanwhile the window moves on
	close(gate)
	code, _ := cl.closedWith(t)
	if code != protocol.CloseBehindHistory {
		t.Fatalf("closed with %d, want 4002", code)
	}
	again := dial(t, n.url("user_id=1001&last_seq=1&epoch="+epoch))
	if f := again.connected(t); !f.Truncated || f.LastSeq != 23 {
		t.Errorf("resumed: %+v, want truncated after seq 23 (33 stored, 10 kept)", f)
	}
}

// TestStateMoves: the moves a session may make, and no other.
func TestStateMoves(t *testing.T) {
	got := ws.StateMoves()
	want := map[string][]string{
		"subscribing": {"opening", "closed"},
		"opening":     {"catching_up", "rereading", "closed"},
		"catching_up": {"rereading", "live", "closed"},
		"rereading":   {"catching_up", "closed"},
		"live":        {"catching_up", "closed"},
		"closed":      nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("moves (-want +got):\n%s", diff)
	}
}

// TestClosedSessionsAreForgotten: the hub finds each open session's state
// and lets go of it a write timeout after the session closed, whichever
// side closed it.
func TestClosedSessionsAreForgotten(t *testing.T) {
	n := startMemNode(t, 100, func(o *ws.Options) { o.WriteWait = 200 * time.Millisecond })
	var cls []*client
	for u := range int64(40) {
		cl := dial(t, n.url(fmt.Sprintf("user_id=%d", 1001+u)))
		cl.connected(t)
		cls = append(cls, cl)
	}
	if got := n.hub.TrackedSessions(); got != 40 {
		t.Fatalf("tracked %d sessions, want 40", got)
	}
	n.publish(1001, 3)
	if diff := cmp.Diff(span(1, 3), cls[0].seqs(t, 3)); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	for i, cl := range cls[:20] {
		if i%2 == 0 {
			cl.conn.Close() // the client goes away
		}
	}
	n.hub.Revoke(1002) // and the node closes some
	n.hub.Revoke(1004)
	eventually(t, "closed sessions forgotten", func() bool { return n.hub.TrackedSessions() == 28 })
	for _, cl := range cls {
		cl.conn.Close()
	}
	eventually(t, "every session forgotten", func() bool { return n.hub.TrackedSessions() == 0 })
}
