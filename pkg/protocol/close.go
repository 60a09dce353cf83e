package protocol

import (
	"time"
)

// Close codes the server sends, and 1006, which a client sees when a
// connection breaks without a close frame.
const (
	CloseGoingAway       = 1001 // the node is draining
	CloseAbnormal        = 1006 // no close frame: the connection broke (never sent by the server)
	CloseTooBig          = 1009 // a client frame over the size limit
	CloseTryAgain        = 1013 // the node cannot reach Redis right now
	CloseSlowConsumer    = 4000 // the send queue stayed full
	CloseTokenExpired    = 4001 // the token expired without a refresh
	CloseBehindHistory   = 4002 // the session fell out of the stored history while catching up
	CloseRevoked         = 4003 // an operator disconnected the user
	CloseTooManySessions = 4008 // the user opened more sessions than allowed; this was the oldest
	CloseRateLimited     = 4029 // the client kept sending costly frames over the limit
)

// Advice is what a client does when a session ends with a close code.
type Advice string

// The advices.
const (
	// Resume: reconnect after the advised backoff, with the position.
	Resume Advice = "resume"
	// ResumeNow: reconnect at once (the next URL), with the position; after
	// a session that never opened, the backoff as for Resume.
	ResumeNow Advice = "resume_now"
	// FreshToken: get a fresh token and reconnect at once with it and the
	// position; a client without a token source stops.
	FreshToken Advice = "fresh_token"
	// ResumeLate: wait the advised maximum backoff, then reconnect with the
	// position (a handshake refused meanwhile says until when).
	ResumeLate Advice = "resume_late"
	// Stop: do not reconnect.
	Stop Advice = "stop"
)

// CloseCode is one close code: what it means and what a client does.
type CloseCode struct {
	Code    int
	Name    string // the client's error code for it, and the metric reason
	Reason  string // the text of the server's close frame ("" for 1009, which the WebSocket library sends)
	Meaning string
	Advice  Advice
	// Error: a client reports this close to its user as an error (Name is
	// its code); the others are routine (a drain, a broken network).
	Error bool
}

// CloseCodes is every close code a client may see, in order.
var CloseCodes = []CloseCode{
	{CloseGoingAway, "draining", "node shutting down, reconnect with last_seq",
		"the node is draining (SIGTERM); its sessions are closed spread over `ws.drain_window`", ResumeNow, false},
	{CloseAbnormal, "connection_lost", "",
		"no close frame: the connection broke, timed out, or was given up by the client (never sent by the server)", Resume, false},
	{CloseTooBig, "frame_too_big", "",
		"a client frame was larger than `ws.max_message_bytes`", ResumeLate, true},
	{CloseTryAgain, "try_again", "cannot reach Redis, try again later",
		"the node cannot reach Redis right now", Resume, false},
	{CloseSlowConsumer, "slow_consumer", "slow consumer, resume with last_seq",
		"slow consumer: the session's send queue stayed full for `ws.slow_timeout`", Resume, false},
	{CloseTokenExpired, "token_expired", "token expired",
		"the token's `exp` passed without a refresh", FreshToken, false},
	{CloseBehindHistory, "behind_history", "behind the stored history, resume with last_seq",
		"while catching up, the session fell behind the stored history (more than `history.size` messages, or older than `history.ttl`); the resume says `truncated`", Resume, false},
	{CloseRevoked, "revoked", "revoked",
		"an operator disconnected the user (`POST /api/users/{id}/disconnect`); handshakes may be refused until the operator's `until`", ResumeLate, true},
	{CloseTooManySessions, "too_many_sessions", "too many sessions",
		"the user opened more than `limits.sessions_per_user` sessions and this was the oldest", Stop, true},
	{CloseRateLimited, "rate_limited", "rate limited: too many frames",
		"the client kept sending costly frames after an error frame told it to wait (see [Limits](#limits))", Resume, true},
}

// Close returns the close code's entry, or one with Advice Resume for a
// code this version does not know (a newer server's, or 1000).
func Close(code int) CloseCode {
	for _, c := range CloseCodes {
		if c.Code == code {
			return c
		}
	}
	return CloseCode{Code: code, Name: "closed", Advice: Resume}
}

// HandshakeStatus is an HTTP status of a refused handshake: what it means
// and whether a client tries again.
type HandshakeStatus struct {
	Status  int
	Meaning string
	// Retry: try again after the backoff (a 429's Retry-After when longer);
	// TokenRetry: try again only with a token source (a new token may be
	// accepted); neither: stop.
	Retry, TokenRetry bool
}

// HandshakeStatuses are the refusals of a handshake, answered before the
// upgrade in the REST error format.
var HandshakeStatuses = []HandshakeStatus{
	{400, "a bad parameter (`user_id` in insecure mode, `last_seq`, `epoch`, `ack`)", false, false},
	{401, "jwt mode: no token, or a bad or expired one", false, true},
	{403, "a token of another user, a revoked user (until the operator's `until`), or a browser origin that is not allowed", false, false},
	{429, "a limit (`Retry-After` says when to try again)", true, false},
	{503, "the node is draining or cannot reach Redis: try the next URL", true, false},
}

// Attempt is what a client knows when a session or a handshake ended.
type Attempt struct {
	Code        int           // the close code (CloseAbnormal without a close frame)
	Status      int           // the HTTP status of a refused handshake (0: not refused)
	RetryAfter  time.Duration // a 429's Retry-After
	WasOpen     bool          // the session had received its connected frame
	Attempts    int           // reconnects since the last connected frame
	Advice      Reconnect     // the server's advice (DefaultReconnect before any)
	TokenSource bool          // the client can get a fresh token
	Random      float64       // a random number in [0, 1), for the jitter
}

// Decision is what a client does next.
type Decision struct {
	Reconnect bool
	Delay     time.Duration
	// NewToken: ask the token source before reconnecting.
	NewToken bool
	// Resume: reconnect with the position the client processed last,
	// (epoch, last_seq). Every reconnect does.
	Resume bool
}

// Decide is the one rule of reconnecting: after a close code or a refused
// handshake, reconnect or stop, after which delay, with which position.
func Decide(a Attempt) Decision {
	if a.Advice.MaxMS <= 0 {
		a.Advice = DefaultReconnect
	}
	backoff := Backoff(a.Advice, a.Attempts, a.Random)
	next := Decision{Reconnect: true, Delay: backoff, Resume: true, NewToken: a.TokenSource}
	if a.Status != 0 {
		for _, s := range HandshakeStatuses {
			if s.Status != a.Status {
				continue
			}
			if !s.Retry && !(s.TokenRetry && a.TokenSource) {
				return Decision{}
			}
			next.Delay = max(next.Delay, a.RetryAfter)
			return next
		}
		return next // a status this version does not know: keep trying
	}
	switch Close(a.Code).Advice {
	case ResumeNow:
		if a.WasOpen {
			next.Delay = 0
		}
	case FreshToken:
		if !a.TokenSource {
			return Decision{}
		}
		next.Delay = 0
	case ResumeLate:
		next.Delay = jittered(time.Duration(a.Advice.MaxMS)*time.Millisecond, a.Advice.Jitter, a.Random)
	case Stop:
		return Decision{}
	}
	return next
}

// Backoff is min(max, base·2^attempt) scaled by a factor in [1-jitter, 1]
// (random in [0, 1)).
func Backoff(r Reconnect, attempt int, random float64) time.Duration {
	ceiling := float64(r.MaxMS)
	if attempt < 40 {
		ceiling = min(ceiling, float64(r.BaseMS)*float64(int64(1)<<attempt))
	}
	return jittered(time.Duration(ceiling*float64(time.Millisecond)), r.Jitter, random)
}

func jittered(d time.Duration, jitter, random float64) time.Duration {
	return time.Duration(float64(d) * (1 - jitter*random)).Round(time.Millisecond)
}

// Defaults of the limits a client meets (each is a setting of the gateway;
// docs/configuration.md names them).
const (
	// DefaultFrameRate is limits.client_frames_per_second: the costly
	// frames (FrameCosts) a session may send per second, in bursts of as
	// many.
	DefaultFrameRate = 20
	// DefaultMaxFrameBytes is ws.max_message_bytes: the largest client
	// frame (a refresh frame carries a token: an RS256 one is 0.5-1 KB).
	DefaultMaxFrameBytes = 4096
	// DefaultSessionsPerUser is limits.sessions_per_user.
	DefaultSessionsPerUser = 10
)

// LimitFrames is the Limit of an error frame that refused a frame over the
// frame rate.
const LimitFrames = "frames"

// FrameCost says what a client frame costs against the frame rate.
type FrameCost struct {
	Frame string // the frame, as docs/protocol.md names it
	Free  bool   // never counted
	Note  string // when it is sent and what the server does
}

// FrameCosts are every client frame and whether the frame rate counts it.
// A frame over the rate is not handled: it is answered with an error frame
// (code resource_exhausted, limit "frames", retry_after_ms) and dropped;
// a session that sends another DefaultFrameRate counted frames before
// retry_after_ms passed is closed with 4029.
var FrameCosts = []FrameCost{
	{"`ack` that raises the session's acknowledged seq (at most the last seq sent)", true,
		"ack every message or batch them: only the highest ack matters"},
	{"`refresh` with the token the session already has, the first time", true,
		"answered `refreshed` with the unchanged `exp`"},
	{"`refresh` with a new token, or the session's own again", false,
		"verified; answered `refreshed` (never with an earlier `exp`) or an error frame"},
	{"`mark` whose `seq` (or `up_to`; for `all` the newest seq sent) is above the highest this session marked with that state", true,
		"mark each message as it is shown or opened: every session of the user gets `inbox`"},
	{"`ping`", false, "answered `pong`"},
	{"any other `mark` (repeated, of an older message), or one refused", false,
		"a refused one is answered with an error frame"},
	{"`ack` that raises nothing (repeated, lower, of another epoch) or of a seq never sent", false,
		"ignored, or an error frame for a seq never sent"},
	{"a frame that is not JSON, an unknown action, a binary frame", false, "an error frame"},
}

// The token refresh rule, the same in every client. A session in jwt mode
// ends at its token's exp (close 4001) unless the client sends a fresh
// token of the same user in a refresh frame before then.
//
//   - Refresh once RefreshDelay has passed since the session learnt its exp
//     (from connected or refreshed): halfway through what is left, or
//     RefreshLead before exp when that is later. Never earlier.
//   - Send each token once. When the token source hands back the token the
//     session already has (a caching source), do not send it: ask again
//     after RefreshDelay from then, which halves what is left each time,
//     and give up when less than MinRefreshLeft remains (the session then
//     ends with 4001 and the client reconnects at once with a new token).
//   - A refresh that does not extend the session is answered with the
//     unchanged exp; the client follows that exp by the same rule.
const (
	// RefreshLead is how long before exp a client with a long-lived token
	// refreshes it.
	RefreshLead = 30 * time.Second
	// MinRefreshLeft: with less than this left, a client does not refresh.
	MinRefreshLeft = time.Second
)

// RefreshDelay returns how long after now a client refreshes a session
// whose token expires at exp, by the rule above with lead (RefreshLead
// when 0); ok is false when less than MinRefreshLeft is left.
func RefreshDelay(now, exp time.Time, lead time.Duration) (d time.Duration, ok bool) {
	if lead <= 0 {
		lead = RefreshLead
	}
	left := exp.Sub(now)
	if left < MinRefreshLeft {
		return 0, false
	}
	return left - min(lead, left/2), true
}
