package subscribe_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/redis/subscribe"
	"github.com/houseview/gateway/pkg/testenv"
)

// eventuallyWithin polls cond until it holds, failing after d.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, d, what, cond)
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
	sub := subscribe.New(redis.New(rdb, keys), subscribe.Options{NodeID: "n1", ProbeInterval: 50 * time.Millisecond,
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

	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
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
	d, err := coord.NewRevocations(redis.New(rdb, keys), 5*time.Second).Disconnect(ctx, 7, time.Time{})
	if err != nil || d.Nodes != 1 || d.Closed != 2 || rec.revokes(7) != 1 {
		t.Fatalf("disconnect on the cluster: %+v, %v, revokes %d; want 1 node closing 2", d, err, rec.revokes(7))
	}
	reg := coord.NewSessionRegistry(redis.New(rdb, keys), coord.SessionOptions{NodeID: "n1", Limit: 1})
	oldest := mustAdmit(t, reg, 8)
	mustAdmit(t, reg, 8)
	eventuallyWithin(t, 10*time.Second, "the oldest session evicted", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.evicted) == 1 && rec.evicted[0] == oldest
	})
	p1 := startPresence(t, rdb, keys, coord.PresenceOptions{NodeID: "n1", Heartbeat: 50 * time.Millisecond, TTL: time.Second})
	p2 := startPresence(t, rdb, keys, coord.PresenceOptions{NodeID: "n2", Heartbeat: 50 * time.Millisecond, TTL: time.Second})
	p1.UserOnline(1)
	p1.UserOnline(2)
	p2.UserOnline(2)
	p2.UserOnline(3)
	eventuallyWithin(t, 10*time.Second, "users 1, 2, 3 online", func() bool {
		got, err := p1.Online(ctx)
		return err == nil && slices.Equal(got, []int64{1, 2, 3})
	})

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
