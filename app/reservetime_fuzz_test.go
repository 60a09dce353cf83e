package app_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// FuzzParseReserveTime: whatever ParseReserveTime accepts lies in
// (now, now+90 days], in whole seconds, and reads back to the same instant
// from its own wall-clock form and from RFC 3339; whatever it refuses is
// an invalid_argument naming reserve_time, in valid UTF-8.
// Seeds: testdata/fuzz/FuzzParseReserveTime and the cases below.
func FuzzParseReserveTime(f *testing.F) {
	for _, s := range []string{"2026-12-02 14:00:00", "2026-12-02T06:00:00Z", "2026-12-02T14:00:00+08:00",
		" 2026-12-01 10:00:01 ", "2027-03-01 10:00:00", "2026-12-01 09:59:59", "2026/12/02 14:00", "\xff", "",
		"2026-12-02T06:00:00.999999999Z", "2026-02-30 10:00:00", "2026-12-02 24:00:00"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, loc)
	const ahead = 90 * 24 * time.Hour
	f.Fuzz(func(t *testing.T, v string) {
		at, err := app.ParseReserveTime(v, loc, now, ahead)
		if err != nil {
			msg := app.ErrorMessage(err)
			if app.ErrorCode(err) != app.EInvalidArgument || len(msg) < 12 || msg[:12] != "reserve_time" || !utf8.ValidString(msg) {
				t.Fatalf("ParseReserveTime(%q) = %v", v, err)
			}
			return
		}
		if !at.After(now) || at.After(now.Add(ahead)) || at.Nanosecond() != 0 {
			t.Fatalf("ParseReserveTime(%q) = %v, outside (now, now+90d] or not whole seconds", v, at)
		}
		for _, form := range []string{at.In(loc).Format(app.TimeLayout), at.Format(time.RFC3339)} {
			again, err := app.ParseReserveTime(form, loc, now, ahead)
			if err != nil || !again.Equal(at) {
				t.Fatalf("ParseReserveTime(%q) = %v, but its form %q reads %v, %v", v, at, form, again, err)
			}
		}
	})
}
