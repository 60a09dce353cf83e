package reservation_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
)

const (
	house    = 3001
	landlord = 2001
	tenant   = 1001
	stranger = 1999
)

// MustBook creates a pending reservation of house 3001 for tenant 1001.
func MustBook(tb testing.TB, env *apptest.Env, ahead time.Duration) *app.Reservation {
	tb.Helper()
	r, err := env.Service.CreateReservation(context.Background(), app.CreateReservation{
		HouseID: house, TenantID: tenant, TenantName: "张三", LandlordID: landlord,
		HouseTitle: "精装修两室一厅", ReserveTime: env.ReserveTime(ahead),
	})
	if err != nil {
		tb.Fatalf("book: %v", err)
	}
	return r
}

func TestCreateReservationNotifiesLandlord(t *testing.T) {
	env := apptest.MustEnv(t)
	at := env.ReserveTime(48 * time.Hour)
	r := MustBook(t, env, 48*time.Hour)

	got := r.JSON()
	want := app.ReservationJSON{
		ReservationID: r.ID, HouseID: house, HouseTitle: "精装修两室一厅", LandlordID: landlord,
		UserID: tenant, UserName: "张三", ReserveTime: at, Status: app.StatusPending,
		CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reservation (-want +got):\n%s", diff)
	}
	stored, err := env.Service.GetReservation(context.Background(), r.ID, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored.JSON()); diff != "" {
		t.Errorf("stored reservation (-want +got):\n%s", diff)
	}

	msgs := env.Messages(t, landlord)
	if len(msgs) != 1 {
		t.Fatalf("landlord got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Type != app.MsgReservationCreated || m.Seq != 1 || m.ID == "" || m.ReservationID != r.ID ||
		m.Title != "新的看房预约" || m.Content != "张三 预约了您的房源《精装修两室一厅》" {
		t.Errorf("message = %+v", m)
	}
	detail := m.Detail.(map[string]any)
	if detail["reserve_time"] != at || detail["status"] != "pending" || detail["house_id"] != float64(house) {
		t.Errorf("detail = %v", detail)
	}
	if n := len(env.Messages(t, tenant)); n != 0 {
		t.Errorf("tenant got %d messages, want 0", n)
	}
	assertOutboxEmpty(t, env)
}

func TestCreateReservationValidation(t *testing.T) {
	env := apptest.MustEnv(t)
	ok := app.CreateReservation{HouseID: house, TenantID: tenant, TenantName: "张三", ReserveTime: env.ReserveTime(time.Hour)}
	with := func(f func(*app.CreateReservation)) app.CreateReservation { r := ok; f(&r); return r }
	tests := []struct {
		name string
		req  app.CreateReservation
		code string
	}{
		{"no house", with(func(r *app.CreateReservation) { r.HouseID = 0 }), app.EInvalidArgument},
		{"unknown house", with(func(r *app.CreateReservation) { r.HouseID = 99999 }), app.ENotFound},
		{"no tenant", with(func(r *app.CreateReservation) { r.TenantID = 0 }), app.EInvalidArgument},
		{"wrong landlord", with(func(r *app.CreateReservation) { r.LandlordID = 2002 }), app.EInvalidArgument},
		{"wrong title", with(func(r *app.CreateReservation) { r.HouseTitle = "别的房子" }), app.EInvalidArgument},
		{"empty name", with(func(r *app.CreateReservation) { r.TenantName = "  " }), app.EInvalidArgument},
		{"long name", with(func(r *app.CreateReservation) { r.TenantName = string(make([]rune, 65)) }), app.EInvalidArgument},
		{"control in name", with(func(r *app.CreateReservation) { r.TenantName = "a\x00b" }), app.EInvalidArgument},
		{"no time", with(func(r *app.CreateReservation) { r.ReserveTime = "" }), app.EInvalidArgument},
		{"bad time", with(func(r *app.CreateReservation) { r.ReserveTime = "2025/01/22 14:00" }), app.EInvalidArgument},
		{"past time", with(func(r *app.CreateReservation) { r.ReserveTime = env.ReserveTime(-time.Minute) }), app.EInvalidArgument},
		{"beyond 90 days", with(func(r *app.CreateReservation) { r.ReserveTime = env.ReserveTime(91 * 24 * time.Hour) }), app.EInvalidArgument},
		{"landlord books own house", with(func(r *app.CreateReservation) { r.TenantID = landlord }), app.EInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.CreateReservation(context.Background(), tt.req)
			if got := app.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q (%v), want %q", got, err, tt.code)
			}
		})
	}
	if n := len(env.Messages(t, landlord)); n != 0 {
		t.Errorf("refused requests published %d messages", n)
	}

	// RFC 3339 is accepted too and lands on the same wall-clock time.
	at := time.Now().Add(3 * time.Hour).Truncate(time.Second)
	r, err := env.Service.CreateReservation(context.Background(), with(func(r *app.CreateReservation) { r.ReserveTime = at.Format(time.RFC3339) }))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.JSON().ReserveTime, at.In(env.Loc).Format(app.TimeLayout); got != want {
		t.Errorf("reserve_time = %s, want %s", got, want)
	}
}

func TestDuplicateActiveReservationConflicts(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	at := env.ReserveTime(5 * time.Hour)
	req := app.CreateReservation{HouseID: house, TenantID: tenant, TenantName: "张三", ReserveTime: at}
	first, err := env.Service.CreateReservation(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.CreateReservation(ctx, req); app.ErrorCode(err) != app.EAlreadyExists {
		t.Fatalf("second booking: %v, want already_exists", err)
	}
	if _, err := env.Service.CancelReservation(ctx, first.ID, tenant, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.CreateReservation(ctx, req); err != nil {
		t.Fatalf("booking again after cancel: %v", err)
	}
}

func assertOutboxEmpty(tb testing.TB, env *apptest.Env) {
	tb.Helper()
	var n int64
	if err := env.DB.Table("notification_outbox").Count(&n).Error; err != nil {
		tb.Fatal(err)
	}
	if n != 0 {
		tb.Errorf("outbox holds %d messages after successful publishes", n)
	}
}
