package mysql_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/testenv"
)

func TestPreferencesStore(t *testing.T) {
	ctx := context.Background()
	s := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	opts := cmpopts.IgnoreUnexported(app.Preferences{})

	// Nothing stored: the defaults.
	got, err := s.Preferences(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app.DefaultPreferences(7), got, opts); diff != "" {
		t.Errorf("preferences of a user without any (-want +got):\n%s", diff)
	}
	if len(got.Types) != 6 || !got.Types["reminder"].InApp || !got.Types["push"].Push {
		t.Errorf("default types = %v, want all six on", got.Types)
	}

	want := app.Preferences{UserID: 7, TimeZone: "Asia/Tokyo", QuietStart: "22:30", QuietEnd: "07:05",
		Types:             map[string]app.ChannelPreference{"confirmed": {InApp: false, Push: true}, "push": {InApp: true, Push: false}},
		RemindersMutedFor: []int64{42, 9, 42}}
	if err := want.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreferences(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err = s.Preferences(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("stored preferences (-want +got):\n%s", diff)
	}
	if got.RemindersMutedFor[0] != 9 || len(got.RemindersMutedFor) != 2 || got.Location().String() != "Asia/Tokyo" {
		t.Errorf("stored preferences = %+v, want opt-outs [9 42] and zone Asia/Tokyo loaded", got)
	}
	// Another user is untouched.
	if other, err := s.Preferences(ctx, 8); err != nil || other.TimeZone != "UTC" || len(other.RemindersMutedFor) != 0 {
		t.Errorf("user 8 = %+v, %v; want the defaults", other, err)
	}

	// Several users at once: only those with preferences stored.
	many, err := s.PreferencesOf(ctx, []int64{7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int64]app.Preferences{7: want}, many, opts); diff != "" {
		t.Errorf("PreferencesOf (-want +got):\n%s", diff)
	}

	// A full replacement: back to everything on, no quiet hours.
	back := app.Preferences{UserID: 7, TimeZone: "Europe/Paris"}
	if err := back.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreferences(ctx, back); err != nil {
		t.Fatal(err)
	}
	got, err = s.Preferences(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(back, got, opts); diff != "" {
		t.Errorf("replaced preferences (-want +got):\n%s", diff)
	}
}
