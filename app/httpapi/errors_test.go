package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
)

// outcome is what the error tables compare.
type outcome struct {
	Status int
	Code   string
}

func TestBadInput(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{})
	at := env.ReserveTime(24 * time.Hour)
	var pending reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: "/house/reserve", Body: reserveBody(tenant, at)}, http.StatusCreated, &pending)
	p := pending.Reservation.ReservationID
	rejected := mustReserve(t, env, srv, tenant, 30*time.Hour).ReservationID
	mustJSON(t, srv, call{Method: "POST", Path: fmt.Sprintf("/api/reservations/%d/reject", rejected), Body: map[string]any{"landlord_id": landlord}}, http.StatusOK, nil)

	reserve := func(change func(map[string]any)) call {
		b := reserveBody(tenant, env.ReserveTime(40*time.Hour))
		change(b)
		return call{Method: "POST", Path: "/house/reserve", Body: b}
	}
	act := func(id int64, verb string, body any) call {
		return call{Method: "POST", Path: fmt.Sprintf("/api/reservations/%d/%s", id, verb), Body: body}
	}
	get := func(path string) call { return call{Method: "GET", Path: path} }
	huge := `{"user_name":"` + strings.Repeat("x", httpapi.DefaultMaxBodyBytes) + `"}`
	const (
		bad       = app.EInvalidArgument
		notFound  = app.ENotFound
		forbidden = app.EPermissionDenied
	)

	tests := []struct {
		name string
		c    call
		want outcome
	}{
		// Bodies.
		{"bad JSON", call{Method: "POST", Path: "/house/reserve", Body: `{"user_id":`}, outcome{400, bad}},
		{"not an object", call{Method: "POST", Path: "/house/reserve", Body: `[1,2]`}, outcome{400, bad}},
		{"trailing data", call{Method: "POST", Path: "/house/reserve", Body: `{} {}`}, outcome{400, bad}},
		{"empty body", call{Method: "POST", Path: "/house/reserve"}, outcome{400, bad}},
		{"wrong type user_id", reserve(func(b map[string]any) { b["user_id"] = "1001" }), outcome{400, bad}},
		{"wrong type house_id", reserve(func(b map[string]any) { b["house_id"] = 3001.5 }), outcome{400, bad}},
		{"wrong type landlord_id", act(p, "confirm", `{"landlord_id":"2001"}`), outcome{400, bad}},
		{"wrong type reason", act(p, "cancel", `{"user_id":1001,"reason":7}`), outcome{400, bad}},
		{"missing house_id", reserve(func(b map[string]any) { delete(b, "house_id") }), outcome{400, bad}},
		{"missing user_id", reserve(func(b map[string]any) { delete(b, "user_id") }), outcome{400, bad}},
		{"missing user_name", reserve(func(b map[string]any) { b["user_name"] = " " }), outcome{400, bad}},
		{"missing reserve_time", reserve(func(b map[string]any) { delete(b, "reserve_time") }), outcome{400, bad}},
		{"negative house_id", reserve(func(b map[string]any) { b["house_id"] = -1 }), outcome{400, bad}},
		{"past reserve_time", reserve(func(b map[string]any) { b["reserve_time"] = env.ReserveTime(-time.Hour) }), outcome{400, bad}},
		{"bad reserve_time", reserve(func(b map[string]any) { b["reserve_time"] = "tomorrow" }), outcome{400, bad}},
		{"wrong landlord", reserve(func(b map[string]any) { b["landlord_id"] = 2002 }), outcome{400, bad}},
		{"confirm without caller", act(p, "confirm", nil), outcome{400, bad}},
		{"cancel without caller", act(p, "cancel", `{}`), outcome{400, bad}},
		{"over-size body, Content-Length", call{Method: "POST", Path: "/house/reserve", Body: huge}, outcome{413, app.EResourceExhausted}},
		{"over-size body, chunked", call{Method: "POST", Path: "/house/reserve", Body: io.MultiReader(strings.NewReader(huge))}, outcome{413, app.EResourceExhausted}},
		// Paths and queries.
		{"non-numeric id", call{Method: "POST", Path: "/api/reservations/abc/confirm"}, outcome{400, bad}},
		{"non-numeric id get", get("/api/reservations/abc"), outcome{400, bad}},
		{"negative id", get("/api/reservations/-3"), outcome{400, bad}},
		{"non-numeric user_id", get("/api/reservations?user_id=abc"), outcome{400, bad}},
		{"list without user_id", get("/api/reservations"), outcome{400, bad}},
		{"negative page", get("/api/reservations?user_id=1001&page=-1"), outcome{400, bad}},
		{"page beyond the bound", get("/api/reservations?user_id=1001&page=1000001"), outcome{400, bad}},
		{"page_size over max", get("/api/reservations?user_id=1001&page_size=101"), outcome{400, bad}},
		{"unknown role", get("/api/reservations?user_id=1001&role=admin"), outcome{400, bad}},
		{"unknown status", get("/api/reservations?user_id=1001&status=done"), outcome{400, bad}},
		{"non-numeric min_price", get("/house/recommend?min_price=cheap"), outcome{400, bad}},
		{"min_price over max_price", get("/house/recommend?min_price=5000&max_price=1000"), outcome{400, bad}},
		{"negative rooms", get("/house/recommend?rooms=-1"), outcome{400, bad}},
		{"personal without user_id", get("/house/personal-recommend"), outcome{400, bad}},
		// The service's refusals.
		{"unknown reservation", get("/api/reservations/999999999"), outcome{404, notFound}},
		{"confirm unknown reservation", act(999999999, "confirm", map[string]any{"landlord_id": landlord}), outcome{404, notFound}},
		{"unknown house", reserve(func(b map[string]any) { b["house_id"] = 999999; delete(b, "landlord_id"); delete(b, "house_title") }), outcome{404, notFound}},
		{"duplicate booking", call{Method: "POST", Path: "/house/reserve", Body: reserveBody(tenant, at)}, outcome{409, app.EAlreadyExists}},
		{"confirm rejected", act(rejected, "confirm", map[string]any{"landlord_id": landlord}), outcome{409, app.EFailedPrecondition}},
		{"remind pending", act(p, "remind", map[string]any{"user_id": tenant}), outcome{409, app.EFailedPrecondition}},
		{"tenant confirms", act(p, "confirm", map[string]any{"landlord_id": tenant}), outcome{403, forbidden}},
		{"stranger cancels", act(p, "cancel", map[string]any{"user_id": tenant2}), outcome{403, forbidden}},
		{"stranger reads", get(fmt.Sprintf("/api/reservations/%d?user_id=%d", p, tenant2)), outcome{403, forbidden}},
		// Routing.
		{"wrong method", get("/house/reserve"), outcome{405, bad}},
		{"wrong method on id", call{Method: "DELETE", Path: fmt.Sprintf("/api/reservations/%d", p)}, outcome{405, bad}},
		{"unknown route", get("/house/nope"), outcome{404, notFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDo(t, srv, tt.c)
			if diff := cmp.Diff(tt.want, outcome{r.Status, r.errorCode()}); diff != "" {
				t.Errorf("(-want +got):\n%s\nbody: %.300s", diff, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
		})
	}

	// Nothing above changed the pending reservation.
	var got reservationReply
	mustJSON(t, srv, get(fmt.Sprintf("/api/reservations/%d", p)), http.StatusOK, &got)
	if got.Reservation.Status != app.StatusPending {
		t.Errorf("status %q after the refusals, want pending", got.Reservation.Status)
	}
	if r := mustDo(t, srv, get("/house/reserve")); r.Header.Get("Allow") != "POST" {
		t.Errorf("405 Allow = %q, want POST", r.Header.Get("Allow"))
	}
}
