package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/jwtauth"
)

const (
	secret = "0123456789abcdef0123456789abcdef"
	apiKey = "server-api-key-0123456789"
)

// MustToken signs a real HS256 token for user.
func MustToken(tb testing.TB, user int64) string {
	tb.Helper()
	tok, err := jwtauth.Sign([]byte(secret), user, time.Now(), time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func authenticator(mode app.AuthMode, key string) *auth.Authenticator {
	opts := auth.Options{Mode: mode, APIKey: key, OperatorUser: "admin"}
	if mode == app.AuthJWT {
		opts.Verify = jwtauth.NewVerifier([]byte(secret), nil).Claims
	}
	return auth.New(opts)
}

// TestPolicy runs one credential of each kind against one operation of
// each access kind, in both modes: the table every transport consults.
func TestPolicy(t *testing.T) {
	creds := map[string]auth.Credentials{
		"none":       {},
		"user token": {Bearer: MustToken(t, 1001)},
		"bad token":  {Bearer: "abc.def.ghi"},
		"api key":    {Bearer: apiKey},
		"basic":      {BasicUser: "admin", BasicPassword: apiKey, HasBasic: true},
		"bad basic":  {BasicUser: "admin", BasicPassword: "guess", HasBasic: true},
	}
	ops := []auth.Operation{auth.Recommend, auth.Reserve, auth.Push, auth.Presence, auth.Operate, auth.Disconnect, auth.ListDevices}
	got := map[string]string{}
	for _, mode := range []app.AuthMode{app.AuthInsecure, app.AuthJWT} {
		a := authenticator(mode, apiKey)
		for name, cred := range creds {
			for _, op := range ops {
				_, err := a.Authorize(op, cred)
				result := "ok"
				if err != nil {
					result = app.ErrorCode(err)
				}
				got[fmt.Sprintf("%s %s %s", mode, op, name)] = result
			}
		}
	}
	const ok, unauth = "ok", app.EUnauthenticated
	want := map[string]string{}
	for name := range creds {
		// Insecure: public, user and presence take anything; push and
		// disconnect need the key; operator pages a loopback caller (this
		// one is not) or the key.
		for _, op := range []auth.Operation{auth.Recommend, auth.Reserve, auth.Presence, auth.ListDevices} {
			want[fmt.Sprintf("insecure %s %s", op, name)] = ok
		}
		want["insecure operate "+name] = app.EPermissionDenied
		for _, mode := range []string{"insecure", "jwt"} {
			want[mode+" push "+name] = unauth
			want[mode+" disconnect "+name] = unauth
		}
		want["jwt presence "+name] = unauth
		want["jwt operate "+name] = unauth
		want["jwt recommend "+name] = ok
		want["jwt reserve "+name], want["jwt list_devices "+name] = unauth, unauth
	}
	for _, mode := range []string{"insecure", "jwt"} {
		want[mode+" push api key"] = ok
		want[mode+" disconnect api key"] = ok
		want[mode+" operate api key"] = ok
	}
	want["jwt presence api key"] = ok
	want["jwt operate basic"] = ok
	want["jwt reserve user token"] = ok
	// A user manages their devices; a backend manages any user's.
	want["jwt list_devices user token"], want["jwt list_devices api key"] = ok, ok
	want["jwt recommend bad token"] = unauth // a token sent must be valid
	want["jwt reserve api key"] = unauth     // the API key is not a user token
	want["jwt recommend api key"] = unauth
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
}

func TestClosedWithoutAPIKey(t *testing.T) {
	a := authenticator(app.AuthJWT, "")
	for _, op := range []auth.Operation{auth.Push, auth.Presence, auth.Operate, auth.Disconnect} {
		if _, err := a.Authorize(op, auth.Credentials{Bearer: "anything"}); app.ErrorCode(err) != app.EPermissionDenied {
			t.Errorf("%s without an api_key: %v, want permission_denied", op, err)
		}
	}
}

func TestPolicyCoversEveryOperation(t *testing.T) {
	for op, access := range auth.Policy {
		if access < auth.Public || access > auth.UserOrServer {
			t.Errorf("operation %s has access %d", op, access)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an operation outside the policy was authorized")
		}
	}()
	_, _ = authenticator(app.AuthInsecure, "").Authorize("not-an-operation", auth.Credentials{})
}

func TestActorAndViewer(t *testing.T) {
	tests := []struct {
		mode             app.AuthMode
		token            int64 // 0: none
		claimed          int64
		want             int64
		code             string
		viewerWant       int64
		viewerWantsError bool
	}{
		{mode: app.AuthJWT, token: 5, claimed: 0, want: 5, viewerWant: 5},
		{mode: app.AuthJWT, token: 5, claimed: 5, want: 5, viewerWant: 5},
		{mode: app.AuthJWT, token: 5, claimed: 6, code: app.EPermissionDenied, viewerWantsError: true},
		{mode: app.AuthJWT, token: 5, claimed: -1, code: app.EInvalidArgument, viewerWantsError: true},
		{mode: app.AuthInsecure, claimed: 6, want: 6, viewerWant: 6},
		{mode: app.AuthInsecure, claimed: 0, code: app.EInvalidArgument, viewerWant: 0},
		{mode: app.AuthInsecure, claimed: -1, code: app.EInvalidArgument, viewerWantsError: true},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s token=%d claimed=%d", tt.mode, tt.token, tt.claimed)
		var cred auth.Credentials
		if tt.token != 0 {
			cred.Bearer = MustToken(t, tt.token)
		}
		caller, err := authenticator(tt.mode, "").Authorize(auth.Reserve, cred)
		if err != nil {
			t.Fatalf("%s: authorize: %v", name, err)
		}
		got, err := caller.Actor(tt.claimed, "user_id")
		if got != tt.want || app.ErrorCode(err) != tt.code {
			t.Errorf("Actor %s = %d, %v; want %d, %q", name, got, err, tt.want, tt.code)
		}
		v, err := caller.Viewer(tt.claimed, "user_id")
		if (err != nil) != tt.viewerWantsError || (err == nil && v != tt.viewerWant) {
			t.Errorf("Viewer %s = %d, %v; want %d (error %v)", name, v, err, tt.viewerWant, tt.viewerWantsError)
		}
	}
}

// TestServerActsForTheUserItNames: with the API key a UserOrServer
// operation acts for the user the request names (required), in both modes;
// a user's token still acts for its user only.
func TestServerActsForTheUserItNames(t *testing.T) {
	tests := []struct {
		mode    app.AuthMode
		bearer  string
		claimed int64
		want    string // "user N", or the error code
	}{
		{app.AuthJWT, apiKey, 7, "user 7"},
		{app.AuthJWT, apiKey, 0, app.EInvalidArgument},
		{app.AuthJWT, MustToken(t, 5), 0, "user 5"},
		{app.AuthJWT, MustToken(t, 5), 7, app.EPermissionDenied},
		{app.AuthInsecure, apiKey, 7, "user 7"},
		{app.AuthInsecure, apiKey, 0, app.EInvalidArgument},
		{app.AuthInsecure, "", 7, "user 7"},
	}
	for _, tt := range tests {
		caller, err := authenticator(tt.mode, apiKey).Authorize(auth.RegisterDevice, auth.Credentials{Bearer: tt.bearer})
		if err != nil {
			t.Fatalf("%s: authorize: %v", tt.mode, err)
		}
		user, err := caller.Actor(tt.claimed, "user_id")
		got := fmt.Sprintf("user %d", user)
		if err != nil {
			got = app.ErrorCode(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s bearer %.8s claimed %d (-want +got):\n%s", tt.mode, tt.bearer, tt.claimed, diff)
		}
		if key := tt.bearer == apiKey; caller.Server() != key {
			t.Errorf("%s: Server() = %v, want %v", tt.mode, caller.Server(), key)
		}
	}
	// The API key of a User operation is not a user's token.
	if _, err := authenticator(app.AuthJWT, apiKey).Authorize(auth.Reserve, auth.Credentials{Bearer: apiKey}); app.ErrorCode(err) != app.EUnauthenticated {
		t.Errorf("reserve with the api key: %v, want unauthenticated", err)
	}
	// Without a configured key nothing is the key.
	if _, err := authenticator(app.AuthJWT, "").Authorize(auth.ListDevices, auth.Credentials{Bearer: apiKey}); app.ErrorCode(err) != app.EUnauthenticated {
		t.Errorf("list_devices with a key but none configured: %v, want unauthenticated", err)
	}
}
