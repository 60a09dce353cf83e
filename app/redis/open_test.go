package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
)

// TestStreamsReadAndSessionCheck: a session's first read and its check
// (revocation, eviction), also after Redis lost its scripts; lifting a
// revocation.
func TestStreamsReadAndSessionCheck(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	streams := redis.NewStreams(redis.New(env.rdb, env.keys), redis.StreamsOptions{})
	for i := range 2 {
		n := app.Notification{ID: fmt.Sprintf("open-%d", i), UserID: 7, Type: app.MsgGenericPush, Title: "t", Content: "c"}
		m, err := n.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.pub.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	reg := coord.NewSessionRegistry(redis.New(env.rdb, env.keys), coord.SessionOptions{NodeID: "n", Limit: 1})
	check := func(what, session string, want app.SessionCheck) {
		t.Helper()
		page, err := streams.Read(ctx, 7, app.Resume{}, 10)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(page.Messages) != 2 || page.Head != 2 {
			t.Errorf("%s: %d messages, head %d; want 2, 2", what, len(page.Messages), page.Head)
		}
		got, err := reg.Check(ctx, 7, session)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: check (-want +got):\n%s", what, diff)
		}
	}
	check("not revoked", "x", app.SessionCheck{})
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	revocations := coord.NewRevocations(redis.New(env.rdb, env.keys), 10*time.Millisecond)
	if _, err := revocations.Disconnect(ctx, 7, until); err != nil {
		t.Fatal(err)
	}
	check("revoked", "x", app.SessionCheck{RevokedUntil: until})
	if err := env.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	check("after SCRIPT FLUSH", "x", app.SessionCheck{RevokedUntil: until})
	if lifted, err := revocations.Lift(ctx, 7); err != nil || !lifted {
		t.Fatalf("Lift: %t, %v", lifted, err)
	}
	check("lifted", "x", app.SessionCheck{})
	if lifted, err := revocations.Lift(ctx, 7); err != nil || lifted {
		t.Fatalf("Lift again: %t, %v; want false", lifted, err)
	}
	// A session the limit closed before it listened reads its mark.
	first, _, err := reg.Admit(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := reg.Admit(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	check("evicted", first, app.SessionCheck{Evicted: true})
	check("admitted", second, app.SessionCheck{})
	// A disconnect with an until in the past lifts a revocation too.
	if _, err := revocations.Disconnect(ctx, 7, until); err != nil {
		t.Fatal(err)
	}
	if _, err := revocations.Disconnect(ctx, 7, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	check("lifted by a past until", "x", app.SessionCheck{})
}

// TestAdvancesOfTwoEpochsNeverOverwriteEachOther: after Redis lost a
// stream, a session still on the old epoch may advance after one on the
// new epoch did; the new epoch's advance is kept, read and written.
func TestAdvancesOfTwoEpochsNeverOverwriteEachOther(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	streams := redis.NewStreams(redis.New(env.rdb, env.keys), redis.StreamsOptions{})
	publish := func(n int) app.Position {
		t.Helper()
		var pos app.Position
		for i := range n {
			n := app.Notification{ID: app.NewMessageID(), UserID: 7, Type: app.MsgGenericPush, Title: "t", Content: fmt.Sprint(i)}
			m, err := n.Message()
			if err != nil {
				t.Fatal(err)
			}
			if pos, err = env.pub.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		return pos
	}
	old := publish(3)
	if err := env.rdb.Del(ctx, env.keys.Stream(7)).Err(); err != nil { // Redis lost the stream
		t.Fatal(err)
	}
	current := publish(2)
	if current.Epoch == old.Epoch {
		t.Fatalf("no new epoch: %+v", current)
	}
	streams.Advance(7, current)
	streams.Advance(7, old) // a late advance of a session still on the old epoch
	page, err := streams.Read(ctx, 7, app.Resume{FromCursor: true}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if page.After != 2 || len(page.Messages) != 0 {
		t.Errorf("read after the cursor: after %d with %d messages, want after 2 with none", page.After, len(page.Messages))
	}
	if err := streams.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := env.rdb.HGet(ctx, env.keys.Stream(7), redis.StreamCursor).Int64(); n != 2 {
		t.Errorf("stored cursor %d, want 2", n)
	}
}
