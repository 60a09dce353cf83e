package ws

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
	"github.com/houseview/gateway/pkg/protocol"
)

// pongFrame answers a ping.
var pongFrame = mustJSON(protocol.Pong{Event: protocol.EventPong})

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// decodeFrame parses and checks a client frame: a known action, for an
// ack a positive seq and an epoch that could be one, for a mark a known
// state and exactly one of seq, up_to and all. Its errors are
// invalid_argument, with the text of the error frame.
func decodeFrame(msg []byte) (protocol.ClientFrame, error) {
	var f protocol.ClientFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		return f, app.Errorf(app.EInvalidArgument, "frame is not a JSON object")
	}
	switch f.Action {
	case protocol.ActionAck:
		if f.Seq == nil || *f.Seq <= 0 {
			return f, app.Errorf(app.EInvalidArgument, "ack needs a positive seq")
		}
		if err := app.CheckEpoch(f.Epoch); err != nil {
			return f, err
		}
	case protocol.ActionMark:
		m := app.InboxMark{State: f.State, Epoch: f.Epoch, All: f.All, Seq: app.GivenSeq(f.Seq), UpTo: app.GivenSeq(f.UpTo)}
		if err := m.Check(); err != nil {
			return f, err
		}
	case protocol.ActionRefresh, protocol.ActionPing:
	default:
		return f, app.Errorf(app.EInvalidArgument, `unknown action; the client frames are {"action":"ack","seq":N}, `+
			`{"action":"mark","state":"read","seq":N}, {"action":"refresh","token":"JWT"} and {"action":"ping"}`)
	}
	return f, nil
}

// frameLimitError is the error frame that answers the first frame over
// the frame rate: it may be sent again after retry.
func frameLimitError(rate int, retry time.Duration) protocol.Error {
	ms := (retry + time.Millisecond - 1).Milliseconds() // rounded up: a client waiting this long is let through
	return protocol.Error{Event: protocol.EventError, Code: app.EResourceExhausted,
		Message: fmt.Sprintf("too many frames: at most %d pings, refreshes or other costly frames a second (acks of "+
			"delivered messages are free); this one was dropped, send it again after %d ms", rate, ms),
		Limit: protocol.LimitFrames, RetryAfterMS: ms}
}

// tokenSeed hashes tokens, so that a session keeps 8 bytes of its token.
var tokenSeed = maphash.MakeSeed()

func tokenSum(token string) uint64 {
	if token == "" {
		return 0
	}
	return maphash.String(tokenSeed, token)
}

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
