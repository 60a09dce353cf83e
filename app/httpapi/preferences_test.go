package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/push"
)

// prefsServer serves the REST API of mode with preferences over env's
// MySQL and Redis, and server push through the in-app filter.
func prefsServer(t *testing.T, env *apptest.Env, mode app.AuthMode) *httptest.Server {
	t.Helper()
	svc := preferences.New(env.Store, env.Redis, env.Keys.Preferences(), preferences.Options{})
	return newServer(t, env, httpapi.Options{Auth: authFor(mode, apiKey), Preferences: svc,
		Push: push.New(preferences.NewPublisher(env.Publisher, svc, nil), push.Options{})})
}

type prefsReply struct {
	Preferences app.Preferences `json:"preferences"`
}

// TestPreferences: the defaults, a full replacement read back (a channel
// left out of an entry is on), and a generic push that the user muted in
// the app: answered muted, not stored; another user's copy is delivered.
func TestPreferences(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := prefsServer(t, env, app.AuthInsecure)
	var got prefsReply
	mustJSON(t, srv, call{Method: "GET", Path: "/api/preferences?user_id=1001"}, http.StatusOK, &got)
	if diff := cmp.Diff(app.DefaultPreferences(tenant), got.Preferences, cmpopts.IgnoreUnexported(app.Preferences{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	mustJSON(t, srv, call{Method: "PUT", Path: "/api/preferences", Body: `{"user_id":1001,
		"types":{"push":{"in_app":false},"confirmed":{"push":false}},"time_zone":"Asia/Tokyo",
		"quiet_start":"22:00","quiet_end":"07:30","reminders_muted_for":[42,7,42]}`}, http.StatusOK, &got)
	want := app.Preferences{UserID: tenant, TimeZone: "Asia/Tokyo", QuietStart: "22:00", QuietEnd: "07:30", RemindersMutedFor: []int64{7, 42},
		Types: map[string]app.ChannelPreference{"push": {InApp: false, Push: true}, "confirmed": {InApp: true, Push: false}}}
	if err := want.Check(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Preferences, cmpopts.IgnoreUnexported(app.Preferences{})); diff != "" {
		t.Errorf("PUT answer (-want +got):\n%s", diff)
	}
	mustJSON(t, srv, call{Method: "GET", Path: "/api/preferences?user_id=1001"}, http.StatusOK, &got)
	if diff := cmp.Diff(want, got.Preferences, cmpopts.IgnoreUnexported(app.Preferences{})); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}

	var pushed pushReply
	mustJSON(t, srv, call{Method: "POST", Path: "/api/push", Token: apiKey, Body: map[string]any{
		"user_ids": []int64{tenant, landlord}, "title": "系统通知"}}, http.StatusOK, &pushed)
	if len(pushed.Results) != 2 || !pushed.Results[0].Muted || pushed.Results[0].Seq != 0 || pushed.Results[1].Muted || pushed.Results[1].Seq != 1 {
		t.Errorf("push results %+v, want the tenant's muted (seq 0), the landlord's delivered", pushed.Results)
	}
	if n := len(env.Messages(t, tenant)); n != 0 {
		t.Errorf("tenant has %d stored messages, want none (generic pushes muted in the app)", n)
	}
	if n := len(env.Messages(t, landlord)); n != 1 {
		t.Errorf("landlord has %d stored messages, want 1", n)
	}
	if r := mustDo(t, srv, call{Method: "POST", Path: "/api/push", Token: apiKey, Body: `{"user_ids":[2001],"title":"x"}`}); strings.Contains(string(r.Body), "muted") {
		t.Errorf("a delivered push's answer mentions muted: %s", r.Body)
	}
}

// TestPreferenceErrors: a bad document is 400 invalid_argument naming
// the field; who may read and write is as for devices.
func TestPreferenceErrors(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := prefsServer(t, env, app.AuthInsecure)
	jwt := prefsServer(t, env, app.AuthJWT)
	tok := mustToken(t, tenant)
	put := func(body string) call { return call{Method: "PUT", Path: "/api/preferences", Body: body} }
	tests := []struct {
		name  string
		srv   *httptest.Server
		c     call
		want  outcome
		field string
	}{
		{"unknown type", srv, put(`{"user_id":1001,"types":{"likes":{"in_app":false}}}`), outcome{400, app.EInvalidArgument}, "types"},
		{"bad time zone", srv, put(`{"user_id":1001,"time_zone":"Mars/Olympus"}`), outcome{400, app.EInvalidArgument}, "time_zone"},
		{"bad time of day", srv, put(`{"user_id":1001,"quiet_start":"25:00","quiet_end":"07:00"}`), outcome{400, app.EInvalidArgument}, "quiet_start"},
		{"time without minutes", srv, put(`{"user_id":1001,"quiet_start":"22","quiet_end":"07:00"}`), outcome{400, app.EInvalidArgument}, "quiet_start"},
		{"one bound", srv, put(`{"user_id":1001,"quiet_end":"07:00"}`), outcome{400, app.EInvalidArgument}, "quiet_start"},
		{"bad reservation", srv, put(`{"user_id":1001,"reminders_muted_for":[0]}`), outcome{400, app.EInvalidArgument}, "reminders_muted_for"},
		{"channel not a bool", srv, put(`{"user_id":1001,"types":{"push":{"push":"no"}}}`), outcome{400, app.EInvalidArgument}, "push"},
		{"no body", srv, put(""), outcome{400, app.EInvalidArgument}, ""},
		{"no user in insecure mode", srv, put(`{}`), outcome{400, app.EInvalidArgument}, "user_id"},
		{"get without a user", srv, call{Method: "GET", Path: "/api/preferences"}, outcome{400, app.EInvalidArgument}, "user_id"},
		{"jwt: no token", jwt, call{Method: "GET", Path: "/api/preferences"}, outcome{401, app.EUnauthenticated}, ""},
		{"jwt: another user's", jwt, call{Method: "GET", Path: "/api/preferences?user_id=1002", Token: tok}, outcome{403, app.EPermissionDenied}, ""},
		{"jwt: write another user's", jwt, call{Method: "PUT", Path: "/api/preferences", Token: tok, Body: `{"user_id":1002}`}, outcome{403, app.EPermissionDenied}, ""},
		{"jwt: own", jwt, call{Method: "GET", Path: "/api/preferences", Token: tok}, outcome{200, ""}, ""},
		{"jwt: write own", jwt, call{Method: "PUT", Path: "/api/preferences", Token: tok, Body: `{"time_zone":"Europe/Paris"}`}, outcome{200, ""}, ""},
		{"jwt: key without a user", jwt, call{Method: "GET", Path: "/api/preferences", Token: apiKey}, outcome{400, app.EInvalidArgument}, "user_id"},
		{"jwt: key names the user", jwt, call{Method: "PUT", Path: "/api/preferences", Token: apiKey, Body: `{"user_id":1002,"quiet_start":"23:00","quiet_end":"06:00"}`}, outcome{200, ""}, ""},
		{"insecure: key names the user", srv, call{Method: "GET", Path: "/api/preferences?user_id=1002", Token: apiKey}, outcome{200, ""}, ""},
	}
	for _, tt := range tests {
		r := mustDo(t, tt.srv, tt.c)
		if diff := cmp.Diff(tt.want, outcome{r.Status, r.errorCode()}); diff != "" {
			t.Errorf("%s (-want +got):\n%s\nbody: %.300s", tt.name, diff, r.Body)
		}
		if tt.field != "" && !strings.Contains(string(r.Body), tt.field) {
			t.Errorf("%s: the error %s does not name %s", tt.name, r.Body, tt.field)
		}
	}
	var got prefsReply
	mustJSON(t, jwt, call{Method: "GET", Path: "/api/preferences?user_id=1002", Token: apiKey}, http.StatusOK, &got)
	if got.Preferences.QuietStart != "23:00" || got.Preferences.TimeZone != "UTC" {
		t.Errorf("user 1002 = %+v, want quiet from 23:00 in UTC as the key set them", got.Preferences)
	}
	off := newServer(t, env, httpapi.Options{})
	if r := mustDo(t, off, call{Method: "GET", Path: "/api/preferences?user_id=1001"}); r.Status != 503 || r.errorCode() != app.EUnavailable {
		t.Errorf("without preferences: %d %s", r.Status, r.Body)
	}
}
