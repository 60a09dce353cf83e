package systest

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/client"
	"github.com/houseview/gateway/pkg/protocol"
	"github.com/houseview/gateway/pkg/testenv"
)

// inboxUntil reads inbox frames until one has the counts, within d.
func (c *wsClient) inboxUntil(tb testing.TB, unseen, unread int64, d time.Duration) {
	tb.Helper()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.inboxes:
			if f.Unseen == unseen && f.Unread == unread {
				return
			}
		case <-deadline:
			tb.Fatalf("no inbox frame with unseen %d unread %d within %v", unseen, unread, d)
		}
	}
}

func (c *wsClient) mark(tb testing.TB, m map[string]any) {
	tb.Helper()
	m["action"] = "mark"
	if err := c.conn.WriteJSON(m); err != nil {
		tb.Fatal(err)
	}
}

// TestInboxAcrossNodes: one user with a session on each of two node
// processes. A push raises both counts; a read mark on one lowers both
// within a second; the marks survive a kill -9 of a node and the
// reconnect; bad marks get clear errors on the WebSocket and REST.
func TestInboxAcrossNodes(t *testing.T) {
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	const user = 1301
	pa := wsDial(t, a.HTTPURL, fmt.Sprintf("user_id=%d", user))
	pb := wsDial(t, b.HTTPURL, fmt.Sprintf("user_id=%d", user))
	pushTo(t, a.HTTPURL, []int64{user}, keys("inbox", 0, 3))
	for _, c := range []*wsClient{pa, pb} {
		for range 3 {
			if f := c.next(t); f.Seq == 0 {
				t.Fatalf("frame %+v, want a message", f)
			}
		}
		c.inboxUntil(t, 3, 3, 5*time.Second)
	}
	start := time.Now()
	pa.mark(t, map[string]any{"state": "read", "seq": 2})
	pb.inboxUntil(t, 2, 2, time.Second)
	pa.inboxUntil(t, 2, 2, time.Second)
	pb.mark(t, map[string]any{"state": "seen", "up_to": 3})
	pa.inboxUntil(t, 0, 2, time.Second)
	t.Logf("two marks reached both nodes in %v", time.Since(start))

	// Kill node a: its session reconnects to b and finds the marks.
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	re := wsDialRaw(t, b.HTTPURL, fmt.Sprintf("user_id=%d", user))
	if f := re.next(t); f.Event != "connected" || f.Unseen != 0 || f.Unread != 2 {
		t.Fatalf("reconnected: %+v, want connected with 0 unseen 2 unread", f)
	}
	a2 := MustStart(t, withNode(env, "a"))
	code, counts := call(t, "GET", fmt.Sprintf("%s/api/inbox/counts?user_id=%d", a2.HTTPURL, user), "", "")
	if code != 200 || counts["unseen"] != 0.0 || counts["unread"] != 2.0 {
		t.Fatalf("counts on the restarted node: %d %v", code, counts)
	}
	// A mark over REST on the restarted node reaches the sessions on b.
	code, out := call(t, "POST", a2.HTTPURL+"/api/inbox/mark", "", fmt.Sprintf(`{"user_id":%d,"state":"read","all":true}`, user))
	if code != 200 || out["unread"] != 0.0 {
		t.Fatalf("REST mark: %d %v", code, out)
	}
	re.inboxUntil(t, 0, 0, time.Second)
	pb.inboxUntil(t, 0, 0, time.Second)
	code, list := call(t, "GET", fmt.Sprintf("%s/api/inbox?user_id=%d&state=unread", b.HTTPURL, user), "", "")
	if msgs, _ := list["messages"].([]any); code != 200 || len(msgs) != 0 {
		t.Errorf("unread list after marking all read: %d %v", code, list)
	}

	// Bad marks: an error frame with a clear code, and the session goes on.
	for _, tc := range []struct {
		mark map[string]any
		code string
	}{
		{map[string]any{"state": "opened", "seq": 1}, "invalid_argument"},
		{map[string]any{"state": "read", "seq": 1, "all": true}, "invalid_argument"},
		{map[string]any{"state": "read", "seq": 99}, "not_found"},
		{map[string]any{"state": "read", "seq": 1, "epoch": "gone"}, "failed_precondition"},
	} {
		re.mark(t, tc.mark)
		if f := re.next(t); f.Event != "error" || f.Code != tc.code {
			t.Errorf("mark %v: %+v, want error %s", tc.mark, f, tc.code)
		}
	}
	code, out = call(t, "POST", b.HTTPURL+"/api/inbox/mark", "", fmt.Sprintf(`{"user_id":%d,"state":"read","up_to":0}`, user))
	if e, _ := out["error"].(map[string]any); code != 400 || e["code"] != "invalid_argument" {
		t.Errorf("REST bad mark: %d %v", code, out)
	}
	pushTo(t, b.HTTPURL, []int64{user}, keys("after", 0, 1))
	re.inboxUntil(t, 1, 1, 5*time.Second)
	pb.inboxUntil(t, 1, 1, 5*time.Second)
}

// TestGoClientInbox: the Go client follows the counts (connected, then an
// Inbox event per change) of two devices on two nodes, and its marks reach
// the other device; a bad mark comes back as an Error event.
func TestGoClientInbox(t *testing.T) {
	env := sharedEnv(t)
	a, b := MustStart(t, withNode(env, "a")), MustStart(t, withNode(env, "b"))
	const user = 1311
	pushTo(t, a.HTTPURL, []int64{user}, keys("before", 0, 2))
	phone := MustDialClient(t, client.Options{URLs: []string{a.HTTPURL}, UserID: user, LastSeq: 2})
	laptop := MustDialClient(t, client.Options{URLs: []string{b.HTTPURL}, UserID: user, LastSeq: 2})
	for _, c := range []*client.Client{phone, laptop} {
		if got := c.Counts(); got != (client.Counts{Unseen: 2, Unread: 2}) {
			t.Fatalf("counts after connecting: %+v", got)
		}
	}
	pushTo(t, a.HTTPURL, []int64{user}, keys("after", 0, 1))
	n := <-phone.Notifications()
	<-laptop.Notifications()
	waitCounts(t, laptop, client.Counts{Unseen: 3, Unread: 3})
	if err := phone.MarkRead(n); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, laptop, client.Counts{Unseen: 2, Unread: 2})
	if err := laptop.Mark(client.Mark{State: protocol.StateSeen, All: true}); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, phone, client.Counts{Unseen: 0, Unread: 2})
	if err := phone.Mark(client.Mark{State: protocol.StateRead}); err == nil {
		t.Error("a mark without a target was sent")
	}
	if err := phone.Mark(client.Mark{State: protocol.StateRead, Seq: 99}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-phone.Events():
			if e.Kind == client.Error && strings.Contains(e.Err.Error(), "not_found") {
				return
			}
		case <-deadline:
			t.Fatal("no error event for a mark of a seq that is not stored")
		}
	}
}

// waitCounts waits until the client's counts are want (an Inbox event
// brings them).
func waitCounts(t *testing.T, c *client.Client, want client.Counts) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, fmt.Sprintf("counts %+v", want), func() bool { return c.Counts() == want })
}
