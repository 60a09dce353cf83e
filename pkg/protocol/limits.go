package protocol

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
	{"`ping`", false, "answered `pong`"},
	{"`ack` that raises nothing (repeated, lower, of another epoch) or of a seq never sent", false,
		"ignored, or an error frame for a seq never sent"},
	{"a frame that is not JSON, an unknown action, a binary frame", false, "an error frame"},
}
