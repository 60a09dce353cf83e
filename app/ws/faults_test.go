package ws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/app/ws"
	"github.com/houseview/gateway/pkg/protocol"
)

// pushAsync publishes n messages to user from another goroutine.
func pushAsync(tb testing.TB, c *cluster, user int64, n int) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			mustPublish(tb, c.pub, user)
		}
	})
	return &wg
}

// readUntilClosed collects message seqs until the connection ends.
func (c *client) readUntilClosed(tb testing.TB) ([]int64, error) {
	tb.Helper()
	var got []int64
	for {
		select {
		case f := <-c.frames:
			if f.Event == "" {
				got = append(got, f.Seq)
			}
		case err := <-c.closed:
			// Drain what was read before the end.
			for {
				select {
				case f := <-c.frames:
					if f.Event == "" {
						got = append(got, f.Seq)
					}
				default:
					return got, err
				}
			}
		case <-time.After(wait):
			tb.Fatal("connection did not end")
		}
	}
}

// TestNodeKilledMidStream: the client's node dies while messages flow; the
// client resumes on another node with last_seq and ends with exactly 1..N.
func TestNodeKilledMidStream(t *testing.T) {
	const n = 2000
	c := newCluster(t)
	a, b := startNode(t, c, "a", nil), startNode(t, c, "b", nil)
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	done := pushAsync(t, c, 1001, n)

	got := cl.seqs(t, 300)
	a.kill()
	rest, _ := cl.readUntilClosed(t)
	got = append(got, rest...)

	again := dial(t, b.url(fmt.Sprintf("user_id=1001&last_seq=%d", got[len(got)-1])))
	if f := again.connected(t); f.NodeID != "b" {
		t.Fatalf("connected %+v", f)
	}
	done.Wait()
	got = append(got, again.seqs(t, n-len(got))...)
	if diff := cmp.Diff(span(1, n), got); diff != "" {
		t.Fatalf("received seqs (-want +got):\n%s", diff)
	}
	again.quiet(t, 100*time.Millisecond)
}

// TestPubSubConnectionKilledMidStream kills the node's pub/sub connection
// (CLIENT KILL on exactly that connection) while messages flow: the session
// stays open and still gets every message once, in order.
func TestPubSubConnectionKilledMidStream(t *testing.T) {
	const n = 2000
	c := newCluster(t)
	a := startNode(t, c, "kill-a", nil)
	cl := dial(t, a.url("user_id=1001"))
	cl.connected(t)
	done := pushAsync(t, c, 1001, n)
	got := cl.seqs(t, 200)

	killed := killPubSub(t, c, "node-kill-a")
	if killed == 0 {
		t.Fatal("found no pub/sub connection of the node to kill")
	}
	done.Wait()
	got = append(got, cl.seqs(t, n-len(got))...)
	if diff := cmp.Diff(span(1, n), got); diff != "" {
		t.Fatalf("received seqs (-want +got):\n%s", diff)
	}
	eventually(t, "resubscription seen", func() bool { return a.sub.Resubscriptions() > 0 })
	// And live delivery works on the new connection.
	c.push(t, 1001, 3)
	if got := cl.seqs(t, 3); !cmp.Equal(got, span(n+1, n+3)) {
		t.Fatalf("after the kill: %v", got)
	}
}

// killPubSub kills the pub/sub connections named name and returns how many.
func killPubSub(tb testing.TB, c *cluster, name string) int {
	tb.Helper()
	ctx := context.Background()
	list, err := c.rdb.ClientList(ctx).Result()
	if err != nil {
		tb.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") || !strings.Contains(line, " flags=P ") {
			continue
		}
		var id string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
		}
		if err := c.rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
			tb.Fatal(err)
		}
		killed++
	}
	return killed
}

// TestSlowConsumerClosedThenResumes: a client that stops reading is closed
// (its node never blocks on it) and loses nothing when it resumes.
func TestSlowConsumerClosedThenResumes(t *testing.T) {
	const n = 400
	c := newCluster(t)
	a := startNode(t, c, "a", func(o *ws.Options) { o.BufferSize = 16; o.SlowTimeout = 300 * time.Millisecond })
	// A healthy neighbour on the same node keeps getting its messages.
	healthy := dial(t, a.url("user_id=2002"))
	healthy.connected(t)

	conn, _, err := websocket.DefaultDialer.Dial(a.url("user_id=1001"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	big := strings.Repeat("x", 32<<10)
	for range n {
		publishContent(t, c, 1001, big)
	}
	c.push(t, 2002, 5)
	if got := healthy.seqs(t, 5); !cmp.Equal(got, span(1, 5)) {
		t.Fatalf("healthy neighbour got %v", got)
	}
	eventually(t, "slow consumer closed", func() bool { return a.metrics.count("closed:"+ws.ReasonSlowConsumer) == 1 })

	// Now read what reached the socket before the close.
	var last int64
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			// 1006 is gorilla's name for a connection that dropped.
			if errors.As(err, &ce) && ce.Code != protocol.CloseSlowConsumer && ce.Code != websocket.CloseAbnormalClosure {
				t.Errorf("close code %d, want %d or a dropped connection", ce.Code, protocol.CloseSlowConsumer)
			}
			break
		}
		var f frame
		mustUnmarshal(t, b, &f)
		if f.Event != "" {
			continue
		}
		if f.Seq != last+1 {
			t.Fatalf("seq %d after %d", f.Seq, last)
		}
		last = f.Seq
	}
	if last >= n {
		t.Fatalf("the slow client got all %d messages: nothing was slow", n)
	}
	// Resume as a client does: the catch-up goes through the same small
	// buffer, so a reader slowed down (the race detector, a busy machine)
	// may be closed as slow again; it resumes again from what it has.
	got := resumeUntil(t, a, 1001, last, n)
	if !cmp.Equal(got, span(last+1, n)) {
		t.Fatalf("resume after %d: %v", last, got)
	}
}

// resumeUntil resumes user's stream after seq last until it has seq n,
// again after each slow-consumer close, and returns the seqs it got.
func resumeUntil(t *testing.T, a *node, user, last, n int64) []int64 {
	t.Helper()
	var got []int64
	for attempt := 0; last < n; attempt++ {
		if attempt == 20 {
			t.Fatalf("after %d resumes still at seq %d of %d", attempt, last, n)
		}
		c := dial(t, a.url(fmt.Sprintf("user_id=%d&last_seq=%d", user, last)))
		c.connected(t)
		for last < n {
			var f frame
			select {
			case f = <-c.frames:
			case err := <-c.closed:
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
					t.Fatalf("resumed session ended: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no frame within 30s at seq %d", last)
			}
			if f.Seq == 0 { // closed as slow, or an event
				if f.Event != "" {
					continue
				}
				break
			}
			if f.Seq != last+1 {
				t.Fatalf("seq %d after %d", f.Seq, last)
			}
			got, last = append(got, f.Seq), f.Seq
		}
		c.conn.Close()
	}
	return got
}

func TestDeploymentsOnOneRedisAreIsolated(t *testing.T) {
	c1, c2 := newCluster(t), newCluster(t)
	a, b := startNode(t, c1, "a", nil), startNode(t, c2, "a", nil)
	cl1, cl2 := dial(t, a.url("user_id=1001")), dial(t, b.url("user_id=1001"))
	cl1.connected(t)
	cl2.connected(t)
	c1.push(t, 1001, 2)
	c2.push(t, 1001, 1)
	if got := cl1.seqs(t, 2); !cmp.Equal(got, span(1, 2)) {
		t.Errorf("deployment 1 got %v", got)
	}
	if got := cl2.seqs(t, 1); !cmp.Equal(got, span(1, 1)) {
		t.Errorf("deployment 2 got %v", got)
	}
	cl1.quiet(t, 100*time.Millisecond)
	cl2.quiet(t, 10*time.Millisecond)
}

func TestDrainClosesSpreadOverWindow(t *testing.T) {
	c := newCluster(t)
	a := startNode(t, c, "a", nil)
	var clients []*client
	for u := int64(1); u <= 5; u++ {
		cl := dial(t, a.url(fmt.Sprintf("user_id=%d", u)))
		cl.connected(t)
		clients = append(clients, cl)
	}
	start := time.Now()
	a.hub.Drain(context.Background(), 400*time.Millisecond)
	spent := time.Since(start)
	if spent < 300*time.Millisecond {
		t.Errorf("drain of 5 sessions over 400ms took %s", spent)
	}
	for i, cl := range clients {
		_, err := cl.readUntilClosed(t)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != protocol.CloseGoingAway {
			t.Errorf("client %d ended with %v, want close 1001", i, err)
		}
	}
	_, resp, err := websocket.DefaultDialer.Dial(a.url("user_id=9"), nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("connect while draining: %v %v, want 503", err, resp)
	}
}
