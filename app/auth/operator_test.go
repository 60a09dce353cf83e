package auth_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
)

// TestOperatorAccess walks where a request comes from (loopback or not),
// whether a browser marked it cross-site, and its credentials, in both
// modes.
func TestOperatorAccess(t *testing.T) {
	creds := map[string]auth.Credentials{
		"none":      {},
		"api key":   {Bearer: apiKey},
		"basic":     {BasicUser: "admin", BasicPassword: apiKey, HasBasic: true},
		"bad basic": {BasicUser: "admin", BasicPassword: "guess", HasBasic: true},
	}
	got := map[string]string{}
	for _, mode := range []app.AuthMode{app.AuthInsecure, app.AuthJWT} {
		a := authenticator(mode, apiKey)
		for name, cred := range creds {
			for _, loopback := range []bool{false, true} {
				for _, cross := range []bool{false, true} {
					cred.Loopback, cred.CrossSite = loopback, cross
					_, err := a.Authorize(auth.Operate, cred)
					result := "ok"
					if err != nil {
						result = app.ErrorCode(err)
					}
					got[fmt.Sprintf("%s %s loopback=%v cross-site=%v", mode, name, loopback, cross)] = result
				}
			}
		}
	}
	want := map[string]string{}
	for k := range got {
		want[k] = app.EPermissionDenied
	}
	for _, loopback := range []bool{false, true} {
		for _, cross := range []bool{false, true} {
			// The API key is never cached by a browser: it passes always.
			want[fmt.Sprintf("insecure api key loopback=%v cross-site=%v", loopback, cross)] = "ok"
			want[fmt.Sprintf("jwt api key loopback=%v cross-site=%v", loopback, cross)] = "ok"
			// jwt mode: bad or missing credentials are 401 wherever from.
			want[fmt.Sprintf("jwt none loopback=%v cross-site=%v", loopback, cross)] = app.EUnauthenticated
			want[fmt.Sprintf("jwt bad basic loopback=%v cross-site=%v", loopback, cross)] = app.EUnauthenticated
			// Basic credentials: same-site only.
			if !cross {
				want[fmt.Sprintf("jwt basic loopback=%v cross-site=false", loopback)] = "ok"
			}
		}
	}
	// Insecure mode: loopback, same-site, whatever else is sent.
	for _, name := range []string{"none", "basic", "bad basic"} {
		want[fmt.Sprintf("insecure %s loopback=true cross-site=false", name)] = "ok"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operator access (-want +got):\n%s", diff)
	}
}
