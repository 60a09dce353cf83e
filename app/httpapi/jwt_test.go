package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
)

func TestJWT(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, "")})
	tenantTok, landlordTok, strangerTok := mustToken(t, tenant), mustToken(t, landlord), mustToken(t, tenant2)

	// The tenant books with the insecure mode's body (user_id matches the token).
	var created reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: "/house/reserve", Token: tenantTok,
		Body: reserveBody(tenant, env.ReserveTime(24*time.Hour))}, http.StatusCreated, &created)
	id := created.Reservation.ReservationID
	if created.Reservation.UserID != tenant {
		t.Fatalf("tenant %d, want %d", created.Reservation.UserID, tenant)
	}
	// The body may leave user_id out: the token names the tenant.
	noUser := reserveBody(0, env.ReserveTime(25*time.Hour))
	delete(noUser, "user_id")
	var second reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: "/house/reserve", Token: tenantTok, Body: noUser}, http.StatusCreated, &second)
	if second.Reservation.UserID != tenant {
		t.Errorf("token-only booking: tenant %d, want %d", second.Reservation.UserID, tenant)
	}

	path := func(verb string) string { return fmt.Sprintf("/api/reservations/%d/%s", id, verb) }
	tests := []struct {
		name string
		c    call
		want outcome
	}{
		{"missing token", call{Method: "POST", Path: "/house/reserve", Body: reserveBody(tenant, env.ReserveTime(26*time.Hour))}, outcome{401, app.EUnauthenticated}},
		{"bad token", call{Method: "POST", Path: "/house/reserve", Token: "abc.def.ghi", Body: reserveBody(tenant, env.ReserveTime(26*time.Hour))}, outcome{401, app.EUnauthenticated}},
		{"token for another user", call{Method: "POST", Path: "/house/reserve", Token: tenantTok, Body: reserveBody(tenant2, env.ReserveTime(26*time.Hour))}, outcome{403, app.EPermissionDenied}},
		{"missing token on get", call{Method: "GET", Path: fmt.Sprintf("/api/reservations/%d", id)}, outcome{401, app.EUnauthenticated}},
		{"missing token on list", call{Method: "GET", Path: "/api/reservations"}, outcome{401, app.EUnauthenticated}},
		{"missing token on personal", call{Method: "GET", Path: "/house/personal-recommend"}, outcome{401, app.EUnauthenticated}},
		{"missing token on confirm", call{Method: "POST", Path: path("confirm")}, outcome{401, app.EUnauthenticated}},
		{"tenant confirms", call{Method: "POST", Path: path("confirm"), Token: tenantTok}, outcome{403, app.EPermissionDenied}},
		{"landlord_id of another user", call{Method: "POST", Path: path("confirm"), Token: tenantTok, Body: `{"landlord_id":2001}`}, outcome{403, app.EPermissionDenied}},
		{"stranger reads", call{Method: "GET", Path: fmt.Sprintf("/api/reservations/%d", id), Token: strangerTok}, outcome{403, app.EPermissionDenied}},
		{"stranger lists another user", call{Method: "GET", Path: "/api/reservations?user_id=1001", Token: strangerTok}, outcome{403, app.EPermissionDenied}},
		{"recommend is public", call{Method: "GET", Path: "/house/recommend"}, outcome{200, ""}},
		{"personal with token", call{Method: "GET", Path: "/house/personal-recommend", Token: tenantTok}, outcome{200, ""}},
		{"tenant reads", call{Method: "GET", Path: fmt.Sprintf("/api/reservations/%d", id), Token: tenantTok}, outcome{200, ""}},
		{"tenant lists", call{Method: "GET", Path: "/api/reservations", Token: tenantTok}, outcome{200, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDo(t, srv, tt.c)
			if diff := cmp.Diff(tt.want, outcome{r.Status, r.errorCode()}); diff != "" {
				t.Errorf("(-want +got):\n%s\nbody: %.300s", diff, r.Body)
			}
			if r.Status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// The landlord confirms with an empty body: the token names the caller.
	var confirmed reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: path("confirm"), Token: landlordTok}, http.StatusOK, &confirmed)
	if confirmed.Reservation.Status != app.StatusConfirmed {
		t.Errorf("status %q, want confirmed", confirmed.Reservation.Status)
	}
	// And the tenant cancels with an empty JSON object.
	var cancelled reservationReply
	mustJSON(t, srv, call{Method: "POST", Path: path("cancel"), Token: tenantTok, Body: `{}`}, http.StatusOK, &cancelled)
	if cancelled.Reservation.CancelledBy != tenant {
		t.Errorf("cancelled_by %d, want %d", cancelled.Reservation.CancelledBy, tenant)
	}
}
