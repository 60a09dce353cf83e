package ws_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestRedisLosingDataIsNeverTakenForOld: when Redis loses a user's stream
// (a FLUSHDB, a restart without persistence, the stream key evicted alone),
// its seqs start again at 1 under a new epoch. A live session resyncs on
// the spot (a reset frame, then the new epoch's messages), a device that
// reconnects with its old last_seq and epoch is told reset and replays the
// new epoch, and a new device follows the new epoch: each gets every
// message published after the loss, once.
func TestRedisLosingDataIsNeverTakenForOld(t *testing.T) {
	const user = 1001
	for _, fault := range []struct {
		name   string
		inject func(t *testing.T, srv *testenv.RedisServer, c *cluster, nodes []*node)
	}{
		{"flushdb", func(t *testing.T, _ *testenv.RedisServer, c *cluster, _ []*node) {
			if err := c.rdb.FlushDB(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{"restart without persistence", func(t *testing.T, srv *testenv.RedisServer, _ *cluster, nodes []*node) {
			before := make([]int64, len(nodes))
			for i, n := range nodes {
				before[i] = n.sub.Resubscriptions()
			}
			srv.Kill()
			srv.Start()
			for i, n := range nodes {
				eventually(t, "node "+n.id+" resubscribed", func() bool { return n.sub.Resubscriptions() > before[i] })
			}
		}},
		{"stream key evicted", func(t *testing.T, _ *testenv.RedisServer, c *cluster, _ []*node) {
			if n, err := c.rdb.Del(t.Context(), c.keys.Stream(user)).Result(); err != nil || n != 1 {
				t.Fatalf("del stream key: %d, %v", n, err)
			}
		}},
	} {
		t.Run(fault.name, func(t *testing.T) {
			srv := testenv.MustRedisServer(t)
			c := newClusterOn(t, srv)
			a, b := startNode(t, c, "a", nil), startNode(t, c, "b", nil)

			live := dial(t, a.url(fmt.Sprintf("user_id=%d", user)))
			old := live.connected(t).Epoch
			c.push(t, user, 5)
			if got := live.seqs(t, 5); !cmp.Equal(got, span(1, 5)) {
				t.Fatalf("before the loss: %v", got)
			}
			device := dial(t, b.url(fmt.Sprintf("user_id=%d&last_seq=0", user)))
			device.connected(t)
			device.seqs(t, 5)
			device.conn.Close()

			fault.inject(t, srv, c, []*node{a, b})

			fresh := dial(t, b.url(fmt.Sprintf("user_id=%d", user)))
			f := fresh.connected(t)
			if f.Epoch == old || f.Epoch == "" || f.LastSeq != 0 || f.HeadSeq != 0 {
				t.Fatalf("new device after the loss: connected %+v, want a new epoch (old %s) from 0", f, old)
			}
			epoch := f.Epoch
			c.push(t, user, 3)

			// The live session: told on the spot, then the new epoch once.
			r := live.next(t)
			if r.Event != "reset" || r.Epoch != epoch || r.LastSeq != 0 {
				t.Fatalf("live session got %+v, want a reset frame to epoch %s after 0", r, epoch)
			}
			if got := live.seqs(t, 3); !cmp.Equal(got, span(1, 3)) {
				t.Fatalf("live session after the reset: %v", got)
			}
			if got := fresh.seqs(t, 3); !cmp.Equal(got, span(1, 3)) {
				t.Fatalf("new device: %v", got)
			}
			// The device that comes back with its old position.
			back := dial(t, a.url(fmt.Sprintf("user_id=%d&last_seq=5&epoch=%s", user, old)))
			if f := back.connected(t); !f.Reset || f.Epoch != epoch || f.LastSeq != 0 || f.HeadSeq != 3 {
				t.Fatalf("returning device: connected %+v, want reset to epoch %s, replay after 0, head 3", f, epoch)
			}
			if got := back.seqs(t, 3); !cmp.Equal(got, span(1, 3)) {
				t.Fatalf("returning device: %v", got)
			}
			for name, cl := range map[string]*client{"live": live, "new": fresh, "returning": back} {
				select {
				case extra := <-cl.frames:
					t.Errorf("%s session got an extra frame %+v", name, extra)
				default:
				}
			}
			// Everything published later flows on as usual.
			c.push(t, user, 1)
			for name, cl := range map[string]*client{"live": live, "new": fresh, "returning": back} {
				if got := cl.seqs(t, 1); got[0] != 4 {
					t.Errorf("%s session: next seq %d, want 4", name, got[0])
				}
			}
		})
	}
}
