package preferences_test

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestInAppMuteKeptInList: a type muted in the app with list on is stored
// in the user's list, marked "muted":true, already seen and read (the
// counts do not move, whether it follows the watermarks or not), is never
// sent on the user's channel, and its position is the stored one with
// Muted set; a type muted without list stays out of the list.
func TestInAppMuteKeptInList(t *testing.T) {
	ctx := context.Background()
	store := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	db, rdb := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("prefs"), db)
	svc := node(t, store, db, keys, preferences.Options{})
	conn := redis.New(rdb, keys)
	pub := preferences.NewPublisher(redis.NewPublisher(conn, redis.PublisherOptions{HistoryTTL: time.Hour}), svc, nil)
	inbox := redis.NewInbox(conn)
	const user = 9
	got, err := svc.Update(ctx, app.Preferences{UserID: user, Types: map[string]app.ChannelPreference{
		"confirmed": {Push: true, List: true}, "push": {List: true}, "cancelled": {}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Types["confirmed"]; c.InApp || !c.Push || !c.List {
		t.Fatalf("updated confirmed = %+v, want push and list", c)
	}
	read, err := store.Preferences(ctx, user) // MySQL keeps list
	if err != nil {
		t.Fatal(err)
	}
	if c, p := read.Types["confirmed"], read.Types["push"]; c != (app.ChannelPreference{Push: true, List: true}) ||
		p != (app.ChannelPreference{List: true}) || read.Types["created"] != (app.ChannelPreference{InApp: true, Push: true}) {
		t.Fatalf("stored types = %+v", read.Types)
	}
	live := rdb.Subscribe(ctx, keys.Channel(user))
	defer live.Close()
	if _, err := live.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	counts := func(want app.InboxCounts) {
		t.Helper()
		c, err := inbox.Counts(ctx, user)
		if err != nil || c != want {
			t.Fatalf("counts = %+v, %v; want %+v", c, err, want)
		}
	}
	publish := func(m app.Message, seq int64, muted bool) {
		t.Helper()
		pos, err := pub.Publish(ctx, m)
		if err != nil || pos.Seq != seq || pos.Muted != muted || (seq > 0) != (pos.Epoch != "") {
			t.Fatalf("type %d: position %+v, %v; want seq %d muted=%v", m.Type(), pos, err, seq, muted)
		}
	}
	created1 := note(t, app.MsgReservationCreated, user, 40)
	publish(created1, 1, false)
	counts(app.InboxCounts{Unseen: 1, Unread: 1})
	publish(note(t, app.MsgReservationConfirmed, user, 40), 2, true) // above unread 1: a flag
	counts(app.InboxCounts{Unseen: 1, Unread: 1})
	publish(note(t, app.MsgReservationCancelled, user, 40), 0, true) // muted, not listed
	if _, err := inbox.Mark(ctx, user, app.InboxMark{State: app.StateRead, All: true}); err != nil {
		t.Fatal(err)
	}
	counts(app.InboxCounts{})
	publish(note(t, app.MsgReservationConfirmed, user, 41), 3, true) // follows the watermarks: they rise
	counts(app.InboxCounts{})
	created4 := note(t, app.MsgReservationCreated, user, 41)
	publish(created4, 4, false)
	counts(app.InboxCounts{Unseen: 1, Unread: 1})
	positions, err := pub.PublishBatch(ctx, []app.Message{note(t, app.MsgGenericPush, user, 0), note(t, app.MsgGenericPush, 8, 0)})
	if err != nil || len(positions) != 2 || positions[0].Seq != 5 || !positions[0].Muted || positions[1].Seq != 1 || positions[1].Muted {
		t.Fatalf("batch positions = %+v, %v; want 9's seq 5 muted, 8's seq 1", positions, err)
	}
	counts(app.InboxCounts{Unseen: 1, Unread: 1})

	stored, err := rdb.LRange(ctx, keys.Messages(user), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 5 {
		t.Fatalf("stored %d messages, want 5: %q", len(stored), stored)
	}
	for i, s := range stored {
		env, ok := redis.ParseEnvelope(user, s)
		muted := i == 1 || i == 2 || i == 4
		if !ok || env.Seq != int64(i+1) || env.Muted != muted || strings.Contains(s, `"muted":true`) != muted {
			t.Errorf("stored %q: envelope %+v (%v), want seq %d muted=%v", s, env, ok, i+1, muted)
		}
	}
	page, err := inbox.List(ctx, user, app.InboxQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, it := range page.Items {
		states = append(states, fmt.Sprintf("%d:%v/%v", it.Seq, it.Seen, it.Read))
	}
	if s := strings.Join(states, " "); s != "5:true/true 4:false/false 3:true/true 2:true/true 1:true/true" {
		t.Errorf("inbox = %s", s)
	}

	// The channel carried 1 and 4 only (and the counts the mark sent).
	var sent []string
	for len(sent) < 2 {
		msg, err := live.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := msg.(*goredis.Message); ok && !redis.IsControl(m.Payload) {
			env, ok := redis.ParseEnvelope(user, m.Payload)
			if !ok {
				t.Fatalf("published %q: not a message", m.Payload)
			}
			sent = append(sent, ids(t, []string{string(env.Raw)})...)
		}
	}
	if want := []string{created1.ID, created4.ID}; strings.Join(sent, ",") != strings.Join(want, ",") {
		t.Errorf("live on the channel: %v, want %v", sent, want)
	}
	for {
		msg, err := live.ReceiveTimeout(ctx, 200*time.Millisecond)
		if err != nil {
			break
		}
		if m, ok := msg.(*goredis.Message); ok && !redis.IsControl(m.Payload) {
			t.Errorf("the channel got %q after the delivered messages, want nothing", m.Payload)
		}
	}
}
