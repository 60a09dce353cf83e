package ws

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/houseview/gateway/app"
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

// decodeFrame parses and checks a client frame: a known action, and for
// an ack a positive seq and an epoch that could be one. Its errors are
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
	case protocol.ActionRefresh, protocol.ActionPing:
	default:
		return f, app.Errorf(app.EInvalidArgument, `unknown action; the client frames are {"action":"ack","seq":N}, {"action":"refresh","token":"JWT"} and {"action":"ping"}`)
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
