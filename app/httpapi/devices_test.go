package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/devices"
	"github.com/houseview/gateway/app/httpapi"
)

// deviceServer serves the REST API of mode with the device registry over
// env's MySQL, bounded to max devices per user.
func deviceServer(t *testing.T, env *apptest.Env, mode app.AuthMode, max int) *httptest.Server {
	t.Helper()
	return newServer(t, env, httpapi.Options{Auth: authFor(mode, apiKey),
		Devices: devices.New(env.Store, devices.Options{MaxPerUser: max})})
}

type deviceReply struct {
	Device app.Device `json:"device"`
}

// deviceTokens lists the tokens of the user the call names, in order.
func deviceTokens(t *testing.T, srv *httptest.Server, c call) []string {
	t.Helper()
	var got struct {
		Devices []app.Device `json:"devices"`
	}
	c.Method = "GET"
	mustJSON(t, srv, c, http.StatusOK, &got)
	tokens := []string{}
	for _, d := range got.Devices {
		tokens = append(tokens, string(d.Platform)+":"+d.Token)
	}
	return tokens
}

// TestDevices registers, lists and deletes in insecure mode (user_id in
// the body and the query): 201 then 200 for the same token, a token that
// moves to another user, the per-user bound, and 404 for another user's
// device.
func TestDevices(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := deviceServer(t, env, app.AuthInsecure, 3)
	register := func(user int64, platform, token string, status int) app.Device {
		t.Helper()
		var got deviceReply
		mustJSON(t, srv, call{Method: "POST", Path: "/api/devices", Body: map[string]any{"user_id": user,
			"platform": platform, "token": token, "app": "看房", "locale": "zh-CN"}}, status, &got)
		return got.Device
	}
	a := register(tenant, "fcm", "tok-a", http.StatusCreated)
	if a.ID == 0 || a.UserID != tenant || a.App != "看房" || a.Locale != "zh-CN" || a.CreatedAt.IsZero() {
		t.Errorf("registered %+v", a)
	}
	if again := register(tenant, "fcm", "tok-a", http.StatusOK); again.ID != a.ID {
		t.Errorf("the same token again: id %d, want %d", again.ID, a.ID)
	}
	register(tenant, "apns", "tok-b", http.StatusCreated)
	list := func(user int64) []string {
		return deviceTokens(t, srv, call{Path: fmt.Sprintf("/api/devices?user_id=%d", user)})
	}
	if diff := cmp.Diff([]string{"fcm:tok-a", "apns:tok-b"}, list(tenant)); diff != "" {
		t.Errorf("tenant's devices (-want +got):\n%s", diff)
	}

	// tok-a moves to tenant2 (same id): tenant no longer lists it nor may
	// delete it.
	if moved := register(tenant2, "fcm", "tok-a", http.StatusOK); moved.ID != a.ID || moved.UserID != tenant2 {
		t.Errorf("moved device %+v, want id %d of user %d", moved, a.ID, tenant2)
	}
	if diff := cmp.Diff([]string{"apns:tok-b"}, list(tenant)); diff != "" {
		t.Errorf("tenant's devices after the move (-want +got):\n%s", diff)
	}
	r := mustDo(t, srv, call{Method: "DELETE", Path: fmt.Sprintf("/api/devices/%d?user_id=%d", a.ID, tenant)})
	if got := (outcome{r.Status, r.errorCode()}); got != (outcome{404, app.ENotFound}) {
		t.Errorf("tenant deletes the moved device: %+v %s", got, r.Body)
	}
	r = mustDo(t, srv, call{Method: "DELETE", Path: fmt.Sprintf("/api/devices/%d?user_id=%d", a.ID, tenant2)})
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Errorf("tenant2 deletes its device: %d %s", r.Status, r.Body)
	}
	if diff := cmp.Diff([]string{}, list(tenant2)); diff != "" {
		t.Errorf("tenant2's devices after the delete (-want +got):\n%s", diff)
	}

	// The bound (3) evicts the least recently registered: registering
	// tok-b again makes j0 the oldest.
	register(tenant, "jpush", "j0", http.StatusCreated)
	register(tenant, "jpush", "j1", http.StatusCreated)
	register(tenant, "apns", "tok-b", http.StatusOK)
	register(tenant, "jpush", "j2", http.StatusCreated)
	if diff := cmp.Diff([]string{"apns:tok-b", "jpush:j1", "jpush:j2"}, list(tenant)); diff != "" {
		t.Errorf("tenant's devices over the bound (-want +got):\n%s", diff)
	}
}

// TestDeviceErrors: bad fields are 400 invalid_argument, and the user is
// required in insecure mode.
func TestDeviceErrors(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := deviceServer(t, env, app.AuthInsecure, 10)
	body := func(kv ...string) string {
		fields := []string{`"user_id":1001`, `"platform":"fcm"`, `"token":"tok"`}
		return "{" + strings.Join(append(fields, kv...), ",") + "}"
	}
	tests := []struct {
		name string
		c    call
		want outcome
	}{
		{"valid", call{Method: "POST", Path: "/api/devices", Body: body()}, outcome{201, ""}},
		{"unknown platform", call{Method: "POST", Path: "/api/devices", Body: body(`"platform":"wns"`)}, outcome{400, app.EInvalidArgument}},
		{"no platform", call{Method: "POST", Path: "/api/devices", Body: `{"user_id":1001,"token":"tok"}`}, outcome{400, app.EInvalidArgument}},
		{"no token", call{Method: "POST", Path: "/api/devices", Body: body(`"token":""`)}, outcome{400, app.EInvalidArgument}},
		{"token with a space", call{Method: "POST", Path: "/api/devices", Body: body(`"token":"a b"`)}, outcome{400, app.EInvalidArgument}},
		{"token not ASCII", call{Method: "POST", Path: "/api/devices", Body: body(`"token":"令牌"`)}, outcome{400, app.EInvalidArgument}},
		{"token too long", call{Method: "POST", Path: "/api/devices", Body: body(`"token":"` + strings.Repeat("x", app.MaxDeviceTokenBytes+1) + `"`)}, outcome{400, app.EInvalidArgument}},
		{"app on two lines", call{Method: "POST", Path: "/api/devices", Body: body(`"app":"a\nb"`)}, outcome{400, app.EInvalidArgument}},
		{"app too long", call{Method: "POST", Path: "/api/devices", Body: body(`"app":"` + strings.Repeat("房", app.MaxDeviceAppChars+1) + `"`)}, outcome{400, app.EInvalidArgument}},
		{"bad locale", call{Method: "POST", Path: "/api/devices", Body: body(`"locale":"zh CN"`)}, outcome{400, app.EInvalidArgument}},
		{"token not a string", call{Method: "POST", Path: "/api/devices", Body: `{"user_id":1001,"platform":"fcm","token":5}`}, outcome{400, app.EInvalidArgument}},
		{"no body", call{Method: "POST", Path: "/api/devices"}, outcome{400, app.EInvalidArgument}},
		{"not JSON", call{Method: "POST", Path: "/api/devices", Body: `{"platform":`}, outcome{400, app.EInvalidArgument}},
		{"body too large", call{Method: "POST", Path: "/api/devices", Body: body(`"app":"` + strings.Repeat("x", httpapi.DefaultMaxBodyBytes) + `"`)}, outcome{413, app.EResourceExhausted}},
		{"no user in insecure mode", call{Method: "POST", Path: "/api/devices", Body: `{"platform":"fcm","token":"tok"}`}, outcome{400, app.EInvalidArgument}},
		{"list without a user", call{Method: "GET", Path: "/api/devices"}, outcome{400, app.EInvalidArgument}},
		{"list with a bad user", call{Method: "GET", Path: "/api/devices?user_id=01001"}, outcome{400, app.EInvalidArgument}},
		{"delete a bad id", call{Method: "DELETE", Path: "/api/devices/x?user_id=1001"}, outcome{400, app.EInvalidArgument}},
		{"delete a missing device", call{Method: "DELETE", Path: "/api/devices/999999?user_id=1001"}, outcome{404, app.ENotFound}},
		{"delete without a user", call{Method: "DELETE", Path: "/api/devices/1"}, outcome{400, app.EInvalidArgument}},
	}
	for _, tt := range tests {
		r := mustDo(t, srv, tt.c)
		if diff := cmp.Diff(tt.want, outcome{r.Status, r.errorCode()}); diff != "" {
			t.Errorf("%s (-want +got):\n%s\nbody: %.300s", tt.name, diff, r.Body)
		}
	}
	// Without a registry the routes answer 503.
	off := newServer(t, env, httpapi.Options{})
	if r := mustDo(t, off, call{Method: "GET", Path: "/api/devices?user_id=1001"}); r.Status != 503 || r.errorCode() != app.EUnavailable {
		t.Errorf("without a registry: %d %s", r.Status, r.Body)
	}
}

// TestDevicePermissions: in jwt mode a user manages only their own
// devices; the server API key manages any user's, naming the user (in both
// modes).
func TestDevicePermissions(t *testing.T) {
	env := apptest.MustEnv(t)
	srv := deviceServer(t, env, app.AuthJWT, 10)
	insecure := deviceServer(t, env, app.AuthInsecure, 10)
	tok, other := mustToken(t, tenant), mustToken(t, tenant2)
	var own deviceReply
	mustJSON(t, srv, call{Method: "POST", Path: "/api/devices", Token: tok, Body: `{"platform":"apns","token":"mine"}`}, http.StatusCreated, &own)
	var viaKey deviceReply
	mustJSON(t, srv, call{Method: "POST", Path: "/api/devices", Token: apiKey, Body: `{"user_id":1002,"platform":"fcm","token":"theirs"}`}, http.StatusCreated, &viaKey)
	del := func(id int64, q string) string { return fmt.Sprintf("/api/devices/%d%s", id, q) }
	tests := []struct {
		name string
		srv  *httptest.Server
		c    call
		want outcome
	}{
		{"no token", srv, call{Method: "GET", Path: "/api/devices"}, outcome{401, app.EUnauthenticated}},
		{"bad token", srv, call{Method: "GET", Path: "/api/devices", Token: "abc.def.ghi"}, outcome{401, app.EUnauthenticated}},
		{"no token on register", srv, call{Method: "POST", Path: "/api/devices", Body: `{"user_id":1001,"platform":"fcm","token":"x"}`}, outcome{401, app.EUnauthenticated}},
		{"register for another user", srv, call{Method: "POST", Path: "/api/devices", Token: tok, Body: `{"user_id":1002,"platform":"fcm","token":"x"}`}, outcome{403, app.EPermissionDenied}},
		{"list another user's", srv, call{Method: "GET", Path: "/api/devices?user_id=1002", Token: tok}, outcome{403, app.EPermissionDenied}},
		{"delete another user's", srv, call{Method: "DELETE", Path: del(viaKey.Device.ID, ""), Token: tok}, outcome{404, app.ENotFound}},
		{"delete naming another user", srv, call{Method: "DELETE", Path: del(viaKey.Device.ID, "?user_id=1002"), Token: tok}, outcome{403, app.EPermissionDenied}},
		{"list own", srv, call{Method: "GET", Path: "/api/devices", Token: tok}, outcome{200, ""}},
		{"key without a user", srv, call{Method: "GET", Path: "/api/devices", Token: apiKey}, outcome{400, app.EInvalidArgument}},
		{"key lists any user's", srv, call{Method: "GET", Path: "/api/devices?user_id=1001", Token: apiKey}, outcome{200, ""}},
		{"key deletes for the wrong user", srv, call{Method: "DELETE", Path: del(own.Device.ID, "?user_id=1002"), Token: apiKey}, outcome{404, app.ENotFound}},
		{"insecure: key registers", insecure, call{Method: "POST", Path: "/api/devices", Token: apiKey, Body: `{"user_id":1003,"platform":"jpush","token":"k"}`}, outcome{201, ""}},
		{"insecure: key lists", insecure, call{Method: "GET", Path: "/api/devices?user_id=1003", Token: apiKey}, outcome{200, ""}},
		{"key deletes any user's", srv, call{Method: "DELETE", Path: del(own.Device.ID, "?user_id=1001"), Token: apiKey}, outcome{204, ""}},
		{"owner deletes own", srv, call{Method: "DELETE", Path: del(viaKey.Device.ID, ""), Token: other}, outcome{204, ""}},
	}
	for _, tt := range tests {
		r := mustDo(t, tt.srv, tt.c)
		if diff := cmp.Diff(tt.want, outcome{r.Status, r.errorCode()}); diff != "" {
			t.Errorf("%s (-want +got):\n%s\nbody: %.300s", tt.name, diff, r.Body)
		}
	}
	if diff := cmp.Diff([]string{}, deviceTokens(t, srv, call{Path: "/api/devices", Token: tok})); diff != "" {
		t.Errorf("user %d's devices at the end (-want +got):\n%s", tenant, diff)
	}
}
