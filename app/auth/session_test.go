package auth_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/jwtauth"
)

func TestRefreshAndExpiry(t *testing.T) {
	a := authenticator(app.AuthJWT, apiKey)
	exp := time.Now().Add(90 * time.Second).Truncate(time.Second)
	tok, err := jwtauth.Sign([]byte(secret), 1001, exp.Add(-time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caller, err := a.Authorize(auth.Subscribe, auth.Credentials{Bearer: tok})
	if err != nil || !caller.Expires().Equal(exp) {
		t.Fatalf("Authorize = %v, %v; want expiry %v", caller.Expires(), err, exp)
	}
	type result struct {
		Exp  int64
		Code string
	}
	tests := []struct {
		name  string
		mode  app.AuthMode
		token string
		want  result
	}{
		{"same user", app.AuthJWT, tok, result{Exp: exp.Unix()}},
		{"another user", app.AuthJWT, MustToken(t, 1002), result{Code: app.EPermissionDenied}},
		{"bad token", app.AuthJWT, "abc.def.ghi", result{Code: app.EUnauthenticated}},
		{"no token", app.AuthJWT, "", result{Code: app.EUnauthenticated}},
		{"api key", app.AuthJWT, apiKey, result{Code: app.EUnauthenticated}},
		{"insecure mode", app.AuthInsecure, tok, result{Code: app.EFailedPrecondition}},
	}
	for _, tt := range tests {
		got, err := authenticator(tt.mode, apiKey).Refresh(t.Context(), 1001, tt.token)
		r := result{Code: app.ErrorCode(err)}
		if err == nil {
			r.Exp = got.Unix()
		}
		if diff := cmp.Diff(tt.want, r); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if err := a.Admit(t.Context(), 1001); err != nil {
		t.Errorf("Admit without revocations: %v", err)
	}
}
