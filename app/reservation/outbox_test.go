package reservation_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reservation"
)

// TestRedisDownLosesNothing books and confirms while the node's Redis is
// unreachable (a real client to a port nobody listens on): the requests
// succeed, the notifications wait in the MySQL outbox, and a relay on
// another node delivers each exactly once.
func TestRedisDownLosesNothing(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	down := serviceOnDeadRedis(t, env)

	r, err := down.CreateReservation(ctx, app.CreateReservation{HouseID: house, TenantID: tenant, TenantName: "张三", ReserveTime: env.ReserveTime(time.Hour)})
	if err != nil {
		t.Fatalf("create with Redis down: %v", err)
	}
	if _, err := down.ConfirmReservation(ctx, r.ID, landlord); err != nil {
		t.Fatalf("confirm with Redis down: %v", err)
	}
	if n := len(env.Messages(t, landlord)) + len(env.Messages(t, tenant)); n != 0 {
		t.Fatalf("%d messages reached Redis through a dead client", n)
	}

	relay := &reservation.Relay{Store: env.Store, Publisher: env.Publisher, Grace: time.Nanosecond}
	n, err := relay.Flush(ctx)
	if err != nil || n != 2 {
		t.Fatalf("relay flush = %d, %v; want 2, nil", n, err)
	}
	if n, err := relay.Flush(ctx); err != nil || n != 0 {
		t.Fatalf("second flush = %d, %v; want 0, nil", n, err)
	}
	lm, tm := env.Messages(t, landlord), env.Messages(t, tenant)
	if len(lm) != 1 || lm[0].Type != app.MsgReservationCreated || len(tm) != 1 || tm[0].Type != app.MsgReservationConfirmed {
		t.Fatalf("after relay: landlord %+v, tenant %+v", lm, tm)
	}
	assertOutboxEmpty(t, env)
}

// serviceOnDeadRedis is the service of env on a node whose Redis cannot be
// reached (a real client to a port nobody listens on).
func serviceOnDeadRedis(tb testing.TB, env *apptest.Env) *reservation.Service {
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	tb.Cleanup(func() { dead.Close() })
	return reservation.New(env.Store, redis.NewPublisher(redis.New(dead, env.Keys), redis.PublisherOptions{}), reservation.Options{})
}

// TestRelayRepublishIsIdempotent covers a crash after Redis took a message
// but before the outbox row was deleted: the relay publishes it again and
// the recipient still has it once.
func TestRelayRepublishIsIdempotent(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: tenant, Title: "t", Content: "c", Timestamp: 1}
	m, err := n.Message()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Publisher.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.AddMessages(ctx, []app.Message{m}, time.Now()); err != nil {
		t.Fatal(err)
	}
	relay := &reservation.Relay{Store: env.Store, Publisher: env.Publisher, Grace: time.Nanosecond}
	if _, err := relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := env.Messages(t, tenant); len(got) != 1 || got[0].ID != n.ID || got[0].Seq != 1 {
		t.Fatalf("messages = %+v, want the one message once with seq 1", got)
	}
	assertOutboxEmpty(t, env)
}

// TestCleanerDeletesPublishedRowsInBatches: with a Cleaner, a request's
// published rows leave the outbox at the next flush, not in the request;
// a later request to the same recipient does not publish them again.
func TestCleanerDeletesPublishedRowsInBatches(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	cleaner := reservation.NewCleaner(env.Store, time.Hour, nil)
	svc := reservation.New(env.Store, env.Publisher, reservation.Options{Cleaner: cleaner})
	r, err := svc.CreateReservation(ctx, app.CreateReservation{HouseID: house, TenantID: tenant, TenantName: "张三", ReserveTime: env.ReserveTime(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(waiting(t, env, landlord)); n != 1 {
		t.Fatalf("outbox holds %d rows of the landlord before the flush, want the published one", n)
	}
	if _, err := svc.CancelReservation(ctx, r.ID, tenant, ""); err != nil {
		t.Fatal(err)
	}
	if err := cleaner.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	assertOutboxEmpty(t, env)
	want := []received{{1, "新的看房预约"}, {2, "预约已取消"}}
	if diff := cmp.Diff(want, inbox(t, env, landlord)); diff != "" {
		t.Errorf("landlord (-want +got):\n%s", diff)
	}
}
