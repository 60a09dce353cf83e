package reservation_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/reservation"
)

// TestPastViewingRefusesTransitions: once a viewing's time has come, no
// transition and no manual reminder is allowed, except a cancel by the
// landlord within the grace; nothing is published for a refused one.
func TestPastViewingRefusesTransitions(t *testing.T) {
	const grace = time.Hour
	tests := []struct {
		name     string
		confirm  bool          // confirm before the time passes
		after    time.Duration // how long after the viewing's time the step runs
		do       step
		wantCode string
	}{
		{name: "confirm a pending one just after its time", after: time.Second, do: step{"confirm", landlord}, wantCode: app.EFailedPrecondition},
		{name: "confirm a pending one at its time", do: step{"confirm", landlord}, wantCode: app.EFailedPrecondition},
		{name: "reject a pending one", after: time.Minute, do: step{"reject", landlord}, wantCode: app.EFailedPrecondition},
		{name: "tenant cancels a pending one", after: time.Minute, do: step{"cancel", tenant}, wantCode: app.EFailedPrecondition},
		{name: "tenant cancels a confirmed one", confirm: true, after: time.Minute, do: step{"cancel", tenant}, wantCode: app.EFailedPrecondition},
		{name: "remind a confirmed one", confirm: true, after: time.Second, do: step{"remind", tenant}, wantCode: app.EFailedPrecondition},
		{name: "landlord cancels a confirmed one within the grace", confirm: true, after: 59 * time.Minute, do: step{"cancel", landlord}},
		{name: "landlord cancels a pending one within the grace", after: time.Minute, do: step{"cancel", landlord}},
		{name: "landlord cancels after the grace", confirm: true, after: grace, do: step{"cancel", landlord}, wantCode: app.EFailedPrecondition},
	}
	env := apptest.MustEnv(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := MustBook(t, env, time.Duration(i+2)*time.Hour)
			if tt.confirm {
				if _, err := env.Service.ConfirmReservation(ctx, r.ID, landlord); err != nil {
					t.Fatal(err)
				}
			}
			// A service whose clock is past the viewing's time, on the same store.
			at := r.ReserveTime
			late := reservation.New(env.Store, env.Publisher, reservation.Options{CancelGrace: grace,
				Now: func() time.Time { return at.Add(tt.after) }})
			before := len(env.Messages(t, tenant)) + len(env.Messages(t, landlord))
			_, err := apply(ctx, late, r.ID, tt.do)
			if diff := cmp.Diff(tt.wantCode, app.ErrorCode(err)); diff != "" {
				t.Fatalf("code (-want +got):\n%s\n%v", diff, err)
			}
			got, gerr := env.Service.GetReservation(ctx, r.ID, 0)
			if gerr != nil {
				t.Fatal(gerr)
			}
			published := len(env.Messages(t, tenant)) + len(env.Messages(t, landlord)) - before
			want, wantPublished := app.StatusPending, 0
			switch {
			case err == nil:
				want, wantPublished = app.StatusCancelled, 1
			case tt.confirm:
				want = app.StatusConfirmed
			}
			if got.Status != want || published != wantPublished {
				t.Errorf("afterwards: status %s and %d messages, want %s and %d", got.Status, published, want, wantPublished)
			}
		})
	}
}

// TestPastViewingMessages: the refusals say when the viewing was and, for
// the landlord, how long the grace is.
func TestPastViewingMessages(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	r := MustBook(t, env, 3*time.Hour)
	when := r.ReserveTime.In(env.Loc).Format(app.TimeLayout)
	late := reservation.New(env.Store, env.Publisher, reservation.Options{CancelGrace: 30 * time.Minute,
		Now: func() time.Time { return r.ReserveTime.Add(time.Hour) }})
	_, err := late.ConfirmReservation(ctx, r.ID, landlord)
	if diff := cmp.Diff("the viewing of reservation "+itoa(r.ID)+" was at "+when+" and can no longer become confirmed", app.ErrorMessage(err)); diff != "" {
		t.Errorf("confirm (-want +got):\n%s", diff)
	}
	_, err = late.CancelReservation(ctx, r.ID, landlord, "")
	if diff := cmp.Diff("the viewing of reservation "+itoa(r.ID)+" was at "+when+"; the landlord may cancel it for 30m0s after that", app.ErrorMessage(err)); diff != "" {
		t.Errorf("landlord cancel (-want +got):\n%s", diff)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
