package push

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/houseview/gateway/app"
)

// CheckAPIKey checks the bearer token of a push request against the
// server's API key, in constant time. Without a configured key server push
// is disabled: app.EPermissionDenied. A missing or wrong token is
// app.EUnauthenticated (a user's token is simply a wrong one).
func CheckAPIKey(key, token string) error {
	if key == "" {
		return app.Errorf(app.EPermissionDenied, "no api_key configured: server push is disabled")
	}
	if token == "" {
		return app.Errorf(app.EUnauthenticated, "missing api key bearer token")
	}
	// Hashing first makes the time independent of the lengths too.
	want, got := sha256.Sum256([]byte(key)), sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return app.Errorf(app.EUnauthenticated, "invalid api key")
	}
	return nil
}
