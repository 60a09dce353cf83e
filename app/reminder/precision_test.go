package reminder_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// arrivals records when type-4 messages reach the users' channels.
type arrivals struct {
	mu sync.Mutex
	at map[string][]time.Time // "user/reservation" -> arrival times
}

// listen subscribes to every user channel of the deployment until the test ends.
func listen(tb testing.TB, f *fixture) *arrivals {
	tb.Helper()
	a := &arrivals{at: map[string][]time.Time{}}
	ps := f.env.Redis.PSubscribe(context.Background(), "{"+f.env.Keys.Namespace()+":u:*}:ch")
	if _, err := ps.Receive(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ps.Close() })
	go func() {
		for m := range ps.Channel() {
			now := time.Now()
			var n app.Notification
			env, ok := redis.ParseEnvelope(0, m.Payload) // the published copy ends with a line of inbox counts
			if !ok || json.Unmarshal(env.Raw, &n) != nil || n.Type != app.MsgReservationReminder {
				continue
			}
			a.mu.Lock()
			key := fmt.Sprintf("%d/%d", n.UserID, n.ReservationID)
			a.at[key] = append(a.at[key], now)
			a.mu.Unlock()
		}
	}()
	return a
}

func (a *arrivals) get(user, reservation int64) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.at[fmt.Sprintf("%d/%d", user, reservation)])
}

// TestReminderFiresWithinOneSecond: with the worker's default polling, both
// parties receive a reminder with a lead of 2 s within 1 s of its time.
func TestReminderFiresWithinOneSecond(t *testing.T) {
	f := newFixture(t, []time.Duration{2 * time.Second}, false)
	got := listen(t, f)
	startWorker(t, f)
	at := time.Now().Add(5 * time.Second).Truncate(time.Second)
	r := f.confirmed(t, at)
	due := at.Add(-2 * time.Second)
	for _, user := range []int64{tenant, landlord} {
		eventually(t, "reminder", func() bool { return len(got.get(user, r.ID)) > 0 })
		arrived := got.get(user, r.ID)
		if len(arrived) != 1 {
			t.Fatalf("user %d got %d reminders", user, len(arrived))
		}
		if late := arrived[0].Sub(due); late < 0 || late >= time.Second {
			t.Errorf("user %d reminded %v after its time, want within [0, 1s)", user, late)
		} else {
			t.Logf("user %d reminded %v after its time", user, late.Round(time.Millisecond))
		}
	}
}

// BenchmarkReminderLateness schedules 300 reminders due over 3 s and
// reports how late they reach the recipients' channels (run with
// -benchtime 1x).
func BenchmarkReminderLateness(b *testing.B) {
	const n = 300
	for range b.N {
		f := newFixture(b, []time.Duration{time.Second}, false)
		got := listen(b, f)
		startWorker(b, f)
		base := time.Now().Add(4 * time.Second).Truncate(time.Second)
		type due struct {
			user, id int64
			at       time.Time
		}
		var dues []due
		for i := range n {
			user := int64(10000 + i)
			at := base.Add(time.Duration(i%3) * time.Second)
			r, err := f.svc.CreateReservation(context.Background(), app.CreateReservation{HouseID: 3001, TenantID: user,
				TenantName: "租客", ReserveTime: at.In(f.env.Loc).Format(app.TimeLayout)})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.svc.ConfirmReservation(context.Background(), r.ID, landlord); err != nil {
				b.Fatal(err)
			}
			dues = append(dues, due{user, r.ID, at.Add(-time.Second)})
		}
		var lateness []time.Duration
		for _, d := range dues {
			eventually(b, "reminder", func() bool { return len(got.get(d.user, d.id)) > 0 })
			lateness = append(lateness, got.get(d.user, d.id)[0].Sub(d.at))
		}
		slices.Sort(lateness)
		b.ReportMetric(float64(lateness[len(lateness)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lateness[len(lateness)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(lateness[len(lateness)-1].Milliseconds()), "max-ms")
		b.ReportMetric(float64(lateness[0].Milliseconds()), "min-ms")
	}
}
