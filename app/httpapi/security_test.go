package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/redis/coord"
	"github.com/houseview/gateway/app/reservation"
)

// TestEveryUserRouteNeedsAToken walks the REST route table: in jwt mode
// every route of a User operation refuses a request without a token, and
// every route the engine serves is in the table (none escapes the policy;
// HEAD is served as its GET, and refuses as GET does).
func TestEveryUserRouteNeedsAToken(t *testing.T) {
	env := apptest.MustEnv(t)
	e := httpapi.NewHandler(env.Service, httpapi.Options{Auth: authFor(app.AuthJWT, apiKey)})
	srv := serve(t, e)
	ops := httpapi.Operations()
	for _, r := range e.Routes() {
		key := r.Method + " " + r.Path
		if r.Method == http.MethodHead {
			key = "GET " + r.Path
		}
		if _, ok := ops[key]; !ok && r.Path != "/healthz" && r.Path != "/readyz" {
			t.Errorf("route %s is not in the route table", key)
		}
	}
	users := 0
	for key, op := range ops {
		if !auth.Policy[op].NamesUser() {
			continue
		}
		users++
		method, path, _ := strings.Cut(key, " ")
		r := mustDo(t, srv, call{Method: method, Path: strings.ReplaceAll(path, ":id", "1"), Body: `{}`})
		if r.Status != http.StatusUnauthorized || r.errorCode() != app.EUnauthenticated {
			t.Errorf("%s (%s) without a token: %d %s", key, op, r.Status, r.Body)
		}
		if method == http.MethodGet {
			if r := mustDo(t, srv, call{Method: http.MethodHead, Path: strings.ReplaceAll(path, ":id", "1")}); r.Status != http.StatusUnauthorized {
				t.Errorf("HEAD %s (%s) without a token: %d", path, op, r.Status)
			}
		}
	}
	if users < 8 {
		t.Errorf("only %d User routes walked", users)
	}
}

func TestDisconnectEndpoint(t *testing.T) {
	env := apptest.MustEnv(t)
	rev := coord.NewRevocations(redis.New(env.Redis, env.Keys), time.Second)
	srv := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, apiKey), Sessions: rev})
	closed := newServer(t, env, httpapi.Options{Auth: authFor(app.AuthJWT, ""), Sessions: rev})
	until := time.Now().Add(time.Hour).Unix()
	path := "/api/users/1001/disconnect"
	tests := []struct {
		name string
		srv  string
		c    call
		want string
	}{
		{"no key", "srv", call{Method: "POST", Path: path}, `401 unauthenticated`},
		{"user token", "srv", call{Method: "POST", Path: path, Token: mustToken(t, 1001)}, `401 unauthenticated`},
		{"no api key configured", "closed", call{Method: "POST", Path: path, Token: apiKey}, `403 permission_denied`},
		{"bad id", "srv", call{Method: "POST", Path: "/api/users/x/disconnect", Token: apiKey}, `400 invalid_argument`},
		{"bad until", "srv", call{Method: "POST", Path: path, Token: apiKey, Body: `{"until":-5}`}, `400 invalid_argument`},
		{"until too far", "srv", call{Method: "POST", Path: path, Token: apiKey, Body: fmt.Sprintf(`{"until":%d}`, until+400*86400)}, `400 invalid_argument`},
		{"nobody online", "srv", call{Method: "POST", Path: path, Token: apiKey}, `200 {"closed":0,"nodes":0}`},
		{"with until", "srv", call{Method: "POST", Path: path, Token: apiKey, Body: fmt.Sprintf(`{"until":%d}`, until)}, fmt.Sprintf(`200 {"closed":0,"nodes":0,"until":%d}`, until)},
		{"until past", "srv", call{Method: "POST", Path: "/api/users/1002/disconnect", Token: apiKey, Body: `{"until":1000}`}, `200 {"closed":0,"nodes":0}`},
		{"id with a sign", "srv", call{Method: "POST", Path: "/api/users/+1001/disconnect", Token: apiKey}, `400 invalid_argument`},
		{"lift without a key", "srv", call{Method: "DELETE", Path: "/api/users/1003/revocation"}, `401 unauthenticated`},
		{"lift with a user token", "srv", call{Method: "DELETE", Path: "/api/users/1003/revocation", Token: mustToken(t, 1003)}, `401 unauthenticated`},
		{"lift a revocation", "srv", call{Method: "POST", Path: "/api/users/1003/disconnect", Token: apiKey, Body: fmt.Sprintf(`{"until":%d}`, until)}, fmt.Sprintf(`200 {"closed":0,"nodes":0,"until":%d}`, until)},
		{"lifted", "srv", call{Method: "DELETE", Path: "/api/users/1003/revocation", Token: apiKey}, `200 {"lifted":true}`},
		{"nothing to lift", "srv", call{Method: "DELETE", Path: "/api/users/1003/revocation", Token: apiKey}, `200 {"lifted":false}`},
		{"lift a bad id", "srv", call{Method: "DELETE", Path: "/api/users/01003/revocation", Token: apiKey}, `400 invalid_argument`},
	}
	for _, tt := range tests {
		s := srv
		if tt.srv == "closed" {
			s = closed
		}
		r := mustDo(t, s, tt.c)
		got := strconv.Itoa(r.Status) + " " + r.errorCode()
		if r.Status == http.StatusOK {
			got = strconv.Itoa(r.Status) + " " + string(r.Body)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if u, err := rev.RevokedUntil(t.Context(), 1001); err != nil || u.Unix() != until {
		t.Errorf("user 1001 revoked until %v, %v; want %d", u, err, until)
	}
	for _, user := range []int64{1002, 1003} {
		if u, _ := rev.RevokedUntil(t.Context(), user); !u.IsZero() {
			t.Errorf("user %d revoked until %v", user, u)
		}
	}
}

// limitedService is the real service with per-user limits over Redis.
func limitedService(env *apptest.Env, reserve, remind int) *reservation.Service {
	lim := coord.NewRateLimiter(redis.New(env.Redis, env.Keys), coord.RateLimiterOptions{Rates: map[string]coord.Rate{
		reservation.LimitReserve: {Count: reserve, Per: time.Minute},
		reservation.LimitRemind:  {Count: remind, Per: time.Minute},
	}})
	return reservation.New(env.Store, env.Publisher, reservation.Options{Limiter: lim})
}

// TestRESTLimits: a tenant's reservations and reminders per minute, over
// REST: 429 with Retry-After, and the landlord's history holds only the
// reminders allowed.
func TestRESTLimits(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := serve(t, httpapi.NewHandler(limitedService(env, 2, 3), httpapi.Options{Auth: authFor(app.AuthInsecure, "")}))
	var statuses []int
	var first app.ReservationJSON
	for i := range 3 {
		var got reservationReply
		r := mustDo(t, srv, call{Method: "POST", Path: "/house/reserve", Body: reserveBody(tenant, env.ReserveTime(time.Duration(24+i)*time.Hour))})
		statuses = append(statuses, r.Status)
		if i == 0 {
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			first = got.Reservation
		}
		if r.Status == http.StatusTooManyRequests {
			if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 || s > 60 || r.errorCode() != app.EResourceExhausted {
				t.Errorf("429 with Retry-After %q and code %q", r.Header.Get("Retry-After"), r.errorCode())
			}
		}
	}
	// Another tenant is not limited by the first one's bookings.
	r := mustDo(t, srv, call{Method: "POST", Path: "/house/reserve", Body: reserveBody(tenant2, env.ReserveTime(30*time.Hour))})
	statuses = append(statuses, r.Status)
	mustJSON(t, srv, call{Method: "POST", Path: fmt.Sprintf("/api/reservations/%d/confirm", first.ReservationID),
		Body: map[string]any{"landlord_id": landlord}}, http.StatusOK, nil)
	for range 5 {
		r := mustDo(t, srv, call{Method: "POST", Path: fmt.Sprintf("/api/reservations/%d/remind", first.ReservationID),
			Body: map[string]any{"user_id": tenant}})
		statuses = append(statuses, r.Status)
	}
	want := []int{201, 201, 429, 201, 200, 200, 200, 429, 429}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	reminders := slices.DeleteFunc(env.Messages(t, landlord), func(n app.Notification) bool { return n.Type != app.MsgReservationReminder })
	if len(reminders) != 3 {
		t.Errorf("landlord's stored reminders: %d, want 3", len(reminders))
	}
}
