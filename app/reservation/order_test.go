package reservation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/reservation"
)

// received is a message as its recipient stored it: seq and title.
type received struct {
	Seq   int64
	Title string
}

// inbox lists what user has received so far, in order.
func inbox(tb testing.TB, env *apptest.Env, user int64) []received {
	tb.Helper()
	var out []received
	for _, n := range env.Messages(tb, user) {
		out = append(out, received{n.Seq, n.Title})
	}
	return out
}

// waiting lists the titles of user's messages still in the outbox.
func waiting(tb testing.TB, env *apptest.Env, user int64) []string {
	tb.Helper()
	msgs, err := env.Store.PendingMessagesFor(context.Background(), []int64{user}, 100)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, title(tb, m))
	}
	return out
}

// title reads the title of an outbox message; a payload broken by
// failPublishes is the title as a JSON string.
func title(tb testing.TB, m app.Message) string {
	tb.Helper()
	var n app.Notification
	if err := json.Unmarshal(m.Payload, &n); err == nil {
		return n.Title
	}
	var broken string
	if err := json.Unmarshal(m.Payload, &broken); err != nil {
		tb.Fatalf("outbox payload %s: %v", m.Payload, err)
	}
	return broken
}

// stored puts a generic message to user in the outbox, unpublished, as a
// request that died after its commit leaves it.
func stored(tb testing.TB, env *apptest.Env, user int64, text string) app.Message {
	tb.Helper()
	n := app.Notification{ID: app.NewMessageID(), Type: app.MsgGenericPush, UserID: user, Title: text, Content: text, Timestamp: 1}
	m, err := n.Message()
	if err != nil {
		tb.Fatal(err)
	}
	if err := env.Store.AddMessages(context.Background(), []app.Message{m}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	return m
}

// failPublishes makes every publish of m fail until the returned repair is
// called: its outbox row's payload is made something the publisher refuses
// (a JSON string, holding the title, instead of an object). Other
// messages, to the same user too, publish as usual.
func failPublishes(tb testing.TB, env *apptest.Env, m app.Message) (repair func()) {
	tb.Helper()
	set := func(payload string) {
		tb.Helper()
		res := env.DB.Exec("UPDATE notification_outbox SET payload = ? WHERE msg_id = ?", payload, m.ID)
		if res.Error != nil || res.RowsAffected != 1 {
			tb.Fatalf("set payload of %s: %v (%d rows)", m.ID, res.Error, res.RowsAffected)
		}
	}
	broken, _ := json.Marshal(title(tb, m))
	set(string(broken))
	return func() { set(string(m.Payload)) }
}

// TestLaterNotificationWaitsForOlderOne: the booking's notice to the
// landlord could not be published (this node's Redis is unreachable) and
// waits in the outbox; the tenant then cancels on a healthy node. The
// landlord gets the booking first and the cancellation second, each once.
func TestLaterNotificationWaitsForOlderOne(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	down := serviceOnDeadRedis(t, env)
	r, err := down.CreateReservation(ctx, app.CreateReservation{HouseID: house, TenantID: tenant, TenantName: "张三", ReserveTime: env.ReserveTime(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got := inbox(t, env, landlord); len(got) != 0 {
		t.Fatalf("landlord received %v through a dead client", got)
	}

	if _, err := env.Service.CancelReservation(ctx, r.ID, tenant, ""); err != nil {
		t.Fatal(err)
	}
	want := []received{{1, "新的看房预约"}, {2, "预约已取消"}}
	if diff := cmp.Diff(want, inbox(t, env, landlord)); diff != "" {
		t.Errorf("landlord after the cancel (-want +got):\n%s", diff)
	}
	relay := &reservation.Relay{Store: env.Store, Publisher: env.Publisher, Grace: time.Nanosecond}
	if _, err := relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, inbox(t, env, landlord)); diff != "" {
		t.Errorf("landlord after a relay flush (-want +got):\n%s", diff)
	}
	assertOutboxEmpty(t, env)
}

// TestDeliverHoldsBackOnlyTheFailedRecipient: the tenant has an older
// message whose publish fails; a reminder to both parties reaches the
// landlord at once and waits for it on the tenant's side, then follows it.
func TestDeliverHoldsBackOnlyTheFailedRecipient(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	r := MustBook(t, env, 48*time.Hour)
	if _, err := env.Service.ConfirmReservation(ctx, r.ID, landlord); err != nil {
		t.Fatal(err)
	}
	repair := failPublishes(t, env, stored(t, env, tenant, "older"))
	if _, err := env.Service.RemindReservation(ctx, r.ID, tenant); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]received{{1, "新的看房预约"}, {2, "看房提醒"}}, inbox(t, env, landlord)); diff != "" {
		t.Errorf("landlord (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]received{{1, "预约已确认"}}, inbox(t, env, tenant)); diff != "" {
		t.Errorf("tenant while the older message fails (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"older", "看房提醒"}, waiting(t, env, tenant)); diff != "" {
		t.Errorf("tenant's outbox (-want +got):\n%s", diff)
	}

	repair()
	relay := &reservation.Relay{Store: env.Store, Publisher: env.Publisher, Grace: time.Nanosecond}
	if _, err := relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []received{{1, "预约已确认"}, {2, "older"}, {3, "看房提醒"}}
	if diff := cmp.Diff(want, inbox(t, env, tenant)); diff != "" {
		t.Errorf("tenant after the relay (-want +got):\n%s", diff)
	}
	assertOutboxEmpty(t, env)
}

// TestRelayHoldsBackOnlyTheFailedRecipient: in one relay batch a1 b1 a2
// b2, a1 fails. b1 and b2 go out; a2 waits behind a1, and once a1 can be
// published both follow in order.
func TestRelayHoldsBackOnlyTheFailedRecipient(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	const a, b = 5001, 5002
	a1 := stored(t, env, a, "a1")
	stored(t, env, b, "b1")
	stored(t, env, a, "a2")
	stored(t, env, b, "b2")
	repair := failPublishes(t, env, a1)
	relay := &reservation.Relay{Store: env.Store, Publisher: env.Publisher, Grace: time.Nanosecond}
	if n, err := relay.Flush(ctx); n != 2 || err != nil {
		t.Errorf("flush = %d, %v; want 2, nil", n, err)
	}
	if diff := cmp.Diff([]received{{1, "b1"}, {2, "b2"}}, inbox(t, env, b)); diff != "" {
		t.Errorf("b (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]received(nil), inbox(t, env, a)); diff != "" {
		t.Errorf("a while a1 fails (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a1", "a2"}, waiting(t, env, a)); diff != "" {
		t.Errorf("a's outbox (-want +got):\n%s", diff)
	}

	repair()
	if n, err := relay.Flush(ctx); n != 2 || err != nil {
		t.Errorf("flush after the repair = %d, %v; want 2, nil", n, err)
	}
	if diff := cmp.Diff([]received{{1, "a1"}, {2, "a2"}}, inbox(t, env, a)); diff != "" {
		t.Errorf("a after the repair (-want +got):\n%s", diff)
	}
	assertOutboxEmpty(t, env)
}

// TestRelayLeavesFailedRecipientOutOfLaterPasses: with passes of two
// messages, a's failing a1 and the a2, a3 behind it would fill the second
// pass; that pass reads past them to b2.
func TestRelayLeavesFailedRecipientOutOfLaterPasses(t *testing.T) {
	env := apptest.MustEnv(t)
	const a, b = 5001, 5002
	a1 := stored(t, env, a, "a1")
	stored(t, env, b, "b1")
	stored(t, env, a, "a2")
	stored(t, env, a, "a3")
	stored(t, env, b, "b2")
	failPublishes(t, env, a1)
	relay := &reservation.Relay{Store: env.Store, Publisher: env.Publisher, Grace: time.Nanosecond, Batch: 2}
	if n, err := relay.Flush(context.Background()); n != 2 || err != nil {
		t.Errorf("flush = %d, %v; want 2, nil", n, err)
	}
	if diff := cmp.Diff([]received{{1, "b1"}, {2, "b2"}}, inbox(t, env, b)); diff != "" {
		t.Errorf("b (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a1", "a2", "a3"}, waiting(t, env, a)); diff != "" {
		t.Errorf("a's outbox (-want +got):\n%s", diff)
	}
}
