package ws

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/httperr"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// authenticate returns the user a handshake speaks for (auth.Subscribe),
// when its token expires (zero in insecure mode) and the token's sum
// (tokenSum): the token (?token= or Authorization: Bearer) decides in jwt
// mode, the user_id parameter in insecure mode.
func (h *Hub) authenticate(ctx context.Context, r *http.Request) (int64, time.Time, uint64, error) {
	q := r.URL.Query()
	tok := q.Get("token")
	if tok == "" {
		tok = jwtauth.BearerToken(r.Header.Get("Authorization"))
	}
	caller, err := h.opts.Auth.Authorize(auth.Subscribe, auth.Credentials{Bearer: tok})
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	var claimed int64
	if v := q.Get("user_id"); v != "" {
		if claimed, err = app.ParseUserID(v, "user_id"); err != nil {
			return 0, time.Time{}, 0, err
		}
	}
	user, err := caller.Actor(claimed, "user_id")
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	if caller.Expires().IsZero() {
		return user, time.Time{}, 0, nil
	}
	return user, caller.Expires(), tokenSum(tok), nil
}

// resumePosition reads the optional last_seq and epoch of a handshake.
// Without last_seq the session starts after the user's delivered cursor
// (Seq -1).
func resumePosition(q url.Values) (app.Position, error) {
	lastSeq, epoch := q.Get("last_seq"), q.Get("epoch")
	if lastSeq == "" {
		if epoch != "" {
			return app.Position{}, app.Errorf(app.EInvalidArgument, "epoch needs last_seq")
		}
		return app.Position{Seq: -1}, nil
	}
	return app.ParsePosition(lastSeq, epoch, "last_seq")
}

// ackMode reads the optional ack parameter: ack=1 (or true) declares that
// the client acknowledges what it processed, so that only its acks advance
// the user's delivered cursor from the first message on. Without it, the
// first ack frame switches the session to that mode.
func ackMode(q url.Values) (bool, error) {
	switch q.Get("ack") {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, app.Errorf(app.EInvalidArgument, "ack must be 1 or 0")
}

// originChecker allows requests without Origin (non-browser clients), from
// the request's own host, and from the allowed list ("*" allows any).
func originChecker(allowed []string) func(*http.Request) bool {
	set := map[string]bool{}
	for _, o := range allowed {
		set[strings.TrimRight(strings.ToLower(strings.TrimSpace(o)), "/")] = true
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" || set["*"] || set[strings.ToLower(origin)] {
			return true
		}
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}

// refuseUpgrade answers a handshake that gorilla refuses (a foreign
// origin, a request that is not an upgrade) in the error format.
func refuseUpgrade(w http.ResponseWriter, r *http.Request, status int, reason error) {
	err := app.Errorf(app.EInvalidArgument, "%s", reason.Error())
	if status == http.StatusForbidden {
		err = app.Errorf(app.EPermissionDenied, "origin %q is not allowed", r.Header.Get("Origin"))
	}
	httperr.Write(w, httperr.WithStatus(status, err))
}
