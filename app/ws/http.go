package ws

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// authenticate returns the user a handshake speaks for.
func (h *Hub) authenticate(r *http.Request) (int64, error) {
	q := r.URL.Query()
	if h.opts.AuthMode == app.AuthJWT {
		tok := q.Get("token")
		if tok == "" {
			tok = jwtauth.BearerToken(r.Header.Get("Authorization"))
		}
		if tok == "" {
			return 0, app.Errorf(app.EUnauthenticated, "missing token: pass ?token=JWT or Authorization: Bearer JWT")
		}
		user, err := h.opts.Verify(tok)
		if err != nil {
			return 0, app.Errorf(app.EUnauthenticated, "invalid token")
		}
		claimed, _ := strconv.ParseInt(q.Get("user_id"), 10, 64)
		return app.Actor(h.opts.AuthMode, user, claimed, "user_id")
	}
	claimed, err := strconv.ParseInt(q.Get("user_id"), 10, 64)
	if err != nil || claimed <= 0 {
		return 0, app.Errorf(app.EUnauthenticated, "user_id is required and must be a positive integer")
	}
	return claimed, nil
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
	n, err := strconv.ParseInt(lastSeq, 10, 64)
	if err != nil || n < 0 {
		return app.Position{}, app.Errorf(app.EInvalidArgument, "last_seq must be a non-negative integer")
	}
	if !validEpoch(epoch) {
		return app.Position{}, app.Errorf(app.EInvalidArgument, "epoch must be 1 to %d letters or digits", maxEpochLen)
	}
	return app.Position{Epoch: epoch, Seq: n}, nil
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

// maxEpochLen bounds a client's epoch; the gateway's are at most 13
// characters of [0-9a-z].
const maxEpochLen = 32

// validEpoch reports whether e is empty (not given) or could be an epoch.
func validEpoch(e string) bool {
	if len(e) > maxEpochLen {
		return false
	}
	for i := 0; i < len(e); i++ {
		if b := e[i]; !(b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
			return false
		}
	}
	return true
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

var httpStatus = map[string]int{
	app.EInvalidArgument:  http.StatusBadRequest,
	app.EUnauthenticated:  http.StatusUnauthorized,
	app.EPermissionDenied: http.StatusForbidden,
	app.EUnavailable:      http.StatusServiceUnavailable,
}

func writeAppError(w http.ResponseWriter, err error) {
	code := app.ErrorCode(err)
	status, ok := httpStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeError(w, status, code, app.ErrorMessage(err))
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
