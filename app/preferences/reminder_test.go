package preferences_test

import (
	"context"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/reservation"
)

// TestViewingReminders drives the real reservation service through the
// in-app filter: a tenant who muted the reminder type and confirmations
// in the app still gets the reminders of the viewing they booked; only
// listing the reservation in reminders_muted_for mutes them, and only
// for the tenant (the landlord still gets them).
func TestViewingReminders(t *testing.T) {
	ctx := context.Background()
	env := apptest.MustEnv(t)
	prefs := preferences.New(env.Store, env.Redis, env.Keys.Preferences(), preferences.Options{})
	svc := reservation.New(env.Store, preferences.NewPublisher(env.Publisher, prefs, nil), reservation.Options{})
	const tenant, landlord = 1001, 2001
	if _, err := prefs.Update(ctx, app.Preferences{UserID: tenant,
		Types: map[string]app.ChannelPreference{"reminder": {}, "confirmed": {}}}); err != nil {
		t.Fatal(err)
	}
	r, err := svc.CreateReservation(ctx, app.CreateReservation{HouseID: 3001, TenantID: tenant, TenantName: "张三",
		ReserveTime: env.ReserveTime(30 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmReservation(ctx, r.ID, landlord); err != nil {
		t.Fatal(err)
	}
	types := func(user int64) []app.MessageType {
		var out []app.MessageType
		for _, n := range env.Messages(t, user) {
			out = append(out, n.Type)
		}
		return out
	}
	if got := types(tenant); len(got) != 0 {
		t.Fatalf("tenant's messages %v, want none (the confirmation muted)", got)
	}
	if _, err := svc.RemindReservation(ctx, r.ID, landlord); err != nil {
		t.Fatal(err)
	}
	if got := types(tenant); len(got) != 1 || got[0] != app.MsgReservationReminder {
		t.Fatalf("tenant's messages %v, want the viewing's reminder despite the reminder type muted", got)
	}
	if _, err := prefs.Update(ctx, app.Preferences{UserID: tenant, RemindersMutedFor: []int64{r.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemindReservation(ctx, r.ID, landlord); err != nil {
		t.Fatal(err)
	}
	if got := types(tenant); len(got) != 1 {
		t.Errorf("tenant's messages %v after opting out of reservation %d's reminders, want no new one", got, r.ID)
	}
	want := []app.MessageType{app.MsgReservationCreated, app.MsgReservationReminder, app.MsgReservationReminder}
	if got := types(landlord); len(got) != len(want) || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("landlord's messages %v, want %v", got, want)
	}
}
