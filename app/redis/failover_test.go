package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
	pub := redis.NewPublisher(redis.New(rdb, keys).WithMode(redis.ModeSentinel), redis.PublisherOptions{})
	streams := redis.NewStreams(redis.New(rdb, keys).WithMode(redis.ModeSentinel), redis.StreamsOptions{})
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
	plain := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
	if err := rdb.HSet(ctx, keys.Stream(5), "rid", "yet-another").Err(); err != nil {
		t.Fatal(err)
	}
	if p, err := plain.Publish(ctx, mustMessage(t, 5, "plain")); err != nil || p.Epoch != p4.Epoch || p.Seq != 4 {
		t.Fatalf("standalone publish = %v, %v; want seq 4 of %s", p, err, p4.Epoch)
	}
}
