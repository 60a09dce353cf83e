package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

// A stream last written under another replication history (a promoted
// replica, or keys migrated to another master) is rebased into a new
// epoch: its undelivered messages are kept, renumbered, so that seqs a
// failover may have lost are never given to other messages of the epoch.
func TestFailoverCheckRebasesAStreamOfAnotherHistory(t *testing.T) {
	ctx := context.Background()
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys("rebase", db)
	pub := redis.NewPublisher(rdb, keys, redis.PublisherOptions{Failover: true})
	streams := redis.NewStreams(rdb, keys, redis.StreamsOptions{Failover: true})
	var msgs []app.Message
	var pos app.Position
	for i := range 3 {
		msgs = append(msgs, mustMessage(t, 5, fmt.Sprint("m", i)))
		p, err := pub.Publish(ctx, msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		pos = p
	}
	// Under the same history nothing changes.
	if p, err := pub.Publish(ctx, msgs[2]); err != nil || p != pos {
		t.Fatalf("republish = %v, %v; want %v", p, err, pos)
	}
	streams.Advance(5, app.Position{Epoch: pos.Epoch, Seq: 1})
	if err := streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// As if the keys had been written by a master that is gone.
	if err := rdb.HSet(ctx, keys.Stream(5), "rid", "another-history").Err(); err != nil {
		t.Fatal(err)
	}
	m4 := mustMessage(t, 5, "after the failover")
	p4, err := pub.Publish(ctx, m4)
	if err != nil {
		t.Fatal(err)
	}
	if p4.Epoch == pos.Epoch || p4.Seq != 3 {
		t.Fatalf("first publish after the failover at %v; want a new epoch at seq 3 (2 undelivered kept)", p4)
	}
	// The kept messages keep their ids (a retry is not stored twice).
	if p, err := pub.Publish(ctx, msgs[2]); err != nil || p != (app.Position{Epoch: p4.Epoch, Seq: 2}) {
		t.Fatalf("retry of a kept message = %v, %v; want seq 2 of the new epoch", p, err)
	}
	page, err := streams.Read(ctx, 5, app.Resume{After: app.Position{Epoch: pos.Epoch, Seq: 3}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !page.Reset || page.Epoch != p4.Epoch || page.Head != 3 || len(page.Messages) != 3 {
		t.Fatalf("resume from the old epoch: %+v; want a reset to the new epoch with 3 messages", page)
	}
	for i, env := range page.Messages {
		want := []string{msgs[1].ID, msgs[2].ID, m4.ID}[i]
		if env.Seq != int64(i+1) || env.Epoch != p4.Epoch || !strings.Contains(string(env.Raw), `"id":"`+want+`"`) {
			t.Errorf("message %d: seq %d epoch %s %s; want seq %d epoch %s id %s", i, env.Seq, env.Epoch, env.Raw, i+1, p4.Epoch, want)
		}
	}
	// Standalone mode (no check) never rebases.
	plain := redis.NewPublisher(rdb, keys, redis.PublisherOptions{})
	if err := rdb.HSet(ctx, keys.Stream(5), "rid", "yet-another").Err(); err != nil {
		t.Fatal(err)
	}
	if p, err := plain.Publish(ctx, mustMessage(t, 5, "plain")); err != nil || p.Epoch != p4.Epoch || p.Seq != 4 {
		t.Fatalf("standalone publish = %v, %v; want seq 4 of %s", p, err, p4.Epoch)
	}
}

// eventuallyWithin polls cond until it holds, failing after d.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// One node's sharded subscription on a 3-master cluster with replicas:
// users spread over every shard get what is published to them; a slot
// that migrates to another master, and a master killed and replaced by
// its replica, are followed (the users concerned are told to catch up),
// and what is published afterwards arrives; the streams concerned start a
// new epoch.
func TestShardedSubscriberFollowsMigrationAndFailover(t *testing.T) {
	ctx := context.Background()
	cl := testenv.MustRedisCluster(t, 3, 1)
	rdb := cl.Client()
	redis.FollowFailover(rdb)
	keys := redis.NewKeys("shard", 0)
	for _, k := range []string{"a", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", keys.Channel(42), keys.ShardProbe("n1", 7)} {
		if want := rdb.ClusterKeySlot(ctx, k).Val(); int64(redis.Slot(k)) != want {
			t.Fatalf("Slot(%q) = %d, CLUSTER KEYSLOT says %d", k, redis.Slot(k), want)
		}
	}
	sub := redis.NewShardedSubscriber(rdb, keys, redis.SubscriberOptions{NodeID: "n1", ProbeInterval: 50 * time.Millisecond,
		StaleAfter: time.Second})
	rec := newRecorder()
	if err := sub.Start(ctx, rec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go sub.Probe(pctx)
	eventuallyWithin(t, 10*time.Second, "healthy", func() bool { return sub.Healthy() == nil })

	pub := redis.NewPublisher(rdb, keys, redis.PublisherOptions{Failover: true})
	masters := map[string][]int64{} // master address -> its users
	const users = 60
	for u := int64(1); u <= users; u++ {
		if err := sub.Acquire(ctx, u); err != nil {
			t.Fatal(err)
		}
		m := cl.MasterOf(redis.Slot(keys.Channel(u)))
		masters[m.Addr] = append(masters[m.Addr], u)
	}
	if len(masters) != 3 {
		t.Fatalf("users on %d masters; want all 3", len(masters))
	}
	epochs := map[int64]string{}
	publishAll := func(round int) {
		t.Helper()
		for u := int64(1); u <= users; u++ {
			// As a client does, a publish that failed (the cluster client
			// still knew the old master) is sent again with the same id.
			m := mustMessage(t, u, fmt.Sprint("round ", round))
			p, err := pub.Publish(ctx, m)
			for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				p, err = pub.Publish(ctx, m)
			}
			if err != nil {
				t.Fatalf("publish to user %d: %v", u, err)
			}
			epochs[u] = p.Epoch
		}
		eventuallyWithin(t, 10*time.Second, fmt.Sprint("round ", round, " delivered"), func() bool {
			for u := int64(1); u <= users; u++ {
				if rec.count(u) < round {
					return false
				}
			}
			return true
		})
	}
	publishAll(1)

	// Control messages ride the sharded channels; the cross-user keys
	// (presence) sit in one slot, so no command crosses slots.
	rec.sessions = 2
	d, err := redis.NewRevocations(redis.NewAsker(rdb, nil, keys), 5*time.Second).Disconnect(ctx, 7, time.Time{})
	if err != nil || d.Nodes != 1 || d.Closed != 2 || rec.revokes(7) != 1 {
		t.Fatalf("disconnect on the cluster: %+v, %v, revokes %d; want 1 node closing 2", d, err, rec.revokes(7))
	}
	reg := redis.NewSessionRegistry(rdb, keys, redis.SessionOptions{NodeID: "n1", Limit: 1})
	oldest := mustAdmit(t, reg, 8)
	mustAdmit(t, reg, 8)
	eventuallyWithin(t, 10*time.Second, "the oldest session evicted", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.evicted) == 1 && rec.evicted[0] == oldest
	})
	p1 := startNode(t, rdb, keys, redis.PresenceOptions{NodeID: "n1", Heartbeat: 50 * time.Millisecond, TTL: time.Second})
	p2 := startNode(t, rdb, keys, redis.PresenceOptions{NodeID: "n2", Heartbeat: 50 * time.Millisecond, TTL: time.Second})
	p1.UserOnline(1)
	p1.UserOnline(2)
	p2.UserOnline(2)
	p2.UserOnline(3)
	waitFor(t, 10*time.Second, onlineIs(ctx, p1.Presence, []int64{1, 2, 3}))

	// A slot migrates: its channel is unsubscribed by Redis and made again
	// on the new master.
	moved := masters[cl.Masters()[0].Addr][0]
	slot := redis.Slot(keys.Channel(moved))
	cl.MigrateSlot(slot, cl.Masters()[1])
	eventuallyWithin(t, 10*time.Second, "migrated user resubscribed", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.resubed[moved] > 0
	})
	before := epochs[moved]
	publishAll(2)
	if epochs[moved] == before {
		t.Errorf("user %d: the stream kept its epoch on another master", moved)
	}

	// A master dies; its replica takes over.
	victim := masters[cl.Masters()[2].Addr]
	victimSlot := redis.Slot(keys.Channel(victim[0]))
	dead := cl.KillMaster(victimSlot)
	// Until the replica takes over, the node cannot hear that shard's users.
	eventuallyWithin(t, 10*time.Second, "unhealthy while a shard has no master", func() bool { return sub.Healthy() != nil })
	cl.WaitFailover(victimSlot, dead, 30*time.Second)
	eventuallyWithin(t, 15*time.Second, "healthy after the failover", func() bool { return sub.Healthy() == nil })
	eventuallyWithin(t, 10*time.Second, "users of the failed master resubscribed", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, u := range victim {
			if rec.resubed[u] == 0 {
				return false
			}
		}
		return true
	})
	before = epochs[victim[0]]
	publishAll(3)
	if epochs[victim[0]] == before {
		t.Errorf("user %d: the stream kept its epoch after the failover", victim[0])
	}
	for u := int64(1); u <= users; u++ {
		if n := rec.count(u); n != 3 {
			t.Errorf("user %d got %d messages; want 3", u, n)
		}
	}
	if sub.Resubscriptions() == 0 {
		t.Error("no resubscription counted")
	}
}
