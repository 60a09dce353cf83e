package ws_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
)

// publishMuted stores a message that user muted in the app but keeps in
// the list (what preferences.Publisher sends with list on) and returns its
// seq.
func (c *cluster) publishMuted(tb testing.TB, user int64) int64 {
	tb.Helper()
	m, err := (&app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user, Title: "t",
		Content: "muted", Timestamp: time.Now().Unix()}).Message()
	if err != nil {
		tb.Fatal(err)
	}
	m.Muted = true
	pos, err := c.pub.Publish(context.Background(), m)
	if err != nil || pos.Seq == 0 || !pos.Muted {
		tb.Fatalf("publish muted: %+v, %v", pos, err)
	}
	return pos.Seq
}

// TestMutedMessagesAreSteppedOver: a message stored for the list only
// reaches no session: a live one (which sees the gap when the next
// message comes and reads the stream) gets the message after it, sessions
// resuming from before it on another node skip it, whether it is in the
// middle or the last one stored, and acks past it advance the cursor.
func TestMutedMessagesAreSteppedOver(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	b := startNode(t, c, "b", nil)
	const user = 1101
	c.push(t, user, 2)
	live := dial(t, a.url("user_id=1101&last_seq=2"))
	live.connected(t)
	if seq := c.publishMuted(t, user); seq != 3 {
		t.Fatalf("muted seq %d, want 3", seq)
	}
	c.push(t, user, 1)
	if got := live.seqs(t, 1); got[0] != 4 {
		t.Fatalf("live session got seq %d, want 4 (3 is muted)", got[0])
	}
	live.quiet(t, 200*time.Millisecond)
	live.ack(t, 4)
	eventually(t, "the cursor at 4", func() bool { return c.cursor(t, user) >= 4 })

	// Resuming from before the muted message, on the other node.
	epoch := c.epoch(t, user)
	from0 := dial(t, b.url("user_id=1101&last_seq=0&epoch="+epoch))
	if f := from0.connected(t); f.Unseen != 3 || f.Unread != 3 || f.HeadSeq != 4 {
		t.Fatalf("connected %+v, want head 4, 3 unseen and unread (3 is read)", f)
	}
	if got := from0.seqs(t, 3); !slices.Equal(got, []int64{1, 2, 4}) {
		t.Fatalf("resumed from 0: %v, want 1 2 4", got)
	}
	from2 := dial(t, b.url("user_id=1101&last_seq=2&epoch="+epoch))
	from2.connected(t)
	if got := from2.seqs(t, 1); got[0] != 4 {
		t.Fatalf("resumed from 2: seq %d, want 4", got[0])
	}

	// The muted message is the newest: a session resuming before it gets
	// nothing, then the next message; so does the live one.
	if seq := c.publishMuted(t, user); seq != 5 {
		t.Fatalf("muted seq %d, want 5", seq)
	}
	from4 := dial(t, b.url("user_id=1101&last_seq=4&epoch="+epoch))
	if f := from4.connected(t); f.HeadSeq != 5 {
		t.Fatalf("connected %+v, want head 5", f)
	}
	from4.quiet(t, 300*time.Millisecond)
	c.push(t, user, 1)
	for _, cl := range []*client{live, from0, from2, from4} {
		if got := cl.seqs(t, 1); got[0] != 6 {
			t.Fatalf("got seq %d, want 6", got[0])
		}
	}
	for _, cl := range []*client{live, from0, from2, from4} {
		cl.quiet(t, 100*time.Millisecond)
	}
	from4.ack(t, 6)
	eventually(t, "the cursor at 6", func() bool { return c.cursor(t, user) >= 6 })
	// Reading from the cursor after a muted last message: nothing to write.
	c.publishMuted(t, user)
	fromCursor := dial(t, a.url("user_id=1101"))
	if f := fromCursor.connected(t); f.LastSeq != 6 {
		t.Fatalf("connected from the cursor %+v, want last_seq 6", f)
	}
	fromCursor.quiet(t, 200*time.Millisecond)
	c.push(t, user, 1)
	if got := fromCursor.seqs(t, 1); got[0] != 8 {
		t.Fatalf("from the cursor: seq %d, want 8", got[0])
	}
}
