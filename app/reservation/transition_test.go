package reservation_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
)

type step struct {
	op    string // confirm, reject, cancel, remind
	actor int64
}

func apply(ctx context.Context, svc app.ReservationService, id int64, s step) (*app.Reservation, error) {
	switch s.op {
	case "confirm":
		return svc.ConfirmReservation(ctx, id, s.actor)
	case "reject":
		return svc.RejectReservation(ctx, id, s.actor, "时间不合适")
	case "cancel":
		return svc.CancelReservation(ctx, id, s.actor, "临时有事")
	case "remind":
		return svc.RemindReservation(ctx, id, s.actor)
	}
	panic("unknown op " + s.op)
}

// msgSummary is what a test compares of a published message.
type msgSummary struct {
	To      int64
	Type    app.MessageType
	Content string
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		name       string
		before     []step // applied first, must succeed
		do         step
		wantCode   string
		wantStatus app.Status
		wantMsgs   []msgSummary // messages after the creation notice
	}{
		{name: "landlord confirms", do: step{"confirm", landlord}, wantStatus: app.StatusConfirmed,
			wantMsgs: []msgSummary{{tenant, app.MsgReservationConfirmed, "房东已确认您对《精装修两室一厅》的看房预约，看房时间 T"}}},
		{name: "landlord rejects", do: step{"reject", landlord}, wantStatus: app.StatusRejected,
			wantMsgs: []msgSummary{{tenant, app.MsgReservationRejected, "房东拒绝了您对《精装修两室一厅》的看房预约，原因：时间不合适"}}},
		{name: "tenant cancels pending", do: step{"cancel", tenant}, wantStatus: app.StatusCancelled,
			wantMsgs: []msgSummary{{landlord, app.MsgReservationCancelled, "张三 取消了《精装修两室一厅》T 的看房预约，原因：临时有事"}}},
		{name: "landlord cancels confirmed", before: []step{{"confirm", landlord}}, do: step{"cancel", landlord}, wantStatus: app.StatusCancelled,
			wantMsgs: []msgSummary{
				{tenant, app.MsgReservationConfirmed, "房东已确认您对《精装修两室一厅》的看房预约，看房时间 T"},
				{tenant, app.MsgReservationCancelled, "房东取消了您对《精装修两室一厅》T 的看房预约，原因：临时有事"}}},
		{name: "tenant asks for a reminder", before: []step{{"confirm", landlord}}, do: step{"remind", tenant}, wantStatus: app.StatusConfirmed,
			wantMsgs: []msgSummary{
				{tenant, app.MsgReservationConfirmed, "房东已确认您对《精装修两室一厅》的看房预约，看房时间 T"},
				{tenant, app.MsgReservationReminder, "您预约的《精装修两室一厅》将于 T 看房，请准时到达"},
				{landlord, app.MsgReservationReminder, "张三 将于 T 看房《精装修两室一厅》，请做好准备"}}},

		{name: "tenant cannot confirm", do: step{"confirm", tenant}, wantCode: app.EPermissionDenied},
		{name: "tenant cannot reject", do: step{"reject", tenant}, wantCode: app.EPermissionDenied},
		{name: "stranger cannot cancel", do: step{"cancel", stranger}, wantCode: app.EPermissionDenied},
		{name: "stranger cannot remind", before: []step{{"confirm", landlord}}, do: step{"remind", stranger}, wantCode: app.EPermissionDenied},
		{name: "confirm twice", before: []step{{"confirm", landlord}}, do: step{"confirm", landlord}, wantCode: app.EFailedPrecondition},
		{name: "reject confirmed", before: []step{{"confirm", landlord}}, do: step{"reject", landlord}, wantCode: app.EFailedPrecondition},
		{name: "confirm rejected", before: []step{{"reject", landlord}}, do: step{"confirm", landlord}, wantCode: app.EFailedPrecondition},
		{name: "cancel rejected", before: []step{{"reject", landlord}}, do: step{"cancel", tenant}, wantCode: app.EFailedPrecondition},
		{name: "cancel cancelled", before: []step{{"cancel", tenant}}, do: step{"cancel", landlord}, wantCode: app.EFailedPrecondition},
		{name: "confirm cancelled", before: []step{{"cancel", tenant}}, do: step{"confirm", landlord}, wantCode: app.EFailedPrecondition},
		{name: "remind pending", do: step{"remind", tenant}, wantCode: app.EFailedPrecondition},
	}
	env := apptest.MustEnv(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			// Each case books its own slot, so cases share the database.
			r := MustBook(t, env, time.Duration(i+2)*time.Hour)
			when := r.JSON().ReserveTime
			lBefore, tBefore := len(env.Messages(t, landlord)), len(env.Messages(t, tenant))
			for _, s := range tt.before {
				if _, err := apply(ctx, env.Service, r.ID, s); err != nil {
					t.Fatalf("before %v: %v", s, err)
				}
			}
			got, err := apply(ctx, env.Service, r.ID, tt.do)
			if code := app.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.wantCode)
			}
			if err == nil && got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if tt.wantCode != "" {
				return
			}
			stored, err := env.Service.GetReservation(ctx, r.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.JSON(), stored.JSON()); diff != "" {
				t.Errorf("returned vs stored (-returned +stored):\n%s", diff)
			}
			var msgs []msgSummary
			for _, m := range env.Messages(t, tenant)[tBefore:] {
				msgs = append(msgs, msgSummary{tenant, m.Type, m.Content})
			}
			for _, m := range env.Messages(t, landlord)[lBefore:] {
				msgs = append(msgs, msgSummary{landlord, m.Type, m.Content})
			}
			for i := range tt.wantMsgs {
				tt.wantMsgs[i].Content = replaceT(tt.wantMsgs[i].Content, when)
			}
			if diff := cmp.Diff(tt.wantMsgs, msgs); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
	assertOutboxEmpty(t, env)
}

func replaceT(s, when string) string {
	out := []rune{}
	for _, r := range s {
		if r == 'T' {
			out = append(out, []rune(when)...)
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

func TestReadAuthorizationAndList(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	var ids []int64
	for i := 1; i <= 5; i++ {
		ids = append(ids, MustBook(t, env, time.Duration(i)*time.Hour).ID)
	}
	if _, err := env.Service.ConfirmReservation(ctx, ids[0], landlord); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.GetReservation(ctx, ids[0], stranger); app.ErrorCode(err) != app.EPermissionDenied {
		t.Errorf("stranger read: %v", err)
	}
	if _, err := env.Service.GetReservation(ctx, 999999, 0); app.ErrorCode(err) != app.ENotFound {
		t.Errorf("unknown read: %v", err)
	}
	list := func(f app.ReservationFilter) ([]int64, int) {
		t.Helper()
		res, err := env.Service.ListReservations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range res.Reservations {
			got = append(got, r.ID)
		}
		return got, res.Total
	}
	tests := []struct {
		name  string
		f     app.ReservationFilter
		want  []int64
		total int
	}{
		{"tenant, newest first", app.ReservationFilter{UserID: tenant}, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}, 5},
		{"landlord page 2", app.ReservationFilter{UserID: landlord, Role: app.RoleLandlord, Page: app.Page{Page: 2, PageSize: 2}}, []int64{ids[2], ids[1]}, 5},
		{"confirmed only", app.ReservationFilter{UserID: tenant, Status: app.StatusConfirmed}, []int64{ids[0]}, 1},
		{"stranger has none", app.ReservationFilter{UserID: stranger}, nil, 0},
	}
	for _, tt := range tests {
		got, total := list(tt.f)
		if diff := cmp.Diff(tt.want, got); diff != "" || total != tt.total {
			t.Errorf("%s: total %d (want %d), ids (-want +got):\n%s", tt.name, total, tt.total, diff)
		}
	}
	for _, f := range []app.ReservationFilter{
		{UserID: 0}, {UserID: tenant, Role: "admin"}, {UserID: tenant, Status: "done"},
		{UserID: tenant, Page: app.Page{Page: -1}}, {UserID: tenant, Page: app.Page{PageSize: 1000}},
	} {
		if _, err := env.Service.ListReservations(ctx, f); app.ErrorCode(err) != app.EInvalidArgument {
			t.Errorf("list %+v: %v, want invalid_argument", f, err)
		}
	}
}
