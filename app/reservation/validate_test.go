package reservation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/reservation"
)

// fixedNow is the clock of the validation tests: 2026-12-01 10:00 in
// Shanghai.
var fixedNow = time.Date(2026, 12, 1, 10, 0, 0, 0, reservation.DefaultLocation())

// TestValidateCreateNamesTheField: each refused booking says which field is
// wrong and why, without the database.
func TestValidateCreateNamesTheField(t *testing.T) {
	svc := reservation.New(nil, nil, reservation.Options{Now: func() time.Time { return fixedNow }})
	ok := app.CreateReservation{HouseID: 3001, TenantID: 1001, TenantName: "张三", HouseTitle: "精装修两室一厅",
		ReserveTime: "2026-12-02 14:00:00"}
	with := func(f func(*app.CreateReservation)) app.CreateReservation { r := ok; f(&r); return r }
	tests := []struct {
		name string
		req  app.CreateReservation
		want string // the message, "" when valid
	}{
		{"valid", ok, ""},
		{"name with emoji", with(func(r *app.CreateReservation) { r.TenantName = "张三 👩\u200d💻" }), ""},
		{"no title", with(func(r *app.CreateReservation) { r.HouseTitle = "" }), ""},
		{"rfc 3339", with(func(r *app.CreateReservation) { r.ReserveTime = "2026-12-02T06:00:00Z" }), ""},
		{"no house", with(func(r *app.CreateReservation) { r.HouseID = 0 }), "house_id is required and must be a positive integer"},
		{"negative landlord", with(func(r *app.CreateReservation) { r.LandlordID = -1 }), "landlord_id must be a positive integer"},
		{"blank name", with(func(r *app.CreateReservation) { r.TenantName = " \t " }), "user_name is required"},
		{"tab in name", with(func(r *app.CreateReservation) { r.TenantName = "张\t三" }), "user_name must not contain line breaks or tabs (U+0009 at character 2)"},
		{"empty name", with(func(r *app.CreateReservation) { r.TenantName = "  " }), "user_name is required"},
		{"long name", with(func(r *app.CreateReservation) { r.TenantName = strings.Repeat("张", 65) }), "user_name must be at most 64 characters"},
		{"invalid utf-8 name", with(func(r *app.CreateReservation) { r.TenantName = "张\xff" }), "user_name is not valid UTF-8 (byte 3)"},
		{"nul in name", with(func(r *app.CreateReservation) { r.TenantName = "a\x00b" }), "user_name must not contain control characters (U+0000 at character 2)"},
		{"newline in name", with(func(r *app.CreateReservation) { r.TenantName = "张三\n房东：请转账" }), "user_name must not contain line breaks or tabs (U+000A at character 3)"},
		{"bidi override in name", with(func(r *app.CreateReservation) { r.TenantName = "\u202e三张" }), "user_name must not contain bidi control characters (U+202E at character 1)"},
		{"zero-width in name", with(func(r *app.CreateReservation) { r.TenantName = "张\u200b三" }), "user_name must not contain zero-width characters (U+200B at character 2)"},
		{"bidi isolate in title", with(func(r *app.CreateReservation) { r.HouseTitle = "精装修\u2066两室" }), "house_title must not contain bidi control characters (U+2066 at character 4)"},
		{"invalid utf-8 title", with(func(r *app.CreateReservation) { r.HouseTitle = "\xe7\xb2" }), "house_title is not valid UTF-8 (byte 0)"},
		{"no time", with(func(r *app.CreateReservation) { r.ReserveTime = " " }), "reserve_time is required"},
		{"bad time", with(func(r *app.CreateReservation) { r.ReserveTime = "2026/12/02 14:00" }), `reserve_time "2026/12/02 14:00" must be "YYYY-MM-DD HH:MM:SS" (Asia/Shanghai) or RFC 3339`},
		{"past time", with(func(r *app.CreateReservation) { r.ReserveTime = "2026-12-01 10:00:00" }), "reserve_time 2026-12-01 10:00:00 is not in the future"},
		{"beyond 90 days", with(func(r *app.CreateReservation) { r.ReserveTime = "2027-03-02 10:00:01" }), "reserve_time must be within 90 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := svc.ValidateCreate(tt.req)
			if err != nil && app.ErrorCode(err) != app.EInvalidArgument {
				t.Errorf("code %q, want %q", app.ErrorCode(err), app.EInvalidArgument)
			}
			if diff := cmp.Diff(tt.want, app.ErrorMessage(err)); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckReason(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"  临时有事 ", "临时有事", ""},
		{"第一行\n第二行", "第一行\n第二行", ""},
		{"", "", ""},
		{strings.Repeat("长", 256), "", "reason must be at most 255 characters"},
		{"a\x1b[2Jb", "", "reason must not contain control characters (U+001B at character 2)"},
		{"ok\u202dko", "", "reason must not contain bidi control characters (U+202D at character 3)"},
		{"\xc0\x80", "", "reason is not valid UTF-8 (byte 0)"},
	}
	for _, tt := range tests {
		got, err := reservation.CheckReason(tt.in)
		if diff := cmp.Diff(tt.wantErr, app.ErrorMessage(err)); diff != "" {
			t.Errorf("CheckReason(%q) error (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("CheckReason(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
