package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
)

// ignoreClock leaves out the fields set by the server's clock.
var ignoreClock = cmpopts.IgnoreFields(app.ReservationJSON{}, "ReservationID", "CreatedAt", "UpdatedAt")

// The README's curl flow: book house 3001, then the landlord
// confirms.
func TestReadmeFlow(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{})
	at := env.ReserveTime(48 * time.Hour)

	// curl -X POST /house/reserve -d '{"landlord_id":2001,"user_id":1001,
	// "user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":"..."}'
	var created reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: "/house/reserve", Body: `{"landlord_id": 2001, "user_id": 1001, "user_name": "张三",
		"house_id": 3001, "house_title": "精装修两室一厅", "reserve_time": "` + at + `"}`}, http.StatusCreated, &created)
	want := app.ReservationJSON{
		HouseID: house, HouseTitle: title, LandlordID: landlord, UserID: tenant, UserName: "张三",
		ReserveTime: at, Status: app.StatusPending,
	}
	if diff := cmp.Diff(want, created.Reservation, ignoreClock); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	r := created.Reservation
	if r.ReservationID <= 0 || r.CreatedAt <= 0 || r.UpdatedAt < r.CreatedAt {
		t.Errorf("created: id %d, created_at %d, updated_at %d", r.ReservationID, r.CreatedAt, r.UpdatedAt)
	}

	// Exactly one type-1 message to the landlord, about this reservation.
	msgs := env.Messages(t, landlord)
	if len(msgs) != 1 || msgs[0].Type != app.MsgReservationCreated || msgs[0].ReservationID != r.ReservationID {
		t.Errorf("landlord messages = %+v, want one type 1 for reservation %d", msgs, r.ReservationID)
	}

	// curl -X POST /api/reservations/{id}/confirm -d '{"landlord_id":2001}'
	var confirmed reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: fmt.Sprintf("/api/reservations/%d/confirm", r.ReservationID),
		Body: `{"landlord_id":2001}`}, http.StatusOK, &confirmed)
	want.Status = app.StatusConfirmed
	if diff := cmp.Diff(want, confirmed.Reservation, ignoreClock); diff != "" {
		t.Errorf("confirmed (-want +got):\n%s", diff)
	}
	if confirmed.Reservation.ReservationID != r.ReservationID {
		t.Errorf("confirmed id %d, want %d", confirmed.Reservation.ReservationID, r.ReservationID)
	}
	if msgs := env.Messages(t, tenant); len(msgs) != 1 || msgs[0].Type != app.MsgReservationConfirmed {
		t.Errorf("tenant messages = %+v, want one type 2", msgs)
	}
}

func TestTransitions(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{})
	path := func(id int64, verb string) string { return fmt.Sprintf("/api/reservations/%d/%s", id, verb) }

	rejected := mustReserve(t, env, srv, tenant, 24*time.Hour)
	byTenant := mustReserve(t, env, srv, tenant, 25*time.Hour)
	byLandlord := mustReserve(t, env, srv, tenant, 26*time.Hour)
	reminded := mustReserve(t, env, srv, tenant, 27*time.Hour)
	mustJSON(t, srv, call{Method: "POST", Path: path(reminded.ReservationID, "confirm"), Body: map[string]any{"landlord_id": landlord}}, http.StatusOK, nil)

	tests := []struct {
		name string
		c    call
		want app.ReservationJSON // status, reason, cancelled_by
	}{
		{"reject with reason", call{Method: "POST", Path: path(rejected.ReservationID, "reject"),
			Body: map[string]any{"landlord_id": landlord, "reason": "已出租"}},
			app.ReservationJSON{Status: app.StatusRejected, Reason: "已出租"}},
		{"cancel by tenant", call{Method: "POST", Path: path(byTenant.ReservationID, "cancel"),
			Body: map[string]any{"user_id": tenant, "reason": "行程有变"}},
			app.ReservationJSON{Status: app.StatusCancelled, Reason: "行程有变", CancelledBy: tenant}},
		{"cancel by landlord", call{Method: "POST", Path: path(byLandlord.ReservationID, "cancel"),
			Body: map[string]any{"landlord_id": landlord, "reason": "临时有事"}},
			app.ReservationJSON{Status: app.StatusCancelled, Reason: "临时有事", CancelledBy: landlord}},
		{"remind", call{Method: "POST", Path: path(reminded.ReservationID, "remind"), Body: map[string]any{"user_id": tenant}},
			app.ReservationJSON{Status: app.StatusConfirmed}},
		{"get by tenant", call{Method: "GET", Path: fmt.Sprintf("/api/reservations/%d?user_id=%d", rejected.ReservationID, tenant)},
			app.ReservationJSON{Status: app.StatusRejected, Reason: "已出租"}},
		{"get by landlord", call{Method: "GET", Path: fmt.Sprintf("/api/reservations/%d?user_id=%d", byLandlord.ReservationID, landlord)},
			app.ReservationJSON{Status: app.StatusCancelled, Reason: "临时有事", CancelledBy: landlord}},
		{"get unchecked", call{Method: "GET", Path: fmt.Sprintf("/api/reservations/%d", byTenant.ReservationID)},
			app.ReservationJSON{Status: app.StatusCancelled, Reason: "行程有变", CancelledBy: tenant}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got reservationReply
			mustJSON(t, srv, tt.c, http.StatusOK, &got)
			r := got.Reservation
			if diff := cmp.Diff(tt.want, app.ReservationJSON{Status: r.Status, Reason: r.Reason, CancelledBy: r.CancelledBy}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// remind sends type 4 to both parties; cancels notify the other party.
	count := func(user int64, typ app.MessageType) int {
		n := 0
		for _, m := range env.Messages(t, user) {
			if m.Type == typ {
				n++
			}
		}
		return n
	}
	got := map[string]int{
		"tenant rejected":    count(tenant, app.MsgReservationRejected),
		"tenant reminded":    count(tenant, app.MsgReservationReminder),
		"landlord reminded":  count(landlord, app.MsgReservationReminder),
		"tenant cancelled":   count(tenant, app.MsgReservationCancelled),
		"landlord cancelled": count(landlord, app.MsgReservationCancelled),
	}
	want := map[string]int{"tenant rejected": 1, "tenant reminded": 1, "landlord reminded": 1, "tenant cancelled": 1, "landlord cancelled": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// listPage is the body of GET /api/reservations.
type listPage struct {
	Reservations []app.ReservationJSON `json:"reservations"`
	Total        int                   `json:"total"`
	Page         int                   `json:"page"`
	PageSize     int                   `json:"page_size"`
}

func TestList(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{})
	var ids []int64
	for i := range 5 {
		ids = append(ids, mustReserve(t, env, srv, tenant, time.Duration(24+i)*time.Hour).ReservationID)
	}
	for _, id := range ids[:2] {
		mustJSON(t, srv, call{Method: "POST", Path: fmt.Sprintf("/api/reservations/%d/confirm", id), Body: map[string]any{"landlord_id": landlord}}, http.StatusOK, nil)
	}

	type summary struct {
		IDs                   []int64
		Total, Page, PageSize int
	}
	tests := []struct {
		query string
		want  summary
	}{
		{"user_id=1001", summary{[]int64{ids[4], ids[3], ids[2], ids[1], ids[0]}, 5, 1, 20}},
		{"user_id=1001&role=tenant&page=1&page_size=2", summary{[]int64{ids[4], ids[3]}, 5, 1, 2}},
		{"user_id=1001&page=3&page_size=2", summary{[]int64{ids[0]}, 5, 3, 2}},
		{"user_id=1001&page=4&page_size=2", summary{[]int64{}, 5, 4, 2}},
		{"user_id=1001&status=confirmed", summary{[]int64{ids[1], ids[0]}, 2, 1, 20}},
		{"user_id=2001&role=landlord&status=pending&page_size=1", summary{[]int64{ids[4]}, 3, 1, 1}},
		{"user_id=1002", summary{[]int64{}, 0, 1, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var got listPage
			mustJSON(t, srv, call{Method: "GET", Path: "/api/reservations?" + tt.query}, http.StatusOK, &got)
			s := summary{IDs: []int64{}, Total: got.Total, Page: got.Page, PageSize: got.PageSize}
			for _, r := range got.Reservations {
				s.IDs = append(s.IDs, r.ReservationID)
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
