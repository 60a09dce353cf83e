package reservation_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
)

// race runs every step at once on reservation id and returns the results.
func race(env *apptest.Env, id int64, steps []step) []error {
	errs := make([]error, len(steps))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = apply(context.Background(), env.Service, id, s)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func TestConcurrentConfirmAndRejectExactlyOneWins(t *testing.T) {
	env := apptest.MustEnv(t)
	var steps []step
	for i := 0; i < 8; i++ {
		steps = append(steps, step{"confirm", landlord}, step{"reject", landlord})
	}
	for round := 0; round < 10; round++ {
		r := MustBook(t, env, time.Duration(round+1)*time.Hour)
		before := len(env.Messages(t, tenant))
		errs := race(env, r.ID, steps)
		var wins []step
		for i, err := range errs {
			switch app.ErrorCode(err) {
			case "":
				wins = append(wins, steps[i])
			case app.EAborted, app.EFailedPrecondition:
			default:
				t.Fatalf("round %d: %v: unexpected error %v", round, steps[i], err)
			}
		}
		if len(wins) != 1 {
			t.Fatalf("round %d: %d winners %v, want exactly 1", round, len(wins), wins)
		}
		got, err := env.Service.GetReservation(context.Background(), r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus, wantType := app.StatusConfirmed, app.MsgReservationConfirmed
		if wins[0].op == "reject" {
			wantStatus, wantType = app.StatusRejected, app.MsgReservationRejected
		}
		if got.Status != wantStatus || got.Version != 2 {
			t.Errorf("round %d: stored %s v%d, want %s v2", round, got.Status, got.Version, wantStatus)
		}
		msgs := env.Messages(t, tenant)[before:]
		if len(msgs) != 1 || msgs[0].Type != wantType {
			t.Errorf("round %d: tenant got %+v, want one type %d", round, msgs, wantType)
		}
	}
	assertOutboxEmpty(t, env)
}

func TestConcurrentConfirmAndCancelStayLegal(t *testing.T) {
	env := apptest.MustEnv(t)
	var steps []step
	for i := 0; i < 5; i++ {
		steps = append(steps, step{"confirm", landlord}, step{"cancel", tenant}, step{"confirm", landlord}, step{"cancel", landlord})
	}
	for round := 0; round < 10; round++ {
		r := MustBook(t, env, time.Duration(round+1)*time.Hour)
		tBefore, lBefore := len(env.Messages(t, tenant)), len(env.Messages(t, landlord))
		errs := race(env, r.ID, steps)
		confirms, cancels := 0, 0
		for i, err := range errs {
			switch app.ErrorCode(err) {
			case "":
				if steps[i].op == "confirm" {
					confirms++
				} else {
					cancels++
				}
			case app.EAborted, app.EFailedPrecondition:
			default:
				t.Fatalf("round %d: %v: unexpected error %v", round, steps[i], err)
			}
		}
		if confirms > 1 || cancels > 1 || confirms+cancels == 0 {
			t.Fatalf("round %d: %d confirms and %d cancels applied", round, confirms, cancels)
		}
		got, err := env.Service.GetReservation(context.Background(), r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := app.StatusConfirmed
		if cancels == 1 {
			want = app.StatusCancelled
		}
		if got.Status != want || got.Version != int64(1+confirms+cancels) {
			t.Errorf("round %d: stored %s v%d after %d confirms, %d cancels", round, got.Status, got.Version, confirms, cancels)
		}
		// One notification per applied transition, no more.
		published := len(env.Messages(t, tenant)) - tBefore + len(env.Messages(t, landlord)) - lBefore
		if published != confirms+cancels {
			t.Errorf("round %d: %d notifications for %d transitions", round, published, confirms+cancels)
		}
	}
}
