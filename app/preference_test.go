package app_test

import (
	"testing"
	"time"

	"github.com/houseview/gateway/app"
)

func TestPreferencesCheck(t *testing.T) {
	bad := map[string]app.Preferences{
		"unknown type":      {Types: map[string]app.ChannelPreference{"likes": {}}},
		"bad zone":          {TimeZone: "Mars/Olympus"},
		"Local zone":        {TimeZone: "Local"},
		"path zone":         {TimeZone: "../etc/passwd"},
		"bad clock":         {QuietStart: "24:00", QuietEnd: "07:00"},
		"bad clock format":  {QuietStart: "7:00", QuietEnd: "22:00"},
		"clock with sign":   {QuietStart: "+1:00", QuietEnd: "22:00"},
		"start alone":       {QuietStart: "22:00"},
		"empty period":      {QuietStart: "22:00", QuietEnd: "22:00"},
		"bad reservation":   {RemindersMutedFor: []int64{3, -1}},
		"zero reservation":  {RemindersMutedFor: []int64{0}},
		"too many opt-outs": {RemindersMutedFor: make([]int64, app.MaxRemindersMutedFor+1)},
	}
	for name, p := range bad {
		if err := p.Check(); app.ErrorCode(err) != app.EInvalidArgument {
			t.Errorf("%s: Check = %v, want invalid_argument", name, err)
		}
	}
	p := app.Preferences{Types: map[string]app.ChannelPreference{"reminder": {}}, QuietStart: "00:00", QuietEnd: "23:59"}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if len(p.Types) != 6 || !p.Types["created"].InApp || p.TimeZone != "UTC" {
		t.Errorf("checked = %+v, want the other types on and zone UTC", p)
	}
	// Muting the reminder type leaves the reminders of a viewing on; only
	// an opt-out for the reservation mutes them.
	if !p.InApp(app.MsgReservationReminder, 42) || !p.Push(app.MsgReservationReminder, 42) {
		t.Error("a reminder of reservation 42 muted by the reminder type; want delivered")
	}
	if p.InApp(app.MsgReservationReminder, 0) {
		t.Error("a reminder of no reservation delivered with the reminder type muted")
	}
	p.RemindersMutedFor = []int64{42}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if p.InApp(app.MsgReservationReminder, 42) || p.Push(app.MsgReservationReminder, 42) || !p.InApp(app.MsgReservationReminder, 43) {
		t.Error("opt-out for 42: want 42's reminders muted, 43's delivered")
	}
}

func TestQuietUntil(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		zone, start, end string
		now              time.Time
		want             time.Time // zero: not quiet
	}{
		// 06:59 in Tokyo is 21:59 UTC the day before: quiet in Tokyo.
		{"Asia/Tokyo", "22:00", "07:00", time.Date(2030, 1, 1, 21, 59, 57, 0, time.UTC), time.Date(2030, 1, 2, 7, 0, 0, 0, tokyo)},
		{"Asia/Tokyo", "22:00", "07:00", time.Date(2030, 1, 1, 22, 0, 0, 0, time.UTC), time.Time{}},
		// 23:30 local: the period ends tomorrow.
		{"Asia/Tokyo", "22:00", "07:00", time.Date(2030, 1, 1, 14, 30, 0, 0, time.UTC), time.Date(2030, 1, 2, 7, 0, 0, 0, tokyo)},
		{"UTC", "01:00", "06:00", time.Date(2030, 1, 1, 3, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 6, 0, 0, 0, time.UTC)},
		{"UTC", "01:00", "06:00", time.Date(2030, 1, 1, 6, 0, 0, 0, time.UTC), time.Time{}},
		{"UTC", "", "", time.Date(2030, 1, 1, 3, 0, 0, 0, time.UTC), time.Time{}},
		// Across the spring DST change in Paris (31 March 2030, 02:00 -> 03:00).
		{"Europe/Paris", "23:00", "08:00", time.Date(2030, 3, 30, 23, 0, 0, 0, time.UTC), time.Date(2030, 3, 31, 8, 0, 0, 0, paris)},
	} {
		p := app.Preferences{TimeZone: c.zone, QuietStart: c.start, QuietEnd: c.end}
		if err := p.Check(); err != nil {
			t.Fatal(err)
		}
		got, quiet := p.QuietUntil(c.now)
		if quiet != !c.want.IsZero() || !got.Equal(c.want) {
			t.Errorf("%s %s-%s at %v: QuietUntil = %v, %v; want %v", c.zone, c.start, c.end, c.now, got, quiet, c.want)
		}
	}
	if end := time.Date(2030, 3, 31, 8, 0, 0, 0, paris); end.Sub(time.Date(2030, 3, 30, 23, 0, 0, 0, time.UTC)) != 7*time.Hour {
		t.Errorf("Paris DST: the quiet end is %v after, want 7h", end.Sub(time.Date(2030, 3, 30, 23, 0, 0, 0, time.UTC)))
	}
}
