package mysql_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestStoreIsUnavailableWhileTheDatabaseIsDown: with the server killed,
// every kind of call answers unavailable (not internal), and the same
// store works again once the server is back.
func TestStoreIsUnavailableWhileTheDatabaseIsDown(t *testing.T) {
	srv := testenv.MustMariaDB(t)
	db := apptest.MustMySQL(t, testenv.DSNOn(srv.ServerDSN(), "gw"))
	ctx := context.Background()
	if _, err := mysql.SeedDemoHouses(ctx, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	store := mysql.NewStore(db)
	r := &app.Reservation{HouseID: 3001, HouseTitle: "t", LandlordID: 2001, TenantID: 1001, TenantName: "n",
		ReserveTime: time.Now().Add(time.Hour).Truncate(time.Second), Status: app.StatusPending, Version: 1,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := store.CreateReservation(ctx, r, func(*app.Reservation) ([]app.Message, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"read": func() error { _, err := store.Reservation(ctx, r.ID); return err },
		"list": func() error {
			_, _, err := store.ListReservations(ctx, app.ReservationFilter{UserID: 1001, Page: app.Page{Page: 1, PageSize: 10}})
			return err
		},
		"outbox": func() error { _, err := store.PendingMessagesFor(ctx, []int64{1001}, 10); return err },
		"update": func() error {
			next := *r
			next.Status, next.Version = app.StatusConfirmed, 2
			return store.UpdateReservation(ctx, &next, 1, []app.Message{{ID: "m1", UserID: 1001, Payload: []byte("{}")}})
		},
		"create": func() error {
			again := *r
			again.ReserveTime = again.ReserveTime.Add(time.Hour)
			_, err := store.CreateReservation(ctx, &again, func(*app.Reservation) ([]app.Message, error) { return nil, nil })
			return err
		},
	}
	srv.Kill()
	got := map[string]string{}
	for name, call := range calls {
		got[name] = app.ErrorCode(call()) + ": " + app.ErrorMessage(call())
	}
	want := map[string]string{}
	for name := range calls {
		want[name] = "unavailable: the database is unavailable; try again"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("while down (-want +got):\n%s", diff)
	}

	srv.Start()
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s after the restart: %v", name, err)
		}
	}
}
