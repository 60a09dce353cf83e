package ws

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
)

// clientAddr is the address a handshake is counted against: the
// connection's remote host.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// resumeFrom reads the optional last_seq and epoch of a handshake. Without
// last_seq the session starts after the user's delivered cursor.
func resumeFrom(q url.Values) (app.Resume, error) {
	lastSeq, epoch := q.Get("last_seq"), q.Get("epoch")
	if lastSeq == "" {
		if epoch != "" {
			return app.Resume{}, app.Errorf(app.EInvalidArgument, "epoch needs last_seq")
		}
		return app.Resume{FromCursor: true}, nil
	}
	pos, err := app.ParsePosition(lastSeq, epoch, "last_seq")
	return app.Resume{After: pos}, err
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
