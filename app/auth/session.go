package auth

import (
	"context"
	"time"

	"github.com/houseview/gateway/app"
)

// Revocations keep, per user, until when new sessions and token refreshes
// are refused (POST /api/users/{id}/disconnect with "until").
type Revocations interface {
	// RevokedUntil returns the time user's sessions are refused until;
	// zero (or a past time) when they are not.
	RevokedUntil(ctx context.Context, user int64) (time.Time, error)
}

// Admit decides whether user may open a session now (a WebSocket
// handshake, after Authorize and Actor): not while the user is revoked.
// The errors are EPermissionDenied (revoked) and EUnavailable (the
// revocations cannot be read: refused rather than let through).
func (a *Authenticator) Admit(ctx context.Context, user int64) error {
	if a.opts.Revocations == nil {
		return nil
	}
	until, err := a.opts.Revocations.RevokedUntil(ctx, user)
	if err != nil {
		return app.Errorf(app.EUnavailable, "cannot check the user's revocation now; try again")
	}
	return AdmitUntil(user, until)
}

// AdmitUntil is Admit with the user's revocation already read (with
// another command of the same round trip): EPermissionDenied while until
// is ahead.
func AdmitUntil(user int64, until time.Time) error {
	if time.Now().Before(until) {
		return app.Errorf(app.EPermissionDenied, "user %d is revoked until %d (unix seconds)", user, until.Unix())
	}
	return nil
}

// Refresh verifies a token that a live session of user presents to extend
// itself, and returns its expiry. It must be a valid token of the same
// user, and the user must not be revoked. In insecure mode sessions have
// no tokens to refresh: EFailedPrecondition.
func (a *Authenticator) Refresh(ctx context.Context, user int64, token string) (time.Time, error) {
	if a.opts.Mode != app.AuthJWT {
		return time.Time{}, app.Errorf(app.EFailedPrecondition, "insecure mode: sessions have no token to refresh")
	}
	if token == "" {
		return time.Time{}, errNoToken
	}
	claims, err := a.opts.Verify(token)
	if err != nil || claims.User <= 0 {
		return time.Time{}, errBadToken
	}
	if claims.User != user {
		return time.Time{}, app.Errorf(app.EPermissionDenied, "the token is for another user than the session's")
	}
	if err := a.Admit(ctx, user); err != nil {
		return time.Time{}, err
	}
	return claims.Expires, nil
}
