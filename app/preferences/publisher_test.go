package preferences_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

func note(tb testing.TB, t app.MessageType, user, reservation int64) app.Message {
	tb.Helper()
	m, err := (&app.Notification{ID: app.NewMessageID(), Type: t, UserID: user, ReservationID: reservation,
		Title: "t", Content: "c", Timestamp: 1}).Message()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestInAppMute: a type muted in the app is neither stored in the user's
// list nor sent on the user's channel (what live sessions receive), and
// gets the zero position; the other types, and other users' messages of
// the type, are delivered. A reminder of a reservation ignores the
// reminder type's mute and follows only reminders_muted_for.
func TestInAppMute(t *testing.T) {
	ctx := context.Background()
	store := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("prefs"), db)
	svc := node(t, store, db, keys, preferences.Options{})
	pub := preferences.NewPublisher(redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{HistoryTTL: time.Hour}), svc, nil)
	if _, err := svc.Update(ctx, app.Preferences{UserID: 7, RemindersMutedFor: []int64{50},
		Types: map[string]app.ChannelPreference{"confirmed": {Push: true}, "reminder": {}, "push": {}}}); err != nil {
		t.Fatal(err)
	}
	live := rdb.Subscribe(ctx, keys.Channel(7))
	defer live.Close()
	if _, err := live.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	type sent struct {
		m     app.Message
		muted bool
	}
	msgs := []sent{
		{note(t, app.MsgReservationConfirmed, 7, 40), true},
		{note(t, app.MsgReservationCreated, 7, 40), false},
		{note(t, app.MsgReservationReminder, 7, 40), false}, // the reminder type's mute does not hold for a viewing
		{note(t, app.MsgReservationReminder, 7, 50), true},  // reminders of 50 muted explicitly
		{note(t, app.MsgReservationConfirmed, 8, 40), false},
	}
	var want []string
	for _, s := range msgs {
		pos, err := pub.Publish(ctx, s.m)
		if err != nil {
			t.Fatal(err)
		}
		if (pos.Seq == 0) != s.muted {
			t.Errorf("type %d of user %d (reservation %d): position %+v, want muted=%v", s.m.Type(), s.m.UserID,
				app.ReservationOf(s.m.Payload), pos, s.muted)
		}
		if !s.muted && s.m.UserID == 7 {
			want = append(want, s.m.ID)
		}
	}
	// A batch: the muted generic push of 7 gets the zero position, 8's is published.
	batch := []app.Message{note(t, app.MsgGenericPush, 7, 0), note(t, app.MsgGenericPush, 8, 0)}
	positions, err := pub.PublishBatch(ctx, batch)
	if err != nil || len(positions) != 2 || positions[0].Seq != 0 || positions[1].Seq == 0 {
		t.Errorf("batch positions = %+v, %v; want 7's zero, 8's given", positions, err)
	}

	stored, err := rdb.LRange(ctx, keys.Messages(7), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, stored); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stored for 7: %v, want %v", got, want)
	}
	var got []string
	for range want {
		msg, err := live.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := msg.(*goredis.Message); ok && !redis.IsControl(m.Payload) {
			env, ok := redis.ParseEnvelope(7, m.Payload) // the published copy ends with the inbox counts
			if !ok {
				t.Fatalf("published %q: not a message", m.Payload)
			}
			got = append(got, ids(t, []string{string(env.Raw)})...)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("live on 7's channel: %v, want %v", got, want)
	}
	// Nothing else arrives: the muted ones were never sent.
	if msg, err := live.ReceiveTimeout(ctx, 200*time.Millisecond); err == nil {
		t.Errorf("7's channel got %v after the delivered messages, want nothing", msg)
	}
}

func ids(tb testing.TB, payloads []string) []string {
	tb.Helper()
	var out []string
	for _, p := range payloads {
		var n struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(p), &n); err != nil {
			tb.Fatalf("payload %q: %v", p, err)
		}
		out = append(out, n.ID)
	}
	return out
}
